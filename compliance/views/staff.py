"""Staff privacy pages: the rights-request queue, retention schedule, legal holds, accounting of
disclosures. Managers only (DESIGN.md §3: audit is manager-read)."""

import csv
import functools
import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from cinrella.clinic_time import clinic_time_zone
from cinrella.roles import Role, has_role
from compliance import deletion, services
from compliance.forms import (
    AssignForm,
    DenyForm,
    GuardianConsentForm,
    HoldForm,
    LiftHoldForm,
    PatientIdForm,
    ResolveForm,
    RetentionRuleForm,
)
from compliance.services import CORRECTABLE_FIELDS
from patients.models import Patient
from privacy import events, minors, selectors
from privacy.models import LegalHold, PrivacyEvent, RetentionRule, RetentionRun, RightsRequest


def roles_required(*roles):
    def decorator(view):
        @functools.wraps(view)
        @login_required
        def wrapper(request, *args, **kwargs):
            if not (request.user.is_superuser or has_role(request.user, *roles)):
                raise PermissionDenied
            with clinic_time_zone():
                return view(request, *args, **kwargs)

        return wrapper

    return decorator


manager_required = roles_required(Role.MANAGER)


def _error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


@manager_required
def overview(request):
    queue = selectors.request_queue()
    return render(
        request,
        "compliance/staff/overview.html",
        {
            "open_requests": queue.count(),
            "overdue": queue.filter(due_at__lt=timezone.now()).count(),
            "active_holds": LegalHold.objects.filter(lifted_at__isnull=True).count(),
            "last_run": RetentionRun.objects.filter(dry_run=False).first(),
            "export_form": PatientIdForm(),
        },
    )


@manager_required
def request_queue(request):
    show_closed = request.GET.get("closed") == "1"
    rows = selectors.request_queue(include_closed=show_closed)[:200]
    return render(
        request, "compliance/staff/requests.html", {"rows": rows, "show_closed": show_closed, "now": timezone.now()}
    )


@manager_required
@require_http_methods(["GET", "POST"])
def request_detail(request, pk):
    rights_request = get_object_or_404(RightsRequest.objects.select_related("patient", "assignee"), pk=pk)
    assign_form = AssignForm(initial={"assignee": rights_request.assignee_id})
    resolve_form = ResolveForm()
    deny_form = DenyForm()
    if request.method == "POST":
        action = request.POST.get("do")
        try:
            if action == "assign":
                assign_form = AssignForm(request.POST)
                if assign_form.is_valid():
                    services.assign_request(
                        rights_request=rights_request, assignee=assign_form.cleaned_data["assignee"], by=request.user
                    )
                    messages.success(request, "Assignee saved.")
                    return redirect("privacy-staff-request", pk=pk)
            elif action == "resolve":
                resolve_form = ResolveForm(request.POST)
                if resolve_form.is_valid():
                    services.resolve_correction(
                        rights_request=rights_request,
                        approve=resolve_form.cleaned_data["action"] == "approve",
                        value=resolve_form.cleaned_data["value"],
                        resolution=resolve_form.cleaned_data["resolution"],
                        by=request.user,
                    )
                    messages.success(request, "Correction request answered.")
                    return redirect("privacy-staff-request", pk=pk)
            elif action == "fulfil_deletion":
                services.fulfil_deletion(rights_request=rights_request, by=request.user)
                messages.success(request, "Deletion request fulfilled as far as the law allows.")
                return redirect("privacy-staff-request", pk=pk)
            elif action == "deny":
                deny_form = DenyForm(request.POST)
                if deny_form.is_valid():
                    services.deny_request(
                        rights_request=rights_request, resolution=deny_form.cleaned_data["resolution"], by=request.user
                    )
                    messages.success(request, "Request denied; the reason is on record.")
                    return redirect("privacy-staff-request", pk=pk)
        except ValidationError as error:
            messages.error(request, _error_text(error))
    items = deletion.assess(rights_request.patient) if rights_request.kind == RightsRequest.Kind.DELETION else []
    return render(
        request,
        "compliance/staff/request_detail.html",
        {
            "r": rights_request,
            "field_label": CORRECTABLE_FIELDS.get(rights_request.field_name, ""),
            "items": items,
            "assign_form": assign_form,
            "resolve_form": resolve_form,
            "deny_form": deny_form,
            "trail": rights_request.events.select_related("user").order_by("at", "id"),
            "now": timezone.now(),
        },
    )


