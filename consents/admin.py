"""Admin: templates change only by publishing a new version; signatures, revocations, the SMS
ledger and proof-export log are read-only (no add, change or delete)."""

from django import forms
from django.contrib import admin

from consents import services
from consents.models import (
    ConsentRevocation,
    ConsentSignature,
    ConsentTemplate,
    ConsentTemplateVersion,
    SmsConsentEvent,
    SmsConsentProofExport,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ConsentTemplateVersionInline(admin.TabularInline):
    model = ConsentTemplateVersion
    fields = ["number", "published_at", "published_by", "body"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["-number"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ConsentTemplateForm(forms.ModelForm):
    new_version_text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 14}),
        required=False,
        help_text=(
            "Published text never changes: to change the words, paste the full new text here and save. "
            "It becomes the next version; existing signatures keep pointing at the version they signed."
        ),
    )

    class Meta:
        model = ConsentTemplate
        fields = ["slug", "title", "kind", "validity_days", "required_for_services", "active"]

    def clean(self):
        data = super().clean()
        if self.instance.pk is None and not (data.get("new_version_text") or "").strip():
            self.add_error("new_version_text", "A new consent template needs its first version's text.")
        return data


@admin.register(ConsentTemplate)
class ConsentTemplateAdmin(admin.ModelAdmin):
    form = ConsentTemplateForm
    list_display = ["title", "kind", "validity_days", "active", "current_version_number"]
    list_filter = ["kind", "active"]
    filter_horizontal = ["required_for_services"]
    inlines = [ConsentTemplateVersionInline]
    fields = ["slug", "title", "kind", "validity_days", "required_for_services", "active", "new_version_text"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        current = obj.current_version() if obj else None
        if current is not None:
            form.base_fields["new_version_text"].initial = current.body
        return form

    @admin.display(description="Version")
    def current_version_number(self, obj):
        current = obj.current_version()
        return current.number if current else "—"

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        text = form.cleaned_data.get("new_version_text") or ""
        if text.strip():
            # Publishes only when the text differs from the current version.
            services.publish_template_version(template=obj, body=text, user=request.user)


@admin.register(ConsentTemplateVersion)
class ConsentTemplateVersionAdmin(ReadOnlyAdmin):
    list_display = ["template", "number", "published_at", "published_by"]
    list_filter = ["template"]


@admin.register(ConsentSignature)
class ConsentSignatureAdmin(ReadOnlyAdmin):
    list_display = ["id", "template_version", "patient_id", "signed_at", "expires_at", "channel"]
    list_filter = ["channel", "template_version__template"]
    # The typed name and drawing are PHI: not listed, not shown here (staff pages gate them).
    exclude = ["typed_name", "signature_png_b64"]
    raw_id_fields = ["patient", "appointment"]


@admin.register(ConsentRevocation)
class ConsentRevocationAdmin(ReadOnlyAdmin):
    list_display = ["signature", "revoked_at", "recorded_by"]
    exclude = ["reason"]


@admin.register(SmsConsentEvent)
class SmsConsentEventAdmin(ReadOnlyAdmin):
    list_display = ["id", "occurred_at", "purpose", "action", "source", "disclosure_version", "patient_id"]
    list_filter = ["purpose", "action", "source"]
    exclude = ["phone"]
    raw_id_fields = ["patient"]


@admin.register(SmsConsentProofExport)
class SmsConsentProofExportAdmin(ReadOnlyAdmin):
    list_display = ["at", "user", "file_format", "destination", "recipient", "event_count"]
    list_filter = ["destination"]
