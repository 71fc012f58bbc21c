"""Forms: parse and normalise only."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django import forms
from django.utils import timezone

from appointments.availability import local_instant
from appointments.models import Provider, Room, Service
from patients import names
from patients.models import Patient
from patients.services import InvalidPhone, normalised_mobile

ADULT_AGE = 18


def age_on(date_of_birth: dt.date, today: dt.date) -> int:
    return today.year - date_of_birth.year - ((today.month, today.day) < (date_of_birth.month, date_of_birth.day))


def wall_clock_to_utc(day: dt.date, wall: dt.time, tz: ZoneInfo) -> dt.datetime | None:
    """The instant of a local date+time, or None when that wall time does not exist (spring-forward gap)."""
    instant = local_instant(day, wall, tz)
    back = instant.astimezone(tz)
    return instant if (back.date(), back.time().replace(tzinfo=None)) == (day, wall) else None


# --- portal --------------------------------------------------------------------------------------


class SlotForm(forms.Form):
    """The chosen time, carried through the portal steps (re-checked when booking)."""

    service = forms.IntegerField(widget=forms.HiddenInput)
    who = forms.CharField(max_length=12, widget=forms.HiddenInput)
    starts_at = forms.CharField(max_length=40, widget=forms.HiddenInput)
    # The location id as typed (blank: the only location); the view checks it offers the service.
    location = forms.CharField(max_length=64, required=False, widget=forms.HiddenInput)

    def clean_who(self):
        who = self.cleaned_data["who"]
        if who != "any" and not who.isdigit():
            raise forms.ValidationError("Choose a provider.")
        return who

    def clean_starts_at(self):
        try:
            value = dt.datetime.fromisoformat(self.cleaned_data["starts_at"])
        except ValueError:
            raise forms.ValidationError("Choose a time.") from None
        if value.tzinfo is None:
            raise forms.ValidationError("Choose a time.")
        return value.astimezone(dt.UTC)

    @property
    def provider_id(self) -> int | None:
        who = self.cleaned_data["who"]
        return None if who == "any" else int(who)


class DetailsForm(forms.Form):
    first_name = forms.CharField(
        max_length=100, label="First name", widget=forms.TextInput(attrs={"autocomplete": "given-name"})
    )
    last_name = forms.CharField(
        max_length=100, label="Last name", widget=forms.TextInput(attrs={"autocomplete": "family-name"})
    )
    email = forms.EmailField(max_length=254, label="Email", widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    mobile_phone = forms.CharField(
        max_length=32,
        required=False,
        label="Mobile phone (optional)",
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    date_of_birth = forms.DateField(
        label="Date of birth", widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"})
    )

    def _name(self, field: str) -> str:
        # What the public types as a name may one day be greeted by text: only what a name can be.
        value = names.clean(self.cleaned_data[field])
        if not names.is_plausible_name(value):
            raise forms.ValidationError(names.NOT_A_NAME)
        return value

    def clean_first_name(self):
        return self._name("first_name")

    def clean_last_name(self):
        return self._name("last_name")

    def clean_mobile_phone(self):
        try:
            return normalised_mobile(self.cleaned_data["mobile_phone"])
        except InvalidPhone as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_date_of_birth(self):
        dob = self.cleaned_data["date_of_birth"]
        if dob > timezone.localdate() or dob.year < 1900:
            raise forms.ValidationError("Enter your date of birth.")
        return dob

    def is_minor(self, today: dt.date) -> bool:
        return age_on(self.cleaned_data["date_of_birth"], today) < ADULT_AGE


class ConsentsForm(forms.Form):
    """Two separate SMS consents (never pre-checked, neither required) and the policy acknowledgement."""

    sms_transactional = forms.BooleanField(required=False)
    sms_marketing = forms.BooleanField(required=False)
    privacy_acknowledged = forms.BooleanField(
        required=True, error_messages={"required": "Please confirm you have read our Privacy Policy."}
    )

    def check_mobile(self, mobile: str) -> bool:
        """Texts need a mobile number; without one the SMS boxes must stay unticked."""
        if (self.cleaned_data.get("sms_transactional") or self.cleaned_data.get("sms_marketing")) and not mobile:
            self.add_error(None, "To receive texts, add your mobile number (or untick the text message boxes).")
            return False
        return True


RESCHEDULE_WITH = {"same": "Same provider", "any": "Anyone available"}


def reschedule_with(value: str | None) -> str:
    """Who a patient reschedules with: "same" (the default, also for anything unknown) or "any"."""
    return value if value in RESCHEDULE_WITH else "same"


class PortalRescheduleForm(forms.Form):
    starts_at = forms.CharField(max_length=40)
    who = forms.CharField(max_length=8, required=False)

    def clean_who(self):
        return reschedule_with(self.cleaned_data.get("who"))

    def clean_starts_at(self):
        return SlotForm.clean_starts_at(self)


# --- staff ---------------------------------------------------------------------------------------


class StaffAppointmentForm(forms.Form):
    patient = forms.IntegerField(label="Patient number", min_value=1)
    service = forms.ModelChoiceField(queryset=Service.objects.filter(active=True).order_by("name"))
    provider = forms.ModelChoiceField(queryset=Provider.objects.filter(active=True).order_by("display_name"))
    room = forms.ModelChoiceField(
        queryset=Room.objects.none(), required=False, empty_label="Any suitable room (automatic)"
    )
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    time = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time", "step": 300}))
    notes = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Scheduling notes only — no health information.",
    )

    def __init__(self, *args, location, **kwargs):
        super().__init__(*args, **kwargs)
        self.location = location
        self.fields["room"].queryset = Room.objects.filter(location=location, active=True).order_by("name")

    def clean_patient(self):
        pk = self.cleaned_data["patient"]
        patient = Patient.objects.filter(pk=pk).first()
        if patient is None:
            raise forms.ValidationError("No patient with that number.")
        return patient

    def clean(self):
        data = super().clean()
        if data.get("date") and data.get("time"):
            starts_at = wall_clock_to_utc(data["date"], data["time"], ZoneInfo(self.location.time_zone))
            if starts_at is None:
                self.add_error("time", "That time does not exist on this day (the clocks change).")
            data["starts_at"] = starts_at
        return data


class StaffRescheduleForm(StaffAppointmentForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("patient", "service", "notes"):
            del self.fields[name]
