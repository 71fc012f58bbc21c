from django import forms

from messaging import templating
from messaging.models import Kind


class ReplyForm(forms.Form):
    text = forms.CharField(max_length=640, widget=forms.Textarea(attrs={"rows": 3}), label="Reply")

    def clean_text(self):
        text = " ".join(self.cleaned_data["text"].split())
        if not text:
            raise forms.ValidationError("Type a message.")
        return text


class TemplateForm(forms.Form):
    body = forms.CharField(max_length=640, widget=forms.Textarea(attrs={"rows": 4}))

    def clean_body(self):
        body = self.cleaned_data["body"].strip()
        try:
            templating.validate_template(body)
        except templating.UnknownPlaceholder as exc:
            raise forms.ValidationError(str(exc)) from None
        return body


EDITABLE_KINDS = [k for k in Kind if k not in (Kind.STAFF_REPLY, Kind.CAMPAIGN)]


class CampaignForm(forms.Form):
    name = forms.CharField(max_length=120)
    body = forms.CharField(
        max_length=480,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Placeholders: {first_name}, {clinic_name}. 'Reply STOP to opt out.' is added for you.",
    )
    visited_within_days = forms.IntegerField(required=False, min_value=1, max_value=3650, label="Visited within (days)")
    not_visited_for_days = forms.IntegerField(
        required=False, min_value=1, max_value=3650, label="Not visited for (days)"
    )
    service = forms.ModelChoiceField(queryset=None, required=False, label="Had this service")
    rate_per_minute = forms.IntegerField(required=False, min_value=1, max_value=600, label="Messages per minute")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from appointments.models import Service

        self.fields["service"].queryset = Service.objects.order_by("name")

    def clean_body(self):
        body = self.cleaned_data["body"].strip()
        try:
            templating.validate_template(body)
        except templating.UnknownPlaceholder as exc:
            raise forms.ValidationError(str(exc)) from None
        return body

    def filters(self) -> dict:
        data = self.cleaned_data
        return {
            "visited_within_days": data.get("visited_within_days"),
            "not_visited_for_days": data.get("not_visited_for_days"),
            "service_id": data["service"].pk if data.get("service") else None,
        }


class ScheduleCampaignForm(forms.Form):
    """Parses what was ticked. Which ids may receive the campaign is decided by the service
    (marketing_audience), never by this form: an injected id is dropped there."""

    patient_ids = forms.TypedMultipleChoiceField(coerce=int, required=False, choices=())
    start_at = forms.DateTimeField(required=False, label="Start at (clinic time; empty: now)")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Accept any integer: membership is the service's job (and it enforces it).
        self.fields["patient_ids"].valid_value = lambda value: str(value).isdigit()

    def clean_start_at(self):
        value = self.cleaned_data.get("start_at")
        if value is None:
            return None
        # Typed as clinic wall-clock time (the form parsed it as UTC): re-attach the clinic zone.
        from zoneinfo import ZoneInfo

        from django.conf import settings

        return value.replace(tzinfo=None).replace(tzinfo=ZoneInfo(settings.CLINIC_TIME_ZONE))


class SimulatorReplyForm(forms.Form):
    phone = forms.CharField(max_length=32)
    body = forms.CharField(max_length=320)

    def clean_phone(self):
        from cinrella.crypto import normalise_phone

        phone = normalise_phone(self.cleaned_data["phone"])
        if phone is None:
            raise forms.ValidationError("Enter a valid phone number.")
        return phone
