from django.urls import path

from privacy import views_portal, views_public, views_staff

urlpatterns = [
    # public (§8, §12)
    path("privacy/", views_public.policy, name="privacy-policy"),
    path("privacy/v<int:number>/", views_public.policy, name="privacy-policy-version"),
    path("privacy/cookies/", views_public.cookie_settings, name="privacy-cookies"),
    # patient portal (§7, §10)
    path("book/account/sign-in/", views_portal.sign_in, name="privacy-portal-sign-in"),
    path("book/account/code/", views_portal.enter_code, name="privacy-portal-code"),
    path("book/account/sign-out/", views_portal.sign_out, name="privacy-portal-sign-out"),
    path("book/account/", views_portal.home, name="privacy-portal-home"),
    path("book/account/policy/accept/", views_portal.accept_policy, name="privacy-portal-accept-policy"),
    path("book/account/records/", views_portal.records, name="privacy-portal-records"),
    path("book/account/correction/", views_portal.correction, name="privacy-portal-correction"),
    path("book/account/deletion/", views_portal.deletion_request, name="privacy-portal-deletion"),
    path("book/account/marketing-opt-out/", views_portal.marketing_opt_out, name="privacy-portal-opt-out"),
    path("book/account/disclosures/", views_portal.disclosures, name="privacy-portal-disclosures"),
    path("book/account/access-history/", views_portal.access_history, name="privacy-portal-access-history"),
    # staff (managers)
    path("staff/privacy/", views_staff.overview, name="privacy-staff-home"),
    path("staff/privacy/requests/", views_staff.request_queue, name="privacy-staff-requests"),
    path("staff/privacy/requests/<int:pk>/", views_staff.request_detail, name="privacy-staff-request"),
    path("staff/privacy/retention/", views_staff.retention_schedule, name="privacy-staff-retention"),
    path("staff/privacy/retention/runs/<int:pk>/", views_staff.run_detail, name="privacy-staff-run"),
    path("staff/privacy/holds/", views_staff.legal_holds, name="privacy-staff-holds"),
    path("staff/privacy/holds/<int:pk>/lift/", views_staff.lift_hold, name="privacy-staff-lift-hold"),
    path(
        "staff/privacy/patients/<int:patient_id>/guardian/",
        views_staff.guardian_consent,
        name="privacy-staff-guardian",
    ),
    path("staff/privacy/disclosures.csv", views_staff.export_disclosures, name="privacy-staff-export-disclosures"),
]
