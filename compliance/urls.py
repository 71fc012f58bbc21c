from django.urls import path

from compliance.views import portal, staff

# URL names keep their `privacy-` prefix: they are the privacy pages people know, wherever the code lives.
urlpatterns = [
    # patient portal (§7, §10)
    path("book/account/sign-in/", portal.sign_in, name="privacy-portal-sign-in"),
    path("book/account/code/", portal.enter_code, name="privacy-portal-code"),
    path("book/account/sign-out/", portal.sign_out, name="privacy-portal-sign-out"),
    path("book/account/", portal.home, name="privacy-portal-home"),
    path("book/account/policy/accept/", portal.accept_policy, name="privacy-portal-accept-policy"),
    path("book/account/records/", portal.records, name="privacy-portal-records"),
    path("book/account/correction/", portal.correction, name="privacy-portal-correction"),
    path("book/account/deletion/", portal.deletion_request, name="privacy-portal-deletion"),
    path("book/account/marketing-opt-out/", portal.marketing_opt_out, name="privacy-portal-opt-out"),
    path("book/account/disclosures/", portal.disclosures, name="privacy-portal-disclosures"),
    path("book/account/access-history/", portal.access_history, name="privacy-portal-access-history"),
    # staff (managers; front desk for guardian consent)
    path("staff/privacy/", staff.overview, name="privacy-staff-home"),
    path("staff/privacy/requests/", staff.request_queue, name="privacy-staff-requests"),
    path("staff/privacy/requests/<int:pk>/", staff.request_detail, name="privacy-staff-request"),
    path("staff/privacy/retention/", staff.retention_schedule, name="privacy-staff-retention"),
    path("staff/privacy/retention/runs/<int:pk>/", staff.run_detail, name="privacy-staff-run"),
    path("staff/privacy/holds/", staff.legal_holds, name="privacy-staff-holds"),
    path("staff/privacy/holds/<int:pk>/lift/", staff.lift_hold, name="privacy-staff-lift-hold"),
    path("staff/privacy/patients/<int:patient_id>/guardian/", staff.guardian_consent, name="privacy-staff-guardian"),
    path("staff/privacy/disclosures.csv", staff.export_disclosures, name="privacy-staff-export-disclosures"),
]
