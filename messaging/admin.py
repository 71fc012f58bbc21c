"""Admin: read-only views of the outbox and inbound messages (changes go through the services)."""

from django import forms
from django.contrib import admin

from messaging import templating
from messaging.models import Campaign, Conversation, InboundMessage, MessageTemplate, OutboundMessage


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OutboundMessage)
class OutboundMessageAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "purpose", "status", "due_at", "attempts", "error_code", "patient_id")
    list_filter = ("status", "kind", "purpose")
    exclude = ("to_phone", "body", "to_bidx")


@admin.register(InboundMessage)
class InboundMessageAdmin(ReadOnlyAdmin):
    list_display = ("id", "handling", "received_at", "patient_id")
    list_filter = ("handling",)
    exclude = ("from_phone", "body", "from_bidx")


@admin.register(Conversation)
class ConversationAdmin(ReadOnlyAdmin):
    list_display = ("id", "patient_id", "unread_count", "needs_review", "last_message_at")
    exclude = ("phone", "phone_bidx")


class MessageTemplateForm(forms.ModelForm):
    """The same rules as the staff template editor (messaging.templating.validate_template):
    placeholders the kind can fill, the wording carriers audit, no treatment names."""

    class Meta:
        model = MessageTemplate
        fields = ["kind", "body"]

    def clean(self):
        data = super().clean()
        if data.get("kind") and data.get("body"):
            try:
                templating.validate_template(data["body"].strip(), kind=data["kind"])
            except templating.InvalidTemplate as exc:
                self.add_error("body", str(exc))
        return data


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    form = MessageTemplateForm
    list_display = ("kind", "updated_by", "updated_at")

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(Campaign)
class CampaignAdmin(ReadOnlyAdmin):
    list_display = ("name", "state", "audience_size", "scheduled_for")
