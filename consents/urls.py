from django.urls import path

from consents.views import staff as views

urlpatterns = [
    # staff
    path("staff/consents/appointment/<int:appointment_id>/", views.appointment_consents, name="consents-appointment"),
    path("staff/consents/patient/<int:patient_id>/", views.patient_consents, name="consents-patient"),
    path("staff/consents/patient/<int:patient_id>/link/", views.make_portal_link, name="consents-portal-link"),
    path("staff/consents/sign/<int:patient_id>/<slug:template_slug>/", views.staff_sign, name="consents-staff-sign"),
    path("staff/consents/signature/<int:signature_id>/pdf/", views.staff_signature_pdf, name="consents-signature-pdf"),
    path("staff/consents/signature/<int:signature_id>/revoke/", views.staff_revoke, name="consents-revoke"),
    path("staff/patients/<int:patient_id>/sms-consent/", views.staff_sms_consent, name="consents-sms-status"),
    path("staff/consents/sms-proof/", views.sms_proof_export, name="consents-sms-proof"),
    # patient portal (signed, expiring links; no PHI in the URL)
    path("book/consents/<str:token>/", views.portal_consents, name="consents-portal-list"),
    path("book/consents/<str:token>/sign/<slug:template_slug>/", views.portal_sign, name="consents-portal-sign"),
    path(
        "book/consents/<str:token>/signature/<int:signature_id>/pdf/",
        views.portal_signature_pdf,
        name="consents-portal-pdf",
    ),
    path(
        "book/consents/<str:token>/signature/<int:signature_id>/revoke/",
        views.portal_revoke,
        name="consents-portal-revoke",
    ),
    path("book/preferences/<str:token>/", views.sms_preferences, name="consents-sms-preferences"),
]
