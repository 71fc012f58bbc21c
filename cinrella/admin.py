from django.contrib import admin

from cinrella.models import Heartbeat, PeriodicJob, SecurityEvent


@admin.register(SecurityEvent)
class SecurityEventAdmin(admin.ModelAdmin):
    list_display = ["at", "kind", "username", "ip_address"]
    list_filter = ["kind"]
    search_fields = ["username"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Heartbeat)
class HeartbeatAdmin(ReadOnlyAdmin):
    list_display = ["process", "instance", "hostname", "pid", "started_at", "last_seen_at"]
    list_filter = ["process"]


@admin.register(PeriodicJob)
class PeriodicJobAdmin(ReadOnlyAdmin):
    list_display = ["name", "last_started_at", "last_finished_at", "last_outcome", "last_error", "last_host"]
    list_filter = ["last_outcome"]
