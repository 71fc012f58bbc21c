"""The outbox's readiness check (cinrella.health): due messages are being picked up.

A message due longer than HEALTH_OUTBOX_OVERDUE_SECONDS and still pending, or one left "sending"
longer than the reconciliation timeout plus that threshold, means no worker is draining the queue
(stopped, wedged, or failing every round). Messages waiting on purpose (quiet hours, a retry after
a provider failure) have a future `next_attempt_at` and do not count. Rows set aside for a person
(quarantined, unknown) are for the manager's page, not for the load balancer."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Min
from django.utils import timezone

from cinrella import health
from messaging.models import OutboundMessage, Status


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 120 else f"{seconds:.0f} s"


@health.register("outbox")
def outbox_is_draining() -> str | None:
    limit = settings.HEALTH_OUTBOX_OVERDUE_SECONDS
    if limit <= 0:
        return None
    now = timezone.now()
    oldest_due = OutboundMessage.objects.filter(status=Status.PENDING).aggregate(at=Min("next_attempt_at"))["at"]
    if oldest_due is not None and (now - oldest_due).total_seconds() > limit:
        return (
            f"the oldest due text message has waited {_minutes((now - oldest_due).total_seconds())} "
            f"(limit {_minutes(limit)}): the send worker is not running or fails every round"
        )
    stuck_before = now - dt.timedelta(seconds=settings.SMS_SENDING_TIMEOUT_SECONDS + limit)
    oldest_claim = OutboundMessage.objects.filter(status=Status.SENDING).aggregate(at=Min("claimed_at"))["at"]
    if oldest_claim is not None and oldest_claim < stuck_before:
        return (
            f"a text message has been 'sending' for {_minutes((now - oldest_claim).total_seconds())}: "
            "interrupted sends are not being reconciled"
        )
    return None
