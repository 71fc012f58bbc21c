"""Django admin for patients, behind the same decision point as the staff pages (privacy.access).

Fieldsets of categories the admin's role may not read are not rendered at all; categories it may
read but not change are read-only; health inlines appear only for roles that read health data.
Every change view of a patient writes access-log rows — superusers included."""

from django import forms
from django.contrib import admin

from cinrella import crypto
from patients.forms import CONTACT_FIELDS, IDENTITY_FIELDS
from patients.models import ChartNote, IntakeVersion, Patient
from privacy.access import Action, Category, can
from privacy.access_log import log_access

A, C = Action, Category

FIELDS_BY_CATEGORY = {C.IDENTITY: IDENTITY_FIELDS, C.CONTACT: CONTACT_FIELDS}


class AdminPatientForm(forms.ModelForm):
    class Meta:
        model = Patient
        fields = (*IDENTITY_FIELDS, *CONTACT_FIELDS)

    def clean_mobile_phone(self):
        raw = self.cleaned_data.get("mobile_phone", "")
        if not raw.strip():
            return ""
        phone = crypto.normalise_phone(raw)
        if phone is None:
            raise forms.ValidationError("Enter a valid mobile number, e.g. (858) 256-0289.")
        return phone


class _ReadOnlyHealthInline(admin.StackedInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_view_permission(self, request, obj=None):
        return can(request.user, A.READ, C.HEALTH, obj)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class IntakeVersionInline(_ReadOnlyHealthInline):
    model = IntakeVersion
    fields = ("version", "created_at", "source", *IntakeVersion.CONTENT_FIELDS)
    readonly_fields = fields
    ordering = ["-version"]


class ChartNoteInline(_ReadOnlyHealthInline):
    model = ChartNote
    fields = ("created_at", "author", "body")
    readonly_fields = fields


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    form = AdminPatientForm
    list_display = ["id", "display_name", "created_at"]
    list_per_page = 50
    # No admin search: Django admin searches with GET (?q=...), which would put names and phones
    # in URLs and server logs. Staff search by POST at /staff/patients/search/.

    # --- the decision point ---------------------------------------------------------------

    def has_module_permission(self, request):
        return can(request.user, A.READ, C.IDENTITY)

    def has_view_permission(self, request, obj=None):
        return can(request.user, A.READ, C.IDENTITY, obj)

    def has_change_permission(self, request, obj=None):
        return can(request.user, A.WRITE, C.IDENTITY, obj) or can(request.user, A.WRITE, C.CONTACT, obj)

    def has_add_permission(self, request):
        return can(request.user, A.WRITE, C.IDENTITY) and can(request.user, A.WRITE, C.CONTACT)

    def has_delete_permission(self, request, obj=None):
        return False  # records leave only through the retention process (privacy)

    def get_fieldsets(self, request, obj=None):
        sets = []
        for category, fields in FIELDS_BY_CATEGORY.items():
            if can(request.user, A.READ, category, obj):
                sets.append((category.value.capitalize(), {"fields": list(fields)}))
        return sets

    def get_readonly_fields(self, request, obj=None):
        readonly = []
        for category, fields in FIELDS_BY_CATEGORY.items():
            if not can(request.user, A.WRITE, category, obj):
                readonly += fields
        return readonly

    def get_inlines(self, request, obj):
        if obj is not None and can(request.user, A.READ, C.HEALTH, obj):
            return [IntakeVersionInline, ChartNoteInline]
        return []

    # --- logging ----------------------------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        patient = Patient.objects.filter(pk=object_id).first() if str(object_id).isdigit() else None
        if patient is not None:
            # Written before the form (and any decrypted value) is built: an error later in the
            # request cannot skip it.
            for category in (C.IDENTITY, C.CONTACT, C.HEALTH):
                allowed = can(request.user, A.READ, category, patient)
                if allowed or category is C.IDENTITY:
                    log_access(request, patient, category, A.READ, allowed=allowed)
        return super().change_view(request, object_id, form_url, extra_context)

    # --- display -------------------------------------------------------------------------------

    @admin.display(description="Name")
    def display_name(self, obj):
        return f"{obj.last_name}, {obj.first_name}"