@manager_required
@require_http_methods(["GET", "POST"])
def retention_schedule(request):
    rules = list(RetentionRule.objects.select_related("updated_by"))
    forms = {rule.pk: RetentionRuleForm(instance=rule, prefix=f"r{rule.pk}") for rule in rules}
    if request.method == "POST":
        rule = get_object_or_404(RetentionRule, pk=request.POST.get("rule"))
        form = RetentionRuleForm(request.POST, instance=RetentionRule.objects.get(pk=rule.pk), prefix=f"r{rule.pk}")
        if form.is_valid():
            try:
                services.update_retention_rule(
                    rule=rule,
                    keep_days=form.cleaned_data["keep_days"],
                    basis=form.cleaned_data["basis"],
                    by=request.user,
                )
            except ValidationError as error:
                messages.error(request, _error_text(error))
            else:
                messages.success(request, "Retention rule saved.")
                return redirect("privacy-staff-retention")
        forms[rule.pk] = form
    return render(
        request,
        "compliance/staff/retention.html",
        {
            "rows": [(rule, forms[rule.pk]) for rule in rules],
            "runs": RetentionRun.objects.all()[:10],
        },
    )


@manager_required
@require_http_methods(["GET", "POST"])
def legal_holds(request):
    form = HoldForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        patient = Patient.objects.filter(pk=form.cleaned_data["patient_id"]).first()
        if patient is None:
            form.add_error("patient_id", "No patient with this number.")
        else:
            try:
                services.place_legal_hold(patient=patient, reason=form.cleaned_data["reason"], by=request.user)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, f"Legal hold placed on patient #{patient.pk}.")
                return redirect("privacy-staff-holds")
    holds = LegalHold.objects.select_related("placed_by", "lifted_by").order_by("lifted_at", "-placed_at")[:200]
    return render(request, "compliance/staff/holds.html", {"form": form, "holds": holds, "lift_form": LiftHoldForm()})


@manager_required
@require_POST
def lift_hold(request, pk):
    hold = get_object_or_404(LegalHold, pk=pk)
    form = LiftHoldForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why the hold is lifted.")
        return redirect("privacy-staff-holds")
    try:
        services.lift_legal_hold(hold=hold, reason=form.cleaned_data["reason"], by=request.user)
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, f"Legal hold on patient #{hold.patient_id} lifted.")
    return redirect("privacy-staff-holds")


@manager_required
@require_POST
def export_disclosures(request):
    """CSV of one patient's disclosures (last 6 years) for the manager: an in-clinic download,
    logged in the privacy trail (allow-listed in the outbound code walk)."""
    form = PatientIdForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter a patient number.")
        return redirect("privacy-staff-home")
    patient = get_object_or_404(Patient, pk=form.cleaned_data["patient_id"])
    rows = selectors.disclosures_of(patient)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            "date_utc",
            "recipient",
            "recipient_kind",
            "categories",
            "purpose",
            "description",
            "staff_user",
            "legal_basis",
            "legal_reference",
            "approved_by",
        ]
    )
    for d in rows:
        writer.writerow(
            [
                d.at.isoformat(timespec="seconds"),
                d.recipient.name,
                d.recipient.kind,
                " ".join(d.categories),
                d.purpose,
                _csv_safe(d.description),
                d.user.get_username() if d.user else "",
                d.legal_basis,
                _csv_safe(d.legal_reference),
                d.approved_by.get_username() if d.approved_by else "",
            ]
        )
    events.record(PrivacyEvent.Kind.DISCLOSURES_EXPORTED, patient=patient, user=request.user, request=request)
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="disclosures-patient-{patient.pk}.csv"'
    return response


def _csv_safe(value: str) -> str:
    """No spreadsheet formula injection from free text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


@manager_required
def run_detail(request, pk):
    run = get_object_or_404(RetentionRun, pk=pk)
    return render(request, "compliance/staff/run.html", {"run": run})


@roles_required(Role.FRONT_DESK, Role.MANAGER)
@require_http_methods(["GET", "POST"])
def guardian_consent(request, patient_id):
    """Front desk records a guardian and their consent for an under-18 patient (§11)."""
    patient = get_object_or_404(Patient, pk=patient_id)
    form = GuardianConsentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            minors.record_guardian_consent(
                patient=patient,
                full_name=data["full_name"],
                relationship=data["relationship"],
                consent_text=data["consent_text"],
                method=data["method"],
                email=data["email"],
                mobile_phone=data["mobile_phone"],
                recorded_by=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Guardian consent recorded. This patient may now be booked.")
            return redirect("privacy-staff-guardian", patient_id=patient.pk)
    return render(
        request,
        "compliance/staff/guardian.html",
        {
            "patient": patient,
            "form": form,
            "minor": minors.is_minor(patient.date_of_birth),
            "consented": minors.has_guardian_consent(patient),
            "consents": patient.guardian_consents.select_related("guardian", "recorded_by"),
        },
    )
