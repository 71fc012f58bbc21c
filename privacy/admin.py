from django.contrib import admin

from privacy.access import Action, Category, can
from privacy.models import AccessLog


@admin.register(AccessLog)
class AccessLogAdmin(admin.ModelAdmin):
    """Read-only; the table itself refuses UPDATE and DELETE."""

    list_display = ["at", "username", "patient_id", "category", "action", "allowed", "ip_address", "path"]
    list_filter = ["category", "action", "allowed"]
    search_fields = ["username"]

    def has_module_permission(self, request):
        return can(request.user, Action.READ, Category.AUDIT)

    def has_view_permission(self, request, obj=None):
        return can(request.user, Action.READ, Category.AUDIT)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
