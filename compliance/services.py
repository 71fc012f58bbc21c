"""Writes of the compliance features (patient rights, de-identification, legal holds, the retention
schedule). Keyword-only, one transaction each, each with its audit row."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from privacy import events
from privacy.gate import disclose
from privacy.models import LegalHold, PrivacyEvent, RetentionRule, RightsRequest
from privacy.policy import Category, Purpose

Kind = PrivacyEvent.Kind

# Fields a patient may ask to correct (§10), with the label shown to them.
CORRECTABLE_FIELDS = {
    "first_name": "First name",
    "last_name": "Last name",
    "date_of_birth": "Date of birth",
    "email": "Email",
    "mobile_phone": "Mobile number",
    "address_line1": "Address line 1",
    "address_line2": "Address line 2",
    "city": "City",
    "state": "State",
    "postal_code": "ZIP code",
    "emergency_contact_name": "Emergency contact name",
    "emergency_contact_phone": "Emergency contact phone",
    "emergency_contact_relationship": "Emergency contact relationship",
    "other": "Something else (describe it)",
}


# --- patient rights ----------------------------------------------------------------------------
@transaction.atomic
def export_records(*, patient, request=None) -> bytes:
    """The patient's records ZIP. Handing it over is a disclosure to the patient (accounted for)."""
    from compliance.export import records_zip

    disclose(
        recipient="patient",
        categories=set(Category),
        purpose=Purpose.OPERATIONS,
        patient=patient,
        description="Records download from the patient portal (right of access, §7/§10)",
    )
    events.record(Kind.RECORDS_EXPORTED, patient=patient, request=request)
    return records_zip(patient)


@transaction.atomic
def create_rights_request(
    *, patient, kind: str, field_name: str = "", requested_value: str = "", note: str = "", request=None
) -> RightsRequest:
    if kind == RightsRequest.Kind.CORRECTION and field_name not in CORRECTABLE_FIELDS:
        raise ValidationError("Choose the field to correct.")
    rights_request = RightsRequest.objects.create(
        patient=patient,
        kind=kind,
        field_name=field_name,
        requested_value=requested_value.strip()[:300],
        patient_note=note.strip()[:1000],
    )
    events.record(
        Kind.REQUEST_CREATED,
        patient=patient,
        rights_request=rights_request,
        detail=f"{kind}{' of ' + field_name if field_name else ''}",
        request=request,
    )
    return rights_request


@transaction.atomic
def assign_request(*, rights_request: RightsRequest, assignee, by) -> RightsRequest:
    rights_request.assignee = assignee
    if rights_request.status == RightsRequest.Status.OPEN:
        rights_request.status = RightsRequest.Status.IN_PROGRESS
    rights_request.save(update_fields=["assignee", "status"])
    events.record(
        Kind.REQUEST_ASSIGNED,
        patient=rights_request.patient,
        user=by,
        rights_request=rights_request,
        detail=f"assigned to user #{assignee.pk if assignee else '-'}",
    )
    return rights_request


def _close(rights_request, *, status, resolution, by):
    rights_request.status = status
    rights_request.resolution = resolution
    rights_request.closed_at = timezone.now()
    rights_request.save(update_fields=["status", "resolution", "closed_at"])
    events.record(
        Kind.REQUEST_FULFILLED if status != RightsRequest.Status.DENIED else Kind.REQUEST_STATUS,
        patient=rights_request.patient,
        user=by,
        rights_request=rights_request,
        detail=f"status={status}",
    )


@transaction.atomic
def resolve_correction(*, rights_request: RightsRequest, approve: bool, value: str = "", resolution: str, by):
    """Apply the corrected value (staff may adjust it) or deny with the reason."""
    if rights_request.kind != RightsRequest.Kind.CORRECTION or not rights_request.is_open:
        raise ValidationError("This request is not an open correction request.")
    if not resolution.strip():
        raise ValidationError("Write the answer the patient will see.")
    if approve and rights_request.field_name != "other":
        patient = rights_request.patient
        _apply_field(patient, rights_request.field_name, (value or rights_request.requested_value).strip())
    _close(
        rights_request,
        status=RightsRequest.Status.FULFILLED if approve else RightsRequest.Status.DENIED,
        resolution=resolution.strip(),
        by=by,
    )
    return rights_request


