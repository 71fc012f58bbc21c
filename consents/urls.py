from django.urls import path

from consents.views import portal, staff

urlpatterns = [
    # staff
    path("staff/consents/appointment/<int:appointment_id>/", staff.appointment_consents, name="consents-appointment"),
    path("staff/consents/patient/<int:patient_id>/", staff.patient_consents, name="consents-patient"),
    path("staff/consents/patient/<int:patient_id>/link/", staff.make_portal_link, name="consents-portal-link"),
    path("staff/consents/sign/<int:patient_id>/<slug:template_slug>/", staff.staff_sign, name="consents-staff-sign"),
    path("staff/consents/signature/<int:signature_id>/pdf/", staff.staff_signature_pdf, name="consents-signature-pdf"),
    path("staff/consents/signature/<int:signature_id>/revoke/", staff.staff_revoke, name="consents-revoke"),
    path("staff/patients/<int:patient_id>/sms-consent/", staff.staff_sms_consent, name="consents-sms-status"),
    path("staff/consents/sms-proof/", staff.sms_proof_export, name="consents-sms-proof"),
    # patient portal (signed, expiring links; no PHI in the URL)
    path("book/consents/<str:token>/", portal.portal_consents, name="consents-portal-list"),
    path("book/consents/<str:token>/sign/<slug:template_slug>/", portal.portal_sign, name="consents-portal-sign"),
    path(
        "book/consents/<str:token>/signature/<int:signature_id>/pdf/",
        portal.portal_signature_pdf,
        name="consents-portal-pdf",
    ),
    path(
        "book/consents/<str:token>/signature/<int:signature_id>/revoke/",
        portal.portal_revoke,
        name="consents-portal-revoke",
    ),
    path("book/preferences/<str:token>/", portal.sms_preferences, name="consents-sms-preferences"),
    path("book/preferences/<str:token>/code/", portal.sms_phone_code, name="consents-sms-phone-code"),
]
