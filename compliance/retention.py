"""Retention (§9, DESIGN.md §6): how long each kind of record is kept, and the job that purges or
de-identifies what expired.

Never touched: anything of a patient under an active legal hold; medical records before 7 years
after the last visit (minors: until 19 and at least 7 years); SMS consent proof before 5 years
(and the event that decides a phone's current state, ever); disclosures and audit rows before
6 years. Patients are never deleted (the disclosure log and consent ledger point at them): they
are de-identified."""

import datetime as dt
from dataclasses import dataclass, field

import pgtrigger
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.utils import timezone

from privacy.models import (
    RETENTION_MINIMUM_DAYS,
    Disclosure,
    PortalSignInAttempt,
    PortalSignInCode,
    PrivacyEvent,
    RecordType,
    RetentionRule,
    RetentionRun,
)
from privacy.selectors import held_patient_ids

VISIT_STATUSES_EXCLUDED = ("cancelled",)


def nineteenth_birthday(date_of_birth: dt.date) -> dt.date:
    try:
        return date_of_birth.replace(year=date_of_birth.year + 19)
    except ValueError:  # 29 February
        return date_of_birth.replace(year=date_of_birth.year + 19, day=28)


def medical_records_kept_until(*, date_of_birth: dt.date, last_visit: dt.date | None, keep_days: int) -> dt.date:
    """7 years (keep_days) after the last visit, and never before the patient turns 19."""
    until = nineteenth_birthday(date_of_birth)
    if last_visit is not None:
        until = max(until, last_visit + dt.timedelta(days=keep_days))
    return until


def last_visit_of(patient) -> dt.date | None:
    last = (
        patient.appointments.exclude(status__in=VISIT_STATUSES_EXCLUDED)
        .filter(starts_at__lte=timezone.now())
        .aggregate(last=Max("starts_at"))["last"]
    )
    return last.date() if last else None


def rule_days(record_type: RecordType) -> int:
    rule = RetentionRule.objects.filter(record_type=record_type).first()
    days = rule.keep_days if rule else RETENTION_MINIMUM_DAYS[record_type]
    return max(days, RETENTION_MINIMUM_DAYS[record_type])  # the floor holds even if a row was edited in SQL


def deidentified_patient_ids() -> set[int]:
    return set(
        PrivacyEvent.objects.filter(kind=PrivacyEvent.Kind.DEIDENTIFIED, detail__startswith="identity").values_list(
            "patient_id", flat=True
        )
    )


# --- the job -----------------------------------------------------------------------------------
@dataclass
class TargetResult:
    record_type: str
    description: str
    count: int = 0
    skipped_on_hold: int = 0
    notes: list = field(default_factory=list)
    ids: list = field(default_factory=list)  # what was (or would be) affected, for the dry-run listing


@dataclass
class Context:
    now: dt.datetime
    dry_run: bool
    held: set


def _patients_with_visits():
    from appointments.models import Appointment
    from patients.models import Patient

    visits = Appointment.objects.filter(patient=OuterRef("pk")).exclude(status__in=VISIT_STATUSES_EXCLUDED)
    return Patient.objects.annotate(
        last_visit=Max("appointments__starts_at", filter=~Q(appointments__status__in=VISIT_STATUSES_EXCLUDED)),
        has_visits=Exists(visits),
    )


def _medical_records(ctx: Context) -> TargetResult:
    from compliance.services import deidentify_patient

    days = rule_days(RecordType.MEDICAL_RECORDS)
    result = TargetResult(RecordType.MEDICAL_RECORDS, "Patients whose medical-record retention ended: de-identify")
    done = deidentified_patient_ids()
    cutoff = ctx.now - dt.timedelta(days=days)
    future = _future_appointments()
    candidates = _patients_with_visits().filter(has_visits=True, last_visit__lt=cutoff).exclude(pk__in=done)
    for patient in candidates.exclude(pk__in=future).order_by("pk"):
        until = medical_records_kept_until(
            date_of_birth=patient.date_of_birth, last_visit=patient.last_visit.date(), keep_days=days
        )
        if until > ctx.now.date():
            continue
        if patient.pk in ctx.held:
            result.skipped_on_hold += 1
            continue
        result.ids.append(patient.pk)
        if not ctx.dry_run:
            deidentify_patient(patient=patient, reason="retention: medical records")
    result.count = len(result.ids)
    return result


