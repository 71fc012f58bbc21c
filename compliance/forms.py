"""Forms of the privacy app: parse and normalise only."""

from django import forms
from django.contrib.auth import get_user_model

from cinrella import crypto
from cinrella.roles import Role
from compliance.services import CORRECTABLE_FIELDS
from privacy.models import RetentionRule


class SignInForm(forms.Form):
    contact = forms.CharField(
        label="Email or mobile number",
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "username", "inputmode": "email"}),
    )
    date_of_birth = forms.DateField(label="Date of birth", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        contact = (data.get("contact") or "").strip()
        data["email"], data["phone"] = "", ""
        if "@" in contact:
            data["email"] = contact
        elif crypto.normalise_phone(contact):
            data["phone"] = contact
        elif contact:
            self.add_error("contact", "Enter the email address or mobile number you gave us.")
        return data


class CodeForm(forms.Form):
    code = forms.RegexField(
        regex=r"^\s*\d{6}\s*$",
        label="6-digit code",
        error_messages={"invalid": "The code has 6 digits."},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": "6"}),
    )


class CorrectionForm(forms.Form):
    field_name = forms.ChoiceField(label="What is wrong?", choices=[("", "Choose…"), *CORRECTABLE_FIELDS.items()])
    requested_value = forms.CharField(label="The correct information", max_length=300)
    note = forms.CharField(
        label="Anything we should know (optional)",
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class DeletionForm(forms.Form):
    confirm = forms.BooleanField(label="I ask Cinrella to delete my information where the law allows.")
    note = forms.CharField(
        label="Anything we should know (optional)",
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(queryset=None, required=False, label="Assignee")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = (
            get_user_model().objects.filter(is_active=True, groups__name=Role.MANAGER.value).order_by("username")
        )


class ResolveForm(forms.Form):
    ACTIONS = [("approve", "Approve and apply"), ("deny", "Deny")]
    action = forms.ChoiceField(choices=ACTIONS, widget=forms.RadioSelect)
    value = forms.CharField(label="Value to apply (defaults to what the patient asked)", max_length=300, required=False)
    resolution = forms.CharField(label="Answer to the patient", widget=forms.Textarea(attrs={"rows": 3}))


class DenyForm(forms.Form):
    resolution = forms.CharField(label="Reason given to the patient", widget=forms.Textarea(attrs={"rows": 3}))


class RetentionRuleForm(forms.ModelForm):
    """One row of the schedule table: its inputs belong to the row's <form id="rule-N">."""

    class Meta:
        model = RetentionRule
        fields = ["keep_days", "basis"]
        widgets = {"basis": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs["form"] = f"rule-{self.instance.pk}"
        self.fields["keep_days"].widget.attrs["aria-label"] = "Keep (days)"
        self.fields["basis"].widget.attrs["aria-label"] = "Why"


class PatientIdForm(forms.Form):
    patient_id = forms.IntegerField(label="Patient number", min_value=1)


class HoldForm(forms.Form):
    patient_id = forms.IntegerField(label="Patient number", min_value=1)
    reason = forms.CharField(label="Reason (litigation, investigation, reference)", max_length=300)


class LiftHoldForm(forms.Form):
    reason = forms.CharField(label="Why the hold is lifted", max_length=300)


class GuardianConsentForm(forms.Form):
    full_name = forms.CharField(label="Guardian's full name", max_length=200)
    relationship = forms.CharField(label="Relationship to the patient", max_length=40)
    email = forms.EmailField(label="Guardian's email (optional)", required=False)
    mobile_phone = forms.CharField(label="Guardian's mobile (optional)", max_length=20, required=False)
    method = forms.ChoiceField(
        label="How consent was given", choices=[("in_person", "Signed in person"), ("written", "Written form")]
    )
    consent_text = forms.CharField(
        label="Consent text the guardian signed",
        widget=forms.Textarea(attrs={"rows": 3}),
        initial=(
            "I am the parent or legal guardian of this patient. I consent to Cinrella Med Spa collecting and "
            "using their information as described in the privacy policy, and to their treatment."
        ),
    )
    confirm_identity = forms.BooleanField(label="I checked the guardian's identity and authority.")

    def clean_mobile_phone(self):
        raw = self.cleaned_data["mobile_phone"]
        if raw and not crypto.normalise_phone(raw):
            raise forms.ValidationError("Enter a valid mobile number.")
        return crypto.normalise_phone(raw) if raw else ""
