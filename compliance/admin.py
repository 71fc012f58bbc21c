"""Admin for the compliance records (tables of the privacy app): the retention schedule, retention
runs, rights requests and legal holds."""

from django.contrib import admin

from compliance import services
from privacy.admin import ReadOnlyAdmin
from privacy.models import LegalHold, RetentionRule, RetentionRun, RightsRequest


@admin.register(RetentionRule)
class RetentionRuleAdmin(admin.ModelAdmin):
    list_display = ["record_type", "keep_days", "action", "updated_at"]
    readonly_fields = ["record_type", "action", "counted_from", "updated_by"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        services.update_retention_rule(rule=obj, keep_days=obj.keep_days, basis=obj.basis, by=request.user)


@admin.register(RetentionRun)
class RetentionRunAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "dry_run", "finished_at"]


@admin.register(RightsRequest)
class RightsRequestAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "status", "created_at", "due_at", "assignee"]
    list_filter = ["kind", "status"]
    exclude = ["requested_value", "patient_note"]


@admin.register(LegalHold)
class LegalHoldAdmin(ReadOnlyAdmin):
    list_display = ["patient_id", "placed_at", "placed_by", "lifted_at"]