def _future_appointments():
    from appointments.models import Appointment

    return (
        Appointment.objects.exclude(status__in=VISIT_STATUSES_EXCLUDED)
        .filter(starts_at__gt=timezone.now())
        .values("patient_id")
    )


def _abandoned_leads(ctx: Context) -> TargetResult:
    from appointments.models import Appointment
    from compliance.services import deidentify_patient

    days = rule_days(RecordType.ABANDONED_LEADS)
    cutoff = ctx.now - dt.timedelta(days=days)
    result = TargetResult(RecordType.ABANDONED_LEADS, "Records that never led to a visit, untouched for a year")
    recent_activity = Appointment.objects.filter(patient=OuterRef("pk"), created_at__gte=cutoff)
    candidates = (
        _patients_with_visits()
        .filter(has_visits=False, created_at__lt=cutoff)
        .exclude(Exists(recent_activity))
        .exclude(pk__in=deidentified_patient_ids())
        .order_by("pk")
    )
    for patient in candidates:
        if patient.pk in ctx.held:
            result.skipped_on_hold += 1
            continue
        result.ids.append(patient.pk)
        if not ctx.dry_run:
            deidentify_patient(patient=patient, reason="retention: abandoned booking lead")
    result.count = len(result.ids)
    return result


def _technical_data(ctx: Context) -> TargetResult:
    days = rule_days(RecordType.TECHNICAL_DATA)
    cutoff = ctx.now - dt.timedelta(days=days)
    result = TargetResult(RecordType.TECHNICAL_DATA, "IP addresses and user agents older than the limit: cleared")
    events = PrivacyEvent.objects.filter(at__lt=cutoff).filter(Q(ip_address__isnull=False) | ~Q(user_agent=""))
    on_hold = events.filter(patient_id__in=ctx.held)
    result.skipped_on_hold = on_hold.count()
    events = events.exclude(patient_id__in=ctx.held)
    attempts = PortalSignInAttempt.objects.filter(at__lt=cutoff)
    codes = PortalSignInCode.objects.filter(created_at__lt=cutoff)
    result.count = events.count() + attempts.count() + codes.count()
    result.notes = [
        f"{events.count()} privacy-trail rows to clear, {attempts.count()} sign-in attempts and "
        f"{codes.count()} old sign-in codes to delete.",
        "Kept: IP and user agent in the SMS consent ledger and in policy acceptances (they are consent proof), "
        "and in the staff security log (audit, 6 years).",
    ]
    if not ctx.dry_run:
        events.update(ip_address=None, user_agent="")
        attempts.delete()
        codes.delete()
    return result


