"""Forms: parse and normalise only; the services decide."""

from django import forms

from cinrella import crypto
from consents.models import SmsConsentEvent, SmsPurpose
from privacy.models import Recipient
from privacy.policy import LEGAL_BASES


class SignConsentForm(forms.Form):
    agree = forms.BooleanField(
        label="I have read this consent and agree to it.",
        error_messages={"required": "Tick the box to confirm you have read and agree."},
    )
    typed_name = forms.CharField(label="Type your full name", max_length=200)
    signature = forms.CharField(
        widget=forms.HiddenInput(attrs={"data-signature-input": ""}),
        required=False,
        max_length=600_000,
    )


class RevokeConsentForm(forms.Form):
    reason = forms.CharField(label="Reason (optional)", required=False, max_length=500)


class VerbalSmsConsentForm(forms.Form):
    """What the patient says at the desk. An opt-in is for appointment texts only: marketing needs
    written consent (the service refuses it with the reason, whatever is posted)."""

    purpose = forms.ChoiceField(choices=SmsPurpose.choices)
    action = forms.ChoiceField(
        choices=[
            (SmsConsentEvent.Action.OPT_IN, "Opt in to appointment texts (said at the desk)"),
            (SmsConsentEvent.Action.OPT_OUT, "Opt out"),
        ]
    )
    note = forms.CharField(
        label="Note (required): who said what, and how",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=1000,
        error_messages={"required": "A note is required for a verbal consent or opt-out."},
    )

    def clean_note(self):
        note = self.cleaned_data["note"].strip()
        if not note:
            raise forms.ValidationError("A note is required for a verbal consent or opt-out.")
        return note


class SmsPreferencesForm(forms.Form):
    transactional = forms.BooleanField(required=False)
    marketing = forms.BooleanField(required=False)


class SmsProofExportForm(forms.Form):
    FORMAT_CHOICES = [("csv", "CSV"), ("pdf", "PDF")]
    DESTINATION_CHOICES = [
        ("in_clinic", "Download for use inside the clinic"),
        ("outside", "Send to a carrier/aggregator or a legal requester"),
    ]

    phone = forms.CharField(label="Mobile number", max_length=32)
    file_format = forms.ChoiceField(label="Format", choices=FORMAT_CHOICES, initial="csv")
    destination = forms.ChoiceField(choices=DESTINATION_CHOICES, initial="in_clinic", widget=forms.RadioSelect)
    recipient = forms.ModelChoiceField(
        queryset=Recipient.objects.filter(active=True).order_by("name"),
        required=False,
        help_text="Only SMS providers/aggregators, or a legal requester with a recorded basis, may receive it.",
    )
    legal_basis = forms.ChoiceField(choices=[("", "— none —"), *LEGAL_BASES.items()], required=False)
    legal_reference = forms.CharField(label="Legal reference (docket, request number)", required=False, max_length=200)

    def clean_phone(self):
        phone = crypto.normalise_phone(self.cleaned_data["phone"])
        if phone is None:
            raise forms.ValidationError("Enter a valid mobile number, e.g. (858) 256-0289.")
        return phone

    def clean(self):
        data = super().clean()
        if data.get("destination") == "outside" and not data.get("recipient"):
            self.add_error("recipient", "Choose who the export is sent to.")
        if data.get("legal_basis") and not (data.get("legal_reference") or "").strip():
            self.add_error("legal_reference", "A legal disclosure needs the reference of the order or request.")
        return data


class SmsOptInForm(forms.Form):
    """The booking portal's two SMS boxes (DESIGN.md §5): never pre-checked, both optional, each
    labelled with its exact disclosure. Render with templates/consents/partials/sms_opt_in_boxes.html
    and pass the cleaned values to consents.services.record_portal_sms_choices."""

    sms_transactional = forms.BooleanField(required=False, initial=False)
    sms_marketing = forms.BooleanField(required=False, initial=False)

    def __init__(self, *args, **kwargs):
        from consents import disclosures

        super().__init__(*args, **kwargs)
        self.fields["sms_transactional"].label = disclosures.transactional_disclosure()
        self.fields["sms_marketing"].label = disclosures.marketing_disclosure()
