"""Staff patient pages. Every view: scoped lookup → privacy.access decision → form → service.

What a role may not see is never rendered (the template gets `access`, built by the same decision
point), and a category the role may not open answers 404. Health reads are logged before any
health data is decrypted (privacy.access_log)."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from patients import selectors, services
from patients.forms import (
    CONTACT_FIELDS,
    IDENTITY_FIELDS,
    ChartNoteForm,
    IntakeForm,
    PatientForm,
    PatientSearchForm,
    PhotoUploadForm,
    TreatmentPreferencesForm,
)
from patients.models import ChartNote, IntakeVersion, Patient, PatientPhoto, TreatmentPreferences
from patients.photos import PhotoRejected
from privacy.access import Action, Category, can, require, visible_categories
from privacy.access_log import log_access, recently_viewed_by, require_and_log
from privacy.models import AccessLog

A, C = Action, Category
PAGE_SIZE = 25


def _patient(request, pk) -> Patient:
    # Every staff role reads identity; a signed-in user without a role gets a 404 like a bad id.
    require(request.user, A.READ, C.IDENTITY)
    return get_object_or_404(Patient, pk=pk)


def _page(request, patient, tab, **context):
    access = visible_categories(request.user)
    base = {
        "patient": patient,
        "tab": tab,
        "access": access,
        "formatted_phone": selectors.formatted_phone(patient.mobile_phone) if access["contact"]["read"] else "",
    }
    return {**base, **context}


def _writable_patient_fields(user) -> list[str]:
    fields = []
    if can(user, A.WRITE, C.IDENTITY):
        fields += IDENTITY_FIELDS
    if can(user, A.WRITE, C.CONTACT):
        fields += CONTACT_FIELDS
    return fields


# --- list, search, create, edit -------------------------------------------------------------------


@login_required
@require_GET
@never_cache
def patient_list(request):
    require(request.user, A.READ, C.IDENTITY)
    paginator = Paginator(Patient.objects.only(*selectors.RESULT_FIELDS).order_by("-pk"), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    rows = [
        {
            "patient": p,
            "masked_phone": selectors.masked_phone(p.mobile_phone),
        }
        for p in page.object_list
    ]
    may_create = can(request.user, A.WRITE, C.IDENTITY) and can(request.user, A.WRITE, C.CONTACT)
    return render(
        request,
        "patients/list.html",
        {"page": page, "rows": rows, "search_form": PatientSearchForm(), "may_create": may_create},
    )


@login_required
@require_http_methods(["GET", "POST"])
@never_cache
def patient_search(request):
    """POST only for the query: what is typed (a phone, a name) never lands in a URL or log."""
    require(request.user, A.READ, C.IDENTITY)
    results, kind, more = None, None, False
    form = PatientSearchForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        kind, results, more = selectors.search_results(form.cleaned_data["q"])
    return render(
        request, "patients/search.html", {"search_form": form, "results": results, "kind": kind, "more": more}
    )


def _duplicates_for(form, exclude_pk=None):
    data = form.cleaned_data
    return selectors.possible_duplicates(
        date_of_birth=data.get("date_of_birth"),
        email=data.get("email", ""),
        phone=data.get("mobile_phone", ""),
        exclude_pk=exclude_pk,
    )


@login_required
@require_http_methods(["GET", "POST"])
def patient_create(request):
    require(request.user, A.WRITE, C.IDENTITY)
    require(request.user, A.WRITE, C.CONTACT)
    form = PatientForm(request.POST or None, writable_fields=_writable_patient_fields(request.user))
    duplicates = []
    if request.method == "POST" and form.is_valid():
        duplicates = _duplicates_for(form)
        if duplicates and not form.cleaned_data.get("confirm_duplicate"):
            messages.warning(request, "A patient with the same phone, or the same email and date of birth, exists.")
        else:
            data = {k: v for k, v in form.cleaned_data.items() if k != "confirm_duplicate"}
            patient = services.create_patient(**data)
            messages.success(request, "Patient created.")
            return redirect("patients-detail", pk=patient.pk)
    rows = [{"patient": p, "masked_phone": selectors.masked_phone(p.mobile_phone)} for p in duplicates]
    return render(request, "patients/form.html", {"form": form, "duplicates": rows, "creating": True})


@login_required
@require_http_methods(["GET", "POST"])
def patient_edit(request, pk):
    patient = _patient(request, pk)
    writable = _writable_patient_fields(request.user)
    if not writable:
        raise Http404
    form = PatientForm(request.POST or None, instance=patient, writable_fields=writable)
    duplicates = []
    if request.method == "POST" and form.is_valid():
        duplicates = _duplicates_for(form, exclude_pk=patient.pk)
        changes = {name: form.cleaned_data[name] for name in form.fields if name in writable}
        services.update_patient(patient=Patient.objects.get(pk=patient.pk), changes=changes)
        messages.success(request, "Patient details saved.")
        if duplicates:
            messages.warning(request, "Another patient has the same phone, or the same email and date of birth.")
        return redirect("patients-detail", pk=patient.pk)
    return render(request, "patients/form.html", _page(request, patient, "overview", form=form, creating=False))


# --- patient page and its tabs ---------------------------------------------------------------------


@login_required
@require_GET
@never_cache
def patient_detail(request, pk):
    patient = _patient(request, pk)
    log_access(request, patient, C.IDENTITY, A.READ)
    context = _page(request, patient, "overview")
    if can(request.user, A.PRESENCE, C.HEALTH):
        context["intake_on_file"] = selectors.has_intake(patient)
        context["photo_consent"] = selectors.patient_has_photo_consent(patient)
    if can(request.user, A.READ, C.AUDIT):
        context["recently_viewed"] = recently_viewed_by(patient)
    if can(request.user, A.READ, C.SMS_CONSENT):
        context["sms_status"] = _sms_status(patient)
    return render(request, "patients/detail.html", context)


def _sms_status(patient) -> list[dict]:
    """Current SMS consent per purpose with the date and source of the event that decides it."""
    from consents.selectors import sms_status

    return [
        {"purpose": status.label.split(" (")[0], "event": status.latest}
        for status in sms_status(patient.mobile_phone or "")
    ]


@login_required
@require_GET
@never_cache
def intake(request, pk):
    patient = _patient(request, pk)
    require_and_log(request, A.READ, C.HEALTH, patient)
    versions = list(patient.intake_versions.select_related("recorded_by").order_by("-version"))
    prefs = TreatmentPreferences.objects.filter(patient=patient).select_related("updated_by").first()
    return render(
        request,
        "patients/intake.html",
        _page(request, patient, "health", current=versions[0] if versions else None, versions=versions, prefs=prefs),
    )


@login_required
@require_http_methods(["GET", "POST"])
def intake_new(request, pk):
    patient = _patient(request, pk)
    require(request.user, A.WRITE, C.HEALTH, patient)
    if request.method == "POST":
        form = IntakeForm(request.POST)
        if form.is_valid():
            log_access(request, patient, C.HEALTH, A.WRITE)
            version = services.record_intake(patient=patient, answers=form.cleaned_data, recorded_by=request.user)
            messages.success(request, f"Intake version {version.version} saved.")
            return redirect("patients-intake", pk=patient.pk)
    else:
        # Pre-filled with the latest answers: that is a read of health data.
        log_access(request, patient, C.HEALTH, A.READ)
        latest = selectors.latest_intake(patient)
        initial = {f: getattr(latest, f) for f in IntakeVersion.CONTENT_FIELDS} if latest else {}
        form = IntakeForm(initial=initial)
    return render(request, "patients/intake_form.html", _page(request, patient, "health", form=form))


def _intake_diff(version: IntakeVersion, previous: IntakeVersion | None) -> list[dict]:
    rows = []
    for name in IntakeVersion.CONTENT_FIELDS:
        field = IntakeVersion._meta.get_field(name)
        new = getattr(version, f"get_{name}_display")() if field.choices else getattr(version, name)
        old = ""
        if previous is not None:
            old = getattr(previous, f"get_{name}_display")() if field.choices else getattr(previous, name)
        rows.append({"label": field.verbose_name, "old": old, "new": new, "changed": previous is None or old != new})
    return rows


@login_required
@require_GET
@never_cache
def intake_version(request, pk, version):
    patient = _patient(request, pk)
    require_and_log(request, A.READ, C.HEALTH, patient)
    this = get_object_or_404(IntakeVersion.objects.select_related("recorded_by"), patient=patient, version=version)
    previous = patient.intake_versions.filter(version__lt=version).order_by("-version").first()
    return render(
        request,
        "patients/intake_version.html",
        _page(request, patient, "health", version=this, previous=previous, diff=_intake_diff(this, previous)),
    )


@login_required
@require_http_methods(["GET", "POST"])
def preferences_edit(request, pk):
    patient = _patient(request, pk)
    require(request.user, A.WRITE, C.HEALTH, patient)
    instance = TreatmentPreferences.objects.filter(patient=patient).first()
    log_access(request, patient, C.HEALTH, A.WRITE if request.method == "POST" else A.READ)
    form = TreatmentPreferencesForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        services.save_treatment_preferences(patient=patient, values=form.cleaned_data, updated_by=request.user)
        messages.success(request, "Treatment preferences saved.")
        return redirect("patients-intake", pk=patient.pk)
    return render(request, "patients/preferences_form.html", _page(request, patient, "health", form=form))


@login_required
@require_http_methods(["GET", "POST"])
@never_cache
def chart_notes(request, pk):
    patient = _patient(request, pk)
    require_and_log(request, A.READ, C.HEALTH, patient)
    may_write = can(request.user, A.WRITE, C.HEALTH, patient)
    form = ChartNoteForm(request.POST or None) if may_write else None
    if request.method == "POST":
        if not may_write:
            raise Http404
        if form.is_valid():
            services.add_chart_note(patient=patient, author=request.user, body=form.cleaned_data["body"])
            messages.success(request, "Chart note added.")
            return redirect("patients-notes", pk=patient.pk)
    notes = ChartNote.objects.filter(patient=patient).select_related("author")
    return render(request, "patients/notes.html", _page(request, patient, "notes", notes=notes, form=form))


@login_required
@require_http_methods(["GET", "POST"])
@never_cache
def photos(request, pk):
    patient = _patient(request, pk)
    require_and_log(request, A.READ, C.HEALTH, patient)
    may_write = can(request.user, A.WRITE, C.HEALTH, patient)
    consent = selectors.patient_has_photo_consent(patient)
    form = PhotoUploadForm(request.POST or None, request.FILES or None) if may_write and consent else None
    if request.method == "POST":
        if not may_write:
            raise Http404
        if form is None:
            messages.error(request, "No photo consent is on file for this patient: photos cannot be stored.")
        elif form.is_valid():
            try:
                services.store_photo(
                    patient=patient,
                    upload=form.cleaned_data["image"],
                    uploaded_by=request.user,
                    kind=form.cleaned_data["kind"],
                    caption=form.cleaned_data["caption"],
                )
            except PhotoRejected as exc:
                form.add_error("image", str(exc))
            else:
                messages.success(request, "Photo stored.")
                return redirect("patients-photos", pk=patient.pk)
    items = PatientPhoto.objects.filter(patient=patient).select_related("uploaded_by")
    return render(
        request,
        "patients/photos.html",
        _page(request, patient, "photos", photos=items, form=form, consent=consent, may_write=may_write),
        status=400 if form is not None and form.errors else 200,
    )


@login_required
@require_GET
def photo_image(request, pk, photo_pk):
    from patients.photos import read_decrypted

    patient = _patient(request, pk)
    require_and_log(request, A.READ, C.HEALTH, patient)
    photo = get_object_or_404(PatientPhoto, pk=photo_pk, patient=patient)
    response = HttpResponse(read_decrypted(photo.storage_name), content_type="image/jpeg")
    response["Cache-Control"] = "no-store, private"
    response["Content-Disposition"] = f'inline; filename="photo-{photo.pk}.jpg"'
    return response


@login_required
@require_GET
@never_cache
def access_history(request, pk):
    patient = _patient(request, pk)
    require_and_log(request, A.READ, C.AUDIT, patient)
    entries = AccessLog.objects.filter(patient=patient).select_related("user")[:200]
    history = selectors.write_history(patient)
    return render(request, "patients/access.html", _page(request, patient, "access", entries=entries, history=history))


# --- manager: the whole access log -------------------------------------------------------------


@login_required
@require_GET
@never_cache
def access_log(request):
    require(request.user, A.READ, C.AUDIT)
    qs = AccessLog.objects.select_related("user").order_by("-at", "-pk")
    patient_id = request.GET.get("patient", "").strip()
    user_id = request.GET.get("user", "").strip()
    if patient_id:
        if not patient_id.isdigit():
            messages.error(request, "Patient number must be a number.")
            patient_id = ""
        else:
            qs = qs.filter(patient_id=int(patient_id))
    if user_id:
        if not user_id.isdigit():
            user_id = ""
        else:
            qs = qs.filter(user_id=int(user_id))
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    staff = get_user_model().objects.filter(is_staff=True).order_by("username").only("pk", "username")
    return render(
        request,
        "patients/access_log.html",
        {"page": page, "staff": staff, "patient_filter": patient_id, "user_filter": user_id},
    )
