from django.urls import path, re_path

from appointments.views import portal, staff

urlpatterns = [
    # Staff calendar
    path("staff/calendar/", staff.day_view, name="appointments-day"),
    path("staff/calendar/week/", staff.week_view, name="appointments-week"),
    path("staff/appointments/new/", staff.create_appointment, name="appointments-new"),
    path("staff/appointments/<int:pk>/reschedule/", staff.reschedule_appointment, name="appointments-reschedule"),
    path("staff/appointments/<int:pk>/move/", staff.move_appointment, name="appointments-move"),
    path(
        "staff/appointments/<int:pk>/identity-confirmed/",
        staff.confirm_booking_identity,
        name="appointments-identity-confirmed",
    ),
    # Only the known actions: other apps hang pages under /staff/appointments/<id>/ too.
    re_path(
        r"^staff/appointments/(?P<pk>[0-9]+)/(?P<action>confirm|check-in|complete|no-show|cancel)/$",
        staff.appointment_action,
        name="appointments-action",
    ),
    # Patient portal
    path("book/", portal.choose_service, name="appointments-portal"),
    path("book/details/", portal.details_step, name="appointments-portal-details"),
    path("book/confirm/", portal.confirm_step, name="appointments-portal-confirm"),
    path("book/done/<str:token>/", portal.done, name="appointments-portal-done"),
    path("book/manage/<str:token>/", portal.manage, name="appointments-portal-manage"),
    path("book/manage/<str:token>/calendar.ics", portal.calendar_file, name="appointments-portal-ics"),
    path("book/manage/<str:token>/cancel/", portal.cancel, name="appointments-portal-cancel"),
    path("book/manage/<str:token>/reschedule/", portal.reschedule, name="appointments-portal-reschedule"),
    path("book/<int:service_id>/", portal.choose_provider, name="appointments-portal-provider"),
    path("book/<int:service_id>/<str:who>/", portal.choose_time, name="appointments-portal-time"),
]
