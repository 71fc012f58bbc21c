"""Staff consent pages: front-desk tablet signing and check-in warnings, SMS consent status and
verbal capture, and the managers' SMS consent proof export. (The patient's signed-link pages are
in portal.py; the signing page both use is in signing.py.)

Roles (DESIGN.md §3): signed consents are health data — front desk sees presence only
("signed ✓") and can hand the tablet over; providers and managers may open the signed PDF.
sms_consent: front desk, provider and manager read; front desk records verbal consent;
billing sees none of it (404)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from appointments.models import Appointment
from cinrella import crypto
from cinrella.request_meta import client_ip
from cinrella.roles import Role, has_role
from consents import disclosures, exports, links, selectors, services
from consents.forms import (
    RevokeConsentForm,
    SmsProofExportForm,
    VerbalSmsConsentForm,
)
from consents.models import ConsentSignature, ConsentTemplate, SmsConsentProofExport
from consents.views.signing import pdf_response, render_in_zone, sign_page, template_rows
from patients.models import Patient
from privacy import gate
from privacy.access import Action
from privacy.access_log import require_and_log
from privacy.gate import LegalBasis, PolicyViolation
from privacy.policy import Category, Purpose

CONSENT_DESK_ROLES = (Role.FRONT_DESK, Role.PROVIDER, Role.MANAGER)
CONSENT_CONTENT_ROLES = (Role.PROVIDER, Role.MANAGER)
SMS_CONSENT_READ_ROLES = (Role.FRONT_DESK, Role.PROVIDER, Role.MANAGER)
SMS_CONSENT_RECORD_ROLES = (Role.FRONT_DESK,)


def _allow(request, *roles) -> None:
    """Out-of-scope answers 404, never 403-with-details (DESIGN.md §3)."""
    if not (request.user.is_superuser or has_role(request.user, *roles)):
        raise Http404


def _may(request, *roles) -> bool:
    return request.user.is_superuser or has_role(request.user, *roles)


# --- staff: check-in warning, patient consents, tablet signing --------------------------------------


@login_required
def appointment_consents(request, appointment_id):
    """Check-in panel: "consent X missing — sign now" for the appointment's service."""
    _allow(request, *CONSENT_DESK_ROLES)
    appointment = get_object_or_404(
        Appointment.objects.select_related("service", "patient", "location"), pk=appointment_id
    )
    missing = selectors.missing_consents(appointment)
    context = {
        "appointment": appointment,
        "patient": appointment.patient,
        "missing": missing,
        "required": template_rows(appointment.patient, selectors.required_templates(appointment.service)),
    }
    template = "consents/partials/appointment_consents.html" if request.htmx else "consents/appointment.html"
    return render_in_zone(request, template, context, tz_name=appointment.location.time_zone)


@login_required
def patient_consents(request, patient_id):
    _allow(request, *CONSENT_DESK_ROLES)
    patient = get_object_or_404(Patient, pk=patient_id)
    templates = ConsentTemplate.objects.filter(active=True, versions__isnull=False).distinct().order_by("title")
    return render_in_zone(
        request,
        "consents/patient.html",
        {
            "patient": patient,
            "rows": template_rows(patient, templates),
            "signatures": selectors.patient_signatures(patient),
            "may_read_content": _may(request, *CONSENT_CONTENT_ROLES),
            "revoke_form": RevokeConsentForm(),
            "portal_link": request.session.pop(f"consents-link-{patient.pk}", None),
            "now": timezone.now(),
        },
    )


@login_required
@require_POST
def make_portal_link(request, patient_id):
    """Make a signed, expiring signing link for the patient (staff copy it into an email/SMS)."""
    _allow(request, *CONSENT_DESK_ROLES)
    patient = get_object_or_404(Patient, pk=patient_id)
    request.session[f"consents-link-{patient.pk}"] = request.build_absolute_uri(links.signing_url(patient))
    return redirect("consents-patient", patient_id=patient.pk)


@login_required
def staff_sign(request, patient_id, template_slug):
    """Front-desk tablet page: the patient reads, draws and types their name."""
    _allow(request, *CONSENT_DESK_ROLES)
    patient = get_object_or_404(Patient, pk=patient_id)
    template = get_object_or_404(ConsentTemplate, slug=template_slug, active=True)
    appointment = None
    appointment_id = request.GET.get("appointment", "")
    if appointment_id:
        if not appointment_id.isdigit():
            raise Http404
        appointment = get_object_or_404(Appointment, pk=int(appointment_id), patient=patient)
    done_url = (
        reverse("consents-appointment", args=[appointment.pk])
        if appointment
        else reverse("consents-patient", args=[patient.pk])
    )
    return sign_page(
        request,
        patient=patient,
        template=template,
        appointment=appointment,
        channel=ConsentSignature.Channel.FRONT_DESK,
        staff_user=request.user,
        done_url=done_url,
        base="base_staff.html",
    )


