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


from privacy.models import (  # noqa: E402
    GuardianConsent,
    LegalHold,
    PolicyAcceptance,
    PolicyVersion,
    PrivacyEvent,
    RetentionRule,
    RetentionRun,
    RightsRequest,
)


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


@admin.register(RetentionRule)
class RetentionRuleAdmin(admin.ModelAdmin):
    list_display = ["record_type", "keep_days", "action", "updated_at"]
    readonly_fields = ["record_type", "action", "counted_from", "updated_by"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        from privacy import services

        services.update_retention_rule(rule=obj, keep_days=obj.keep_days, basis=obj.basis, by=request.user)


@admin.register(PrivacyEvent)
class PrivacyEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "kind", "patient_id", "user", "detail"]
    list_filter = ["kind"]


@admin.register(RetentionRun)
class RetentionRunAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "dry_run", "finished_at"]


@admin.register(PolicyAcceptance)
class PolicyAcceptanceAdmin(ReadOnlyAdmin):
    list_display = ["accepted_at", "patient_id", "version", "context"]


@admin.register(RightsRequest)
class RightsRequestAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "status", "created_at", "due_at", "assignee"]
    list_filter = ["kind", "status"]
    exclude = ["requested_value", "patient_note"]


@admin.register(LegalHold)
class LegalHoldAdmin(ReadOnlyAdmin):
    list_display = ["patient_id", "placed_at", "placed_by", "lifted_at"]


@admin.register(GuardianConsent)
class GuardianConsentAdmin(ReadOnlyAdmin):
    list_display = ["patient_id", "consented_at", "method", "revoked_at"]
