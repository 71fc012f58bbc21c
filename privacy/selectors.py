"""Reads for the privacy app."""

import datetime as dt

from django.db.models import QuerySet
from django.utils import timezone

from privacy.models import Disclosure, LegalHold, PolicyAcceptance, PolicyVersion, RightsRequest

ACCOUNTING_YEARS = 6


def current_policy_version(at: dt.datetime | None = None) -> PolicyVersion | None:
    """The version in force at `at` (now by default): the latest one already effective."""
    at = at or timezone.now()
    return PolicyVersion.objects.filter(effective_at__lte=at).order_by("-effective_at", "-number").first()


def latest_acceptance(patient) -> PolicyAcceptance | None:
    return patient.policy_acceptances.select_related("version").order_by("-version__number", "-accepted_at").first()


def policy_update_to_announce(patient) -> PolicyVersion | None:
    """A version in force that this patient has not accepted and that is newer than one they had."""
    current = current_policy_version()
    if current is None:
        return None
    if PolicyAcceptance.objects.filter(patient=patient, version=current).exists():
        return None
    return current


def accounting_start(now=None) -> dt.datetime:
    now = now or timezone.now()
    return now - dt.timedelta(days=ACCOUNTING_YEARS * 365 + 2)  # 6 years, leap days included


def disclosures_of(patient) -> QuerySet[Disclosure]:
    """Accounting of disclosures (HIPAA §164.528): this patient's disclosures of the last 6 years."""
    return (
        Disclosure.objects.filter(patient=patient, at__gte=accounting_start())
        .select_related("recipient", "user", "approved_by")
        .order_by("-at", "-id")
    )


def access_history(patient, limit: int = 200) -> tuple[list[dict], bool]:
    """Who on the staff read this patient's record (the access log), newest first (§7)."""
    from privacy.models import AccessLog

    rows = (
        AccessLog.objects.filter(patient=patient, allowed=True, via_portal=False)
        .select_related("user")
        .order_by("-at")[:limit]
    )
    return [
        {
            "at": row.at,
            "who": f"{(row.user.get_full_name() if row.user else '') or row.username} ({row.roles or 'staff'})",
            "category": row.category,
            "action": row.action,
        }
        for row in rows
    ], True


def active_hold(patient) -> LegalHold | None:
    return LegalHold.objects.filter(patient=patient, lifted_at__isnull=True).first()


def held_patient_ids() -> set[int]:
    return set(LegalHold.objects.filter(lifted_at__isnull=True).values_list("patient_id", flat=True))


def request_queue(*, include_closed: bool = False) -> QuerySet[RightsRequest]:
    qs = RightsRequest.objects.select_related("assignee").order_by("due_at", "id")
    if not include_closed:
        qs = qs.exclude(status__in=RightsRequest.CLOSED)
    return qs
