from django.contrib import admin
from django.urls import include, path

from appointments.views import portal as booking_portal
from cinrella import auth_views, views

urlpatterns = [
    path("favicon.ico", views.favicon),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("staff/login/", auth_views.StaffLoginView.as_view(), name="staff-login"),
    path("staff/otp/", auth_views.otp_step, name="staff-otp"),
    path("staff/logout/", auth_views.staff_logout, name="staff-logout"),
    path("staff/", views.staff_home, name="staff-home"),
    # The booking portal is the public home page of the portal (appointments app).
    path("book/", booking_portal.choose_service, name="portal-home"),
    path("admin/", admin.site.urls),
    # Each app declares its own full paths (/staff/…, /book/…, /webhooks/…, /privacy/…).
    path("", include("patients.urls")),
    path("", include("appointments.urls")),
    path("", include("consents.urls")),
    path("", include("messaging.urls")),
    path("", include("payments.urls")),
    path("", include("privacy.urls")),
]