def _apply_field(patient, field_name, value):
    from patients.services import normalised_mobile

    if field_name == "date_of_birth":
        try:
            value = dt.date.fromisoformat(value)
        except ValueError as exc:
            raise ValidationError("Enter the date of birth as YYYY-MM-DD.") from exc
    elif field_name == "mobile_phone":
        try:
            value = normalised_mobile(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc
    setattr(patient, field_name, value)
    patient.full_clean(exclude=["phone_bidx", "email_bidx", "dob_bidx", "name_bidx"])
    patient.save()


@transaction.atomic
def fulfil_deletion(*, rights_request: RightsRequest, by) -> RightsRequest:
    """Delete or de-identify what may go; keep the rest and say why. Partial when anything is kept."""
    from compliance.deletion import assess

    if rights_request.kind != RightsRequest.Kind.DELETION or not rights_request.is_open:
        raise ValidationError("This request is not an open deletion request.")
    items = assess(rights_request.patient)
    deleted, kept = [], []
    for item in items:
        if item.deletable:
            if item.apply:
                item.apply(rights_request.patient)
            deleted.append(f"Deleted: {item.label}.")
        else:
            until = f" (kept until {item.kept_until:%B %-d, %Y})" if item.kept_until else ""
            kept.append(f"Kept: {item.label}{until}. Why: {item.reason}")
    status = RightsRequest.Status.PARTIALLY_FULFILLED if kept else RightsRequest.Status.FULFILLED
    if not deleted:
        status = RightsRequest.Status.DENIED
    _close(rights_request, status=status, resolution="\n".join(deleted + kept), by=by)
    return rights_request


@transaction.atomic
def deny_request(*, rights_request: RightsRequest, resolution: str, by) -> RightsRequest:
    if not resolution.strip():
        raise ValidationError("Write the reason the patient will see.")
    _close(rights_request, status=RightsRequest.Status.DENIED, resolution=resolution.strip(), by=by)
    return rights_request


@transaction.atomic
def opt_out_of_marketing(*, patient, request=None):
    """One-click marketing opt-out (§10): an opt_out event in the SMS ledger for the patient's mobile."""
    from consents.models import SmsConsentEvent, SmsPurpose
    from consents.services import record_sms_consent_event

    if not patient.mobile_phone:
        return None
    event = record_sms_consent_event(
        phone=patient.mobile_phone,
        purpose=SmsPurpose.MARKETING,
        action=SmsConsentEvent.Action.OPT_OUT,
        source=SmsConsentEvent.Source.PORTAL_PREFERENCES,
        disclosure_text="Stop marketing messages (one-click opt-out on the patient's privacy page).",
        request=request,
        patient=patient,
    )
    events.record(Kind.MARKETING_OPT_OUT, patient=patient, request=request, detail=f"sms ledger #{event.pk}")
    return event


# --- de-identification -------------------------------------------------------------------------
@transaction.atomic
def clear_contact_details(*, patient) -> None:
    patient.email = ""
    patient.mobile_phone = ""
    patient.emergency_contact_name = ""
    patient.emergency_contact_phone = ""
    patient.emergency_contact_relationship = ""
    patient.save()
    events.record(Kind.DEIDENTIFIED, patient=patient, detail="contact details cleared")


@transaction.atomic
def deidentify_patient(*, patient, reason: str) -> None:
    """Remove what identifies the person; keep the row (disclosures and consent proof point at it).
    Date of birth keeps only the year (HIPAA safe harbour keeps no finer date)."""
    patient.first_name = "Removed"
    patient.last_name = f"Patient {patient.pk}"
    patient.email = ""
    patient.mobile_phone = ""
    patient.date_of_birth = dt.date(patient.date_of_birth.year, 1, 1)
    for name in (
        "address_line1",
        "address_line2",
        "city",
        "postal_code",
        "emergency_contact_name",
        "emergency_contact_phone",
        "emergency_contact_relationship",
    ):
        setattr(patient, name, "")
    patient.save()
    patient.appointments.update(notes="")
    for guardian in patient.guardians.all():
        guardian.full_name, guardian.email, guardian.mobile_phone = "Removed", "", ""
        guardian.save()
    for rights_request in patient.rights_requests.all():
        rights_request.requested_value, rights_request.patient_note = "", ""
        rights_request.save(update_fields=["requested_value", "patient_note"])
    events.record(Kind.DEIDENTIFIED, patient=patient, detail=f"identity ({reason})"[:300])


# --- legal holds and the retention schedule ----------------------------------------------------
@transaction.atomic
def place_legal_hold(*, patient, reason: str, by) -> LegalHold:
    if not reason.strip():
        raise ValidationError("A legal hold needs a reason.")
    if LegalHold.objects.filter(patient=patient, lifted_at__isnull=True).exists():
        raise ValidationError("This patient is already under a legal hold.")
    hold = LegalHold.objects.create(patient=patient, reason=reason.strip(), placed_by=by)
    events.record(Kind.HOLD_PLACED, patient=patient, user=by, detail=f"hold #{hold.pk}")
    return hold


@transaction.atomic
def lift_legal_hold(*, hold: LegalHold, reason: str, by) -> LegalHold:
    if hold.lifted_at:
        raise ValidationError("This hold was already lifted.")
    if not reason.strip():
        raise ValidationError("Say why the hold is lifted.")
    hold.lifted_at, hold.lifted_by, hold.lift_reason = timezone.now(), by, reason.strip()
    hold.save(update_fields=["lifted_at", "lifted_by", "lift_reason"])
    events.record(Kind.HOLD_LIFTED, patient=hold.patient, user=by, detail=f"hold #{hold.pk}")
    return hold


@transaction.atomic
def update_retention_rule(*, rule: RetentionRule, keep_days: int, basis: str, by) -> RetentionRule:
    before = rule.keep_days
    rule.keep_days, rule.basis, rule.updated_by = keep_days, basis.strip() or rule.basis, by
    rule.full_clean()
    rule.save()
    events.record(Kind.RETENTION_RULE_CHANGED, user=by, detail=f"{rule.record_type}: {before} -> {keep_days} days")
    return rule
