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


# Integration point for the access log (privacy.access, built on another branch): callables
# patient -> list of {"at", "who", "category", "action"} dicts. `access_history` also picks up
# `privacy.access.access_history_for_patient` on its own when that function exists.
ACCESS_HISTORY_PROVIDERS: list = []


def access_history(patient) -> tuple[list[dict], bool]:
    """Who viewed this patient's record: (rows newest first, whether an access log exists)."""
    providers = list(ACCESS_HISTORY_PROVIDERS)
    try:
        from privacy import access  # noqa: PLC0415 — optional module from the access-log branch

        if hasattr(access, "access_history_for_patient"):
            providers.append(access.access_history_for_patient)
    except ImportError:
        pass
    if not providers:
        return [], False
    rows = [row for provider in providers for row in provider(patient)]
    return sorted(rows, key=lambda r: r["at"], reverse=True), True


def active_hold(patient) -> LegalHold | None:
    return LegalHold.objects.filter(patient=patient, lifted_at__isnull=True).first()


def held_patient_ids() -> set[int]:
    return set(LegalHold.objects.filter(lifted_at__isnull=True).values_list("patient_id", flat=True))


def request_queue(*, include_closed: bool = False) -> QuerySet[RightsRequest]:
    qs = RightsRequest.objects.select_related("assignee").order_by("due_at", "id")
    if not include_closed:
        qs = qs.exclude(status__in=RightsRequest.CLOSED)
    return qs