def _sms_consent_proof(ctx: Context) -> TargetResult:
    from consents.models import SmsConsentEvent
    from patients.models import Patient

    days = rule_days(RecordType.SMS_CONSENT_PROOF)
    cutoff = ctx.now - dt.timedelta(days=days)
    result = TargetResult(RecordType.SMS_CONSENT_PROOF, "Superseded SMS consent events older than the minimum")
    deciding = (
        SmsConsentEvent.objects.filter(action__in=[SmsConsentEvent.Action.OPT_IN, SmsConsentEvent.Action.OPT_OUT])
        .order_by("phone_bidx", "purpose", "-occurred_at", "-id")
        .distinct("phone_bidx", "purpose")
        .values_list("id", flat=True)
    )
    held_phones = set(
        Patient.objects.filter(pk__in=ctx.held).exclude(phone_bidx="").values_list("phone_bidx", flat=True)
    )
    old = SmsConsentEvent.objects.filter(occurred_at__lt=cutoff).exclude(id__in=list(deciding))
    on_hold = old.filter(Q(patient_id__in=ctx.held) | Q(phone_bidx__in=held_phones))
    result.skipped_on_hold = on_hold.count()
    doomed = old.exclude(Q(patient_id__in=ctx.held) | Q(phone_bidx__in=held_phones))
    result.ids = list(doomed.values_list("id", flat=True))
    result.count = len(result.ids)
    result.notes = ["The latest opt-in/opt-out of each phone and purpose is always kept: it is the current consent."]
    if not ctx.dry_run and result.ids:
        with pgtrigger.ignore("consents.SmsConsentEvent:append_only"):
            SmsConsentEvent.objects.filter(id__in=result.ids).delete()
    return result


def _disclosures(ctx: Context) -> TargetResult:
    days = rule_days(RecordType.DISCLOSURES)
    cutoff = ctx.now - dt.timedelta(days=days)
    result = TargetResult(RecordType.DISCLOSURES, "Disclosure-log rows older than the minimum")
    old = Disclosure.objects.filter(at__lt=cutoff)
    result.skipped_on_hold = old.filter(patient_id__in=ctx.held).count()
    result.ids = list(old.exclude(patient_id__in=ctx.held).values_list("id", flat=True))
    result.count = len(result.ids)
    if not ctx.dry_run and result.ids:
        with pgtrigger.ignore("privacy.Disclosure:append_only"):
            Disclosure.objects.filter(id__in=result.ids).delete()
    return result


def _audit(ctx: Context) -> TargetResult:
    days = rule_days(RecordType.AUDIT)
    cutoff = ctx.now - dt.timedelta(days=days)
    result = TargetResult(RecordType.AUDIT, "Privacy-trail rows older than the minimum")
    old = PrivacyEvent.objects.filter(at__lt=cutoff)
    result.skipped_on_hold = old.filter(patient_id__in=ctx.held).count()
    # A de-identification event is the proof a record was de-identified: kept while its patient row exists.
    keep = Q(patient_id__in=ctx.held) | Q(kind=PrivacyEvent.Kind.DEIDENTIFIED)
    result.ids = list(old.exclude(keep).values_list("id", flat=True))
    result.count = len(result.ids)
    if not ctx.dry_run and result.ids:
        with pgtrigger.ignore("privacy.PrivacyEvent:no_delete"):
            PrivacyEvent.objects.filter(id__in=result.ids).delete()
    return result


# Other apps may append (record_type, callable(ctx) -> TargetResult) for data they own.
TARGETS: list = [
    (RecordType.MEDICAL_RECORDS, _medical_records),
    (RecordType.ABANDONED_LEADS, _abandoned_leads),
    (RecordType.TECHNICAL_DATA, _technical_data),
    (RecordType.SMS_CONSENT_PROOF, _sms_consent_proof),
    (RecordType.DISCLOSURES, _disclosures),
    (RecordType.AUDIT, _audit),
]


def enforce(*, dry_run: bool, now: dt.datetime | None = None) -> RetentionRun:
    """Run every retention target once and write the report row. One transaction: all or nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        run = RetentionRun.objects.create(started_at=now, dry_run=dry_run)
        ctx = Context(now=now, dry_run=dry_run, held=held_patient_ids())
        report = {}
        for record_type, target in TARGETS:
            outcome = target(ctx)
            report[str(record_type)] = {
                "description": outcome.description,
                "count": outcome.count,
                "skipped_on_legal_hold": outcome.skipped_on_hold,
                "notes": outcome.notes,
                "ids": outcome.ids[:500],
            }
        run.report = report
        run.finished_at = timezone.now()
        run.save(update_fields=["report", "finished_at"])
    return run
