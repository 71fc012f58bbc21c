from django.contrib import admin

from privacy.access import Action, Category, can
from privacy.models import AccessLog, Disclosure, Recipient


class ReadOnlyAuditAdmin(admin.ModelAdmin):
    """Audit rows are read-only here; the tables themselves refuse UPDATE and DELETE."""

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


@admin.register(Recipient)
class RecipientAdmin(admin.ModelAdmin):
    list_display = ["name", "key", "kind", "active", "agreement"]
    list_filter = ["kind", "active"]


@admin.register(Disclosure)
class DisclosureAdmin(ReadOnlyAuditAdmin):
    list_display = ["at", "recipient", "purpose", "categories", "patient_id", "user"]
    list_filter = ["purpose", "recipient"]
    raw_id_fields = ["patient"]


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAuditAdmin):
    list_display = ["at", "username", "patient_id", "category", "action", "allowed", "ip_address", "path"]
    list_filter = ["category", "action", "allowed"]
    search_fields = ["username"]
