import datetime as dt

from django import forms
from django.utils import timezone

from messaging import templating
from messaging.models import Kind

REPLY_MAX_CHARACTERS = 640  # about four SMS segments


class ReplyForm(forms.Form):
    # No maxlength on the textarea: a browser silently cuts pasted text there, and the patient
    # would get half a sentence. The length is checked here, with the count in the message.
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Reply")

    def clean_text(self):
        text = " ".join(self.cleaned_data["text"].split())
        if not text:
            raise forms.ValidationError("Type a message.")
        if len(text) > REPLY_MAX_CHARACTERS:
            raise forms.ValidationError(
                f"Keep a reply to {REPLY_MAX_CHARACTERS} characters: this one has {len(text)}. Nothing was sent."
            )
        return text


class TemplateForm(forms.Form):
    body = forms.CharField(max_length=640, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind

    def clean_body(self):
        body = self.cleaned_data["body"].strip()
        try:
            templating.validate_template(body, kind=self.kind)
        except templating.InvalidTemplate as exc:
            raise forms.ValidationError(str(exc)) from None
        return body


# Kinds with a built-in wording a manager may change. Staff replies, campaigns and texts sent as
# given (portal sign-in codes) have none.
EDITABLE_KINDS = [k for k in Kind if templating.DEFAULT_TEMPLATES.get(k)]

# What a campaign message can fill in: the patient's first name and the clinic's details. The
# appointment and link placeholders would be sent blank.
CAMPAIGN_PLACEHOLDERS = [
    name for name in templating.PLACEHOLDERS if name in templating.PLACEHOLDERS_BY_KIND[Kind.CAMPAIGN]
]


class CampaignForm(forms.Form):
    name = forms.CharField(max_length=120)
    body = forms.CharField(
        max_length=480,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Placeholders: "
        + ", ".join("{" + name + "}" for name in CAMPAIGN_PLACEHOLDERS)
        + ". Name the clinic ({clinic_name}); 'Reply STOP to opt out.' is added for you. Treatment names only "
        "when the audience is chosen by that treatment (Had this service).",
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
        except templating.InvalidTemplate as exc:
            raise forms.ValidationError(str(exc)) from None
        unusable = templating.placeholders_in(body) - set(CAMPAIGN_PLACEHOLDERS)
        if unusable:
            names = ", ".join(sorted("{" + name + "}" for name in unusable))
            allowed = ", ".join("{" + name + "}" for name in CAMPAIGN_PLACEHOLDERS)
            raise forms.ValidationError(f"A campaign cannot fill in {names}: use only {allowed}.")
        return body

    def clean(self):
        data = super().clean()
        if data.get("body"):
            service = data.get("service")
            try:
                templating.check_marketing_text(data["body"], audience_service=service.name if service else "")
            except templating.InvalidTemplate as exc:
                self.add_error("body", str(exc))
        return data

    @classmethod
    def for_draft(cls, campaign, data=None):
        """The form filled in with a draft's saved wording, audience filters and rate."""
        filters = campaign.filters or {}
        initial = {
            "name": campaign.name,
            "body": campaign.body,
            "visited_within_days": filters.get("visited_within_days"),
            "not_visited_for_days": filters.get("not_visited_for_days"),
            "service": filters.get("service_id"),
            "rate_per_minute": campaign.rate_per_minute,
        }
        return cls(data, initial=initial)

    def campaign_fields(self) -> dict:
        """What the campaign services take: wording, audience filters, throttle."""
        return {
            "name": self.cleaned_data["name"],
            "body": self.cleaned_data["body"],
            "filters": self.filters(),
            "rate_per_minute": self.cleaned_data.get("rate_per_minute"),
        }

    def filters(self) -> dict:
        data = self.cleaned_data
        return {
            "visited_within_days": data.get("visited_within_days"),
            "not_visited_for_days": data.get("not_visited_for_days"),
            "service_id": data["service"].pk if data.get("service") else None,
        }


PAST_START_GRACE = dt.timedelta(minutes=5)


class ScheduleCampaignForm(forms.Form):
    """Parses what was ticked. Which ids may receive the campaign is decided by the service
    (marketing_audience), never by this form: an injected id is dropped there."""

    patient_ids = forms.TypedMultipleChoiceField(coerce=int, required=False, choices=())
    start_at = forms.DateTimeField(
        required=False,
        label="Start at (clinic time; empty: now)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

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

        value = value.replace(tzinfo=None).replace(tzinfo=ZoneInfo(settings.CLINIC_TIME_ZONE))
        # A start in the past would queue every message as already due: all sent at once, past
        # the throttle. A few minutes late (the minute just typed) means now.
        now = timezone.now()
        if value < now - PAST_START_GRACE:
            raise forms.ValidationError("This time has passed: pick a later one, or leave it empty to start now.")
        return max(value, now)


class SimulatorReplyForm(forms.Form):
    phone = forms.CharField(max_length=32)
    body = forms.CharField(max_length=320)

    def clean_phone(self):
        from cinrella.crypto import normalise_phone

        phone = normalise_phone(self.cleaned_data["phone"])
        if phone is None:
            raise forms.ValidationError("Enter a valid phone number.")
        return phone
