from django.contrib import admin
from django.urls import include, path

from appointments.views import portal as booking_portal
from appointments.views import staff as appointments_staff
from cinrella.views import public, staff

urlpatterns = [
    path("favicon.ico", public.favicon),
    path("healthz", public.healthz, name="healthz"),
    path("readyz", public.readyz, name="readyz"),
    path("staff/login/", staff.StaffLoginView.as_view(), name="staff-login"),
    path("staff/otp/", staff.otp_step, name="staff-otp"),
    path("staff/logout/", staff.staff_logout, name="staff-logout"),
    path("staff/", appointments_staff.staff_home, name="staff-home"),
    # The booking portal is the public home page of the portal (appointments app).
    path("book/", booking_portal.choose_service, name="portal-home"),
    path("admin/", admin.site.urls),
    # Each app declares its own full paths (/staff/…, /book/…, /webhooks/…, /privacy/…).
    path("", include("patients.urls")),
    path("", include("appointments.urls")),
    path("", include("consents.urls")),
    path("", include("messaging.urls")),
    path("", include("payments.urls")),
    path("", include("inventory.urls")),
    path("", include("checkout.urls")),
    path("", include("privacy.urls")),
    path("", include("compliance.urls")),
    path("", include("operations.urls")),
]
