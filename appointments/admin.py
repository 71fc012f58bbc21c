"""Admin for the clinic's scheduling set-up. Appointments show ids only for the patient (no PHI
in list pages); the patient record itself is managed by the patients app."""

from django.contrib import admin

from appointments.models import (
    Appointment,
    BookingRequest,
    Closure,
    Location,
    OpeningHours,
    Provider,
    Room,
    RoomType,
    Service,
    TimeOff,
    WorkingHours,
)


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    extra = 0


class ClosureInline(admin.TabularInline):
    model = Closure
    extra = 0


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["name", "phone", "time_zone", "free_cancellation_hours"]
    inlines = [OpeningHoursInline, ClosureInline]


@admin.register(RoomType)
class RoomTypeAdmin(admin.ModelAdmin):
    list_display = ["name"]


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ["name", "location", "room_type", "active"]
    list_filter = ["location", "room_type", "active"]


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["name", "category", "duration_minutes", "price_cents", "deposit_cents", "online_bookable", "active"]
    list_filter = ["category", "online_bookable", "active"]
    filter_horizontal = ["room_types"]


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    extra = 0


class TimeOffInline(admin.TabularInline):
    model = TimeOff
    extra = 0


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = ["display_name", "user", "active"]
    filter_horizontal = ["services"]
    inlines = [WorkingHoursInline, TimeOffInline]


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    list_display = ["id", "starts_at", "location", "provider", "service", "room", "status", "source", "patient_id"]
    list_filter = ["status", "source", "location", "provider"]
    date_hierarchy = "starts_at"
    raw_id_fields = ["patient"]
    readonly_fields = ["blocked_range", "created_at", "updated_at", "cancelled_at"]
    list_select_related = ["location", "provider", "service", "room"]


@admin.register(BookingRequest)
class BookingRequestAdmin(admin.ModelAdmin):
    """Proof of what was chosen on the portal: read-only."""

    list_display = [
        "id",
        "appointment_id",
        "sms_transactional",
        "sms_marketing",
        "privacy_policy_version",
        "created_at",
    ]
    exclude = ["sms_phone"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
