"""Forms parse and normalise only; access rights are decided in privacy.access and views."""

from django import forms

from cinrella import crypto
from patients.models import ChartNote, IntakeVersion, Patient, PatientPhoto, TreatmentPreferences

IDENTITY_FIELDS = (
    "first_name",
    "last_name",
    "date_of_birth",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
    "emergency_contact_name",
    "emergency_contact_phone",
    "emergency_contact_relationship",
    "preferred_language",
)
CONTACT_FIELDS = ("email", "mobile_phone")
LANGUAGE_CHOICES = [("en", "English"), ("es", "Spanish"), ("vi", "Vietnamese"), ("zh", "Chinese"), ("tl", "Tagalog")]


class DateInput(forms.DateInput):
    input_type = "date"


class PatientSearchForm(forms.Form):
    q = forms.CharField(
        label="Find a patient",
        max_length=120,
        help_text="Phone in any format, email, date of birth (YYYY-MM-DD or MM/DD/YYYY), or name (3+ letters).",
    )

    def clean_q(self):
        text = self.cleaned_data["q"].strip()
        from patients.selectors import search_kind

        if search_kind(text) == "name" and not any(len(t) >= crypto.NAME_PREFIX_MIN for t in crypto.name_tokens(text)):
            raise forms.ValidationError("Type at least 3 letters of a name.")
        return text


class PatientForm(forms.ModelForm):
    """Identity + contact. The view removes the fields the user's role may not change."""

    confirm_duplicate = forms.BooleanField(
        required=False, label="I checked: this is a different person, create the record anyway."
    )

    class Meta:
        model = Patient
        fields = (*IDENTITY_FIELDS[:3], *CONTACT_FIELDS, *IDENTITY_FIELDS[3:])
        widgets = {"date_of_birth": DateInput(), "mobile_phone": forms.TextInput(attrs={"type": "tel"})}
        labels = {
            "address_line1": "Address",
            "address_line2": "Address (line 2)",
            "emergency_contact_name": "Emergency contact",
            "emergency_contact_phone": "Emergency contact phone",
            "emergency_contact_relationship": "Relationship",
        }

    def __init__(self, *args, writable_fields=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["preferred_language"] = forms.ChoiceField(choices=LANGUAGE_CHOICES, initial="en")
        for name in ("first_name", "last_name"):
            self.fields[name].max_length = 100
        if writable_fields is not None:
            for name in list(self.fields):
                if name not in writable_fields and name != "confirm_duplicate":
                    del self.fields[name]
        if self.instance.pk:
            del self.fields["confirm_duplicate"]

    def clean_mobile_phone(self):
        raw = self.cleaned_data.get("mobile_phone", "")
        if not raw.strip():
            return ""
        phone = crypto.normalise_phone(raw)
        if phone is None:
            raise forms.ValidationError("Enter a valid mobile number, e.g. (858) 256-0289.")
        return phone

    def clean_emergency_contact_phone(self):
        raw = self.cleaned_data.get("emergency_contact_phone", "")
        if not raw.strip():
            return ""
        phone = crypto.normalise_phone(raw)
        if phone is None:
            raise forms.ValidationError("Enter a valid phone number.")
        return phone

    def clean_email(self):
        return self.cleaned_data.get("email", "").strip()


class IntakeForm(forms.ModelForm):
    class Meta:
        model = IntakeVersion
        fields = IntakeVersion.CONTENT_FIELDS
        widgets = {
            f: forms.Textarea(attrs={"rows": 3}) for f in IntakeVersion.CONTENT_FIELDS if f != "pregnancy_status"
        }
        labels = {"prior_aesthetic_treatments": "Prior aesthetic treatments", "notes": "Other notes"}


class TreatmentPreferencesForm(forms.ModelForm):
    class Meta:
        model = TreatmentPreferences
        fields = ("goals", "areas_of_interest", "comfort_notes")
        widgets = {f: forms.Textarea(attrs={"rows": 3}) for f in ("goals", "areas_of_interest", "comfort_notes")}


class ChartNoteForm(forms.ModelForm):
    class Meta:
        model = ChartNote
        fields = ("body",)
        widgets = {"body": forms.Textarea(attrs={"rows": 4})}
        labels = {"body": "New chart note"}


class PhotoUploadForm(forms.Form):
    image = forms.FileField(label="Photo (JPEG, PNG or WebP)")
    kind = forms.ChoiceField(choices=PatientPhoto.Kind.choices)
    caption = forms.CharField(max_length=200, required=False)
