from django.contrib import admin

from privacy.access import Action, Category, can
from privacy.models import AccessLog, Disclosure, Recipient


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by the application's services; admin shows them, never edits them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAuditAdmin(ReadOnlyAdmin):
    """Audit rows: visible to roles that may read audit data; the tables refuse UPDATE and DELETE."""

    def has_module_permission(self, request):
        return can(request.user, Action.READ, Category.AUDIT)

    def has_view_permission(self, request, obj=None):
        return can(request.user, Action.READ, Category.AUDIT)


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


from privacy.models import GuardianConsent, PolicyAcceptance, PolicyVersion, PrivacyEvent  # noqa: E402


@admin.register(PolicyVersion)
class PolicyVersionAdmin(admin.ModelAdmin):
    list_display = ["number", "effective_at", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        # A version that was ever in force is a record of what people agreed to: frozen.
        from django.utils import timezone

        if obj is not None and obj.effective_at <= timezone.now():
            return ["number", "effective_at", "text", "summary_of_changes"]
        return []

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PrivacyEvent)
class PrivacyEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "kind", "patient_id", "user", "detail"]
    list_filter = ["kind"]


@admin.register(PolicyAcceptance)
class PolicyAcceptanceAdmin(ReadOnlyAdmin):
    list_display = ["accepted_at", "patient_id", "version", "context"]


@admin.register(GuardianConsent)
class GuardianConsentAdmin(ReadOnlyAdmin):
    list_display = ["patient_id", "consented_at", "method", "revoked_at"]