@login_required
def staff_signature_pdf(request, signature_id):
    _allow(request, *CONSENT_CONTENT_ROLES)
    signature = get_object_or_404(
        ConsentSignature.objects.select_related("template_version__template"), pk=signature_id
    )
    # A signed treatment consent is health data: its download is on the access log (§7).
    require_and_log(request, Action.READ, Category.HEALTH, signature.patient)
    return pdf_response(signature)


@login_required
@require_POST
def staff_revoke(request, signature_id):
    _allow(request, *CONSENT_DESK_ROLES)
    signature = get_object_or_404(ConsentSignature, pk=signature_id)
    form = RevokeConsentForm(request.POST)
    if form.is_valid():
        try:
            services.revoke_consent(
                signature=signature, reason=form.cleaned_data["reason"], recorded_by=request.user, request=request
            )
        except services.ConsentError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "The consent is revoked from now on.")
    return redirect("consents-patient", patient_id=signature.patient_id)


# --- SMS consent: staff status and verbal capture ------------------------------------------------


HISTORY_SHOWN = 50


@login_required
def staff_sms_consent(request, patient_id):
    """The number's consent state and its ledger: who asserted each event and how it was verified."""
    _allow(request, *SMS_CONSENT_READ_ROLES)
    patient = get_object_or_404(Patient, pk=patient_id)
    history = list(
        selectors.sms_consent_history(patient.mobile_phone or "")
        .select_related("staff_user")
        .order_by("-occurred_at", "-id")[: HISTORY_SHOWN + 1]
    )
    may_record = _may(request, *SMS_CONSENT_RECORD_ROLES)
    form = VerbalSmsConsentForm(request.POST or None)
    if request.method == "POST":
        if not may_record:
            raise Http404
        if form.is_valid():
            try:
                services.record_verbal_sms_consent(
                    patient=patient,
                    purpose=form.cleaned_data["purpose"],
                    action=form.cleaned_data["action"],
                    note=form.cleaned_data["note"],
                    staff_user=request.user,
                    request=request,
                )
            except (services.ConsentError, services.InvalidConsentPhone) as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, "Recorded in the SMS consent ledger.")
                return redirect("consents-sms-status", patient_id=patient.pk)
    return render_in_zone(
        request,
        "consents/sms_status.html",
        {
            "patient": patient,
            "statuses": selectors.sms_status(patient.mobile_phone or ""),
            "history": history[:HISTORY_SHOWN],
            "history_more": len(history) > HISTORY_SHOWN,
            "form": form,
            "may_record": may_record,
            "transactional_disclosure": disclosures.transactional_disclosure(),
        },
        status=400 if request.method == "POST" else 200,
    )


# --- managers: SMS consent proof export -----------------------------------------------------------


@login_required
def sms_proof_export(request):
    """The full consent history of one phone (entered in a POST form, never in the URL), as CSV or
    PDF. In-clinic downloads are logged; sending it outside goes through the privacy gate first."""
    _allow(request, Role.MANAGER)
    form = SmsProofExportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        events = list(selectors.sms_consent_history(data["phone"]).select_related("staff_user"))
        try:
            with transaction.atomic():
                _log_proof_export(request, data, events)
        except PolicyViolation as exc:
            form.add_error(None, f"Refused by the privacy policy: {exc}")
        else:
            return _proof_file(data, events)
    return render_in_zone(
        request, "consents/sms_proof.html", {"form": form}, status=400 if request.method == "POST" else 200
    )


def _log_proof_export(request, data, events) -> None:
    outside = data["destination"] == "outside"
    recipient = data.get("recipient") if outside else None
    if outside:
        basis = None
        if data.get("legal_basis"):
            basis = LegalBasis(kind=data["legal_basis"], reference=data["legal_reference"], approved_by=request.user)
        patients = {e.patient for e in events if e.patient_id} or {None}
        for patient in patients:
            gate.disclose(
                recipient=recipient,
                categories={Category.SMS_CONSENT, Category.CONTACT},
                purpose=Purpose.LEGAL if basis else Purpose.OPERATIONS,
                patient=patient,
                description=f"SMS consent proof ({data['file_format'].upper()}, {len(events)} events)",
                user=request.user,
                basis=basis,
            )
    SmsConsentProofExport.objects.create(
        user=request.user,
        phone_bidx=crypto.blind_index("phone", data["phone"]),
        file_format=data["file_format"],
        destination=SmsConsentProofExport.Destination.OUTSIDE
        if outside
        else SmsConsentProofExport.Destination.IN_CLINIC,
        recipient=recipient,
        event_count=len(events),
        ip_address=client_ip(request),
    )


def _proof_file(data, events):
    if data["file_format"] == "pdf":
        response = HttpResponse(exports.sms_proof_pdf(data["phone"], events), content_type="application/pdf")
        filename = "sms-consent-proof.pdf"
    else:
        response = HttpResponse(exports.sms_proof_csv(events), content_type="text/csv; charset=utf-8")
        filename = "sms-consent-proof.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
