"""Reads for the "Needs attention" page. Nothing here decrypts: rows are loaded without their
encrypted columns (a message that cannot be decrypted is exactly what this page must show), and
the page shows ids, kinds, statuses and reasons, never a phone number or a text."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from cinrella import health
from cinrella.models import Heartbeat, PeriodicJob
from messaging.models import OutboundMessage, Status
from payments.models import Payment, Refund

LIMIT = 50
RECENT_TEXT_FAILURES = dt.timedelta(days=7)
RECENT_PAYMENT_FAILURES = dt.timedelta(days=30)
RECENT_TASK_FAILURES = dt.timedelta(days=7)
MESSAGE_FIELDS = (
    "id", "kind", "status", "error_code", "error_reason", "patient_id", "appointment_id", "attempts",
    "created_at", "next_attempt_at", "claimed_at", "status_updated_at",
)  # fmt: skip


@dataclass(frozen=True)
class Section:
    rows: list
    total: int


def _section(queryset) -> Section:
    rows = list(queryset[:LIMIT])
    total = len(rows) if len(rows) < LIMIT else queryset.count()
    return Section(rows, total)


def messages_set_aside() -> Section:
    """'unknown' (whether it went out could not be settled) and 'quarantined' (could not be read
    or recorded): a manager decides."""
    return _section(
        OutboundMessage.objects.filter(status__in=[Status.UNKNOWN, Status.QUARANTINED])
        .only(*MESSAGE_FIELDS)
        .order_by("-status_updated_at", "-id")
    )


def messages_stuck(now) -> Section:
    """What /readyz's outbox check counts: due and not picked up, or 'sending' past the timeout."""
    overdue = now - dt.timedelta(seconds=settings.HEALTH_OUTBOX_OVERDUE_SECONDS)
    stuck = now - dt.timedelta(seconds=settings.SMS_SENDING_TIMEOUT_SECONDS)
    return _section(
        OutboundMessage.objects.filter(
            Q(status=Status.PENDING, next_attempt_at__lt=overdue) | Q(status=Status.SENDING, claimed_at__lt=stuck)
        )
        .only(*MESSAGE_FIELDS)
        .order_by("next_attempt_at", "id")
    )


def messages_failed(now) -> Section:
    return _section(
        OutboundMessage.objects.filter(status=Status.FAILED, status_updated_at__gte=now - RECENT_TEXT_FAILURES)
        .only(*MESSAGE_FIELDS)
        .order_by("-status_updated_at", "-id")
    )


def payments_failed(now) -> Section:
    return _section(
        Payment.objects.filter(status=Payment.Status.FAILED, updated_at__gte=now - RECENT_PAYMENT_FAILURES)
        .only("id", "kind", "amount_cents", "currency", "failure_reason", "patient_id", "appointment_id", "updated_at")
        .order_by("-updated_at", "-id")
    )


def refunds_failed(now) -> Section:
    return _section(
        Refund.objects.filter(status=Refund.Status.FAILED, updated_at__gte=now - RECENT_PAYMENT_FAILURES)
        .only("id", "payment_id", "amount_cents", "failure_reason", "updated_at")
        .order_by("-updated_at", "-id")
    )


def tasks_failed(now) -> Section:
    """Failed background tasks: the task and the exception class only (a traceback may quote data)."""
    return _section(
        DBTaskResult.objects.filter(status=TaskResultStatus.FAILED, finished_at__gte=now - RECENT_TASK_FAILURES)
        .only("id", "task_path", "finished_at", "exception_class_path", "worker_ids")
        .order_by("-finished_at")
    )


def periodic_jobs() -> list[PeriodicJob]:
    return list(PeriodicJob.objects.order_by("-consecutive_failures", "name")[:LIMIT])


def processes() -> list[Heartbeat]:
    return list(Heartbeat.objects.order_by("process", "-last_seen_at")[:LIMIT])


def readiness() -> health.Report:
    return health.run_checks()
