"""The outbox: `queue_message` is the one way any app puts an SMS in the outbox; call it inside
the transaction that makes the cause (a booking, an opt-in, a payment request) so both commit or
neither does. Keyword-only functions, one transaction each."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from cinrella import crypto
from messaging import templating
from messaging.models import (
    Kind,
    OutboundMessage,
    Purpose,
    Status,
)

logger = logging.getLogger("messaging")


class InvalidRecipient(ValueError):
    pass


# --- the outbox ----------------------------------------------------------------------------------


def _normalised(phone: str) -> str:
    e164 = crypto.normalise_phone(phone or "")
    if e164 is None:
        raise InvalidRecipient("Not a valid mobile number.")
    return e164


def queue_message(
    *,
    to_phone: str,
    kind: str,
    idempotency_key: str,
    purpose: str = Purpose.TRANSACTIONAL,
    context: dict | None = None,
    template: str | None = None,
    literal: str | None = None,
    due_at: dt.datetime | None = None,
    patient=None,
    patient_id=None,
    appointment=None,
    campaign=None,
    sent_by=None,
    send_now: bool = False,
    fresh_key: bool = False,
) -> OutboundMessage:
    """Put one SMS in the outbox (or return the row this idempotency key already made).

    The body is rendered now, from the kind's template and `context` (placeholders), so the
    message says what was true when its cause happened. Consent, quiet hours and the privacy gate
    are applied by the worker at send time, not here. `send_now` asks the worker to run as soon as
    the transaction commits (replies to an inbound text). Pass `patient_id` instead of `patient`
    when only the id is at hand.

    No transaction of its own around the whole: the one write is in a savepoint (a concurrent
    insert of the same key is caught there), and the caller's transaction, if any, covers the rest.

    `fresh_key=True` is for a key no committed row can hold and no concurrent transaction can
    write: it is made from a unique row the caller's transaction has just inserted (the reply to an
    inbound text: `inbound:<MessageSid>:reply`). Then there is nothing to look up and no savepoint:
    the row is inserted directly, and a duplicate, should one ever exist, raises IntegrityError
    into the caller's transaction, which rolls back whole."""
    if not fresh_key:
        existing = OutboundMessage.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    e164 = _normalised(to_phone)
    due = due_at or timezone.now()
    row = OutboundMessage(
        idempotency_key=idempotency_key,
        purpose=Purpose(purpose),
        kind=Kind(kind),
        to_phone=e164,
        to_bidx=crypto.blind_index("phone", e164),
        body=templating.render(kind, context or {}, template=template, literal=literal),
        patient=patient,
        appointment=appointment,
        campaign=campaign,
        sent_by=sent_by,
        due_at=due,
        next_attempt_at=due,
    )
    if patient is None:
        row.patient_id = patient_id
    if fresh_key:
        row.save(force_insert=True)
    else:
        try:
            with transaction.atomic():
                row.save()
        except IntegrityError:
            # A concurrent cause wrote the same key first: theirs is the message.
            return OutboundMessage.objects.get(idempotency_key=idempotency_key)
    if send_now:
        _dispatch_when_committed()
    return row


def _dispatch_when_committed() -> None:
    """Have the worker run as soon as the current transaction commits.

    When tasks are rows in this same database (django_tasks_db), the task row is written inside
    the transaction: it becomes visible to the task worker exactly when the outbox row commits
    (never before it, never without it), and costs no commit of its own. It is in a savepoint, so
    a failing enqueue never undoes the cause. Any other task backend (the immediate one in tests)
    is called once the transaction has committed."""
    from messaging.tasks import dispatch_due_messages

    if connection.in_atomic_block and _tasks_are_rows_in_this_database():
        try:
            with transaction.atomic():
                dispatch_due_messages.enqueue()
        except Exception:  # noqa: BLE001 — the periodic worker sends it anyway; never fail the cause
            logger.warning("could not enqueue an immediate SMS dispatch; the periodic worker will send it")
    else:
        transaction.on_commit(_enqueue_dispatch)


def _tasks_are_rows_in_this_database() -> bool:
    from django.db import router
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    from messaging.tasks import dispatch_due_messages

    return isinstance(dispatch_due_messages.get_backend(), DatabaseBackend) and (
        router.db_for_write(DBTaskResult) == connection.alias
    )


def _enqueue_dispatch():
    from messaging.tasks import dispatch_due_messages

    try:
        dispatch_due_messages.enqueue()
    except Exception:  # noqa: BLE001 — the periodic worker sends it anyway; never fail the request
        logger.warning("could not enqueue an immediate SMS dispatch; the periodic worker will send it")


def queue_unique(*, base_key: str, **kwargs) -> OutboundMessage:
    """Like queue_message, but when `base_key` belongs to a cancelled row (an appointment moved
    away and back) a fresh key is used, so a still-wanted message is not lost to the old row."""
    key = base_key
    for attempt in range(2, 50):
        existing = OutboundMessage.objects.filter(idempotency_key=key).only("status").first()
        if existing is None or existing.status != Status.CANCELLED:
            break
        key = f"{base_key}:{attempt}"
    return queue_message(idempotency_key=key, **kwargs)


@transaction.atomic
def cancel_pending(*, appointment, kinds, reason: str) -> int:
    """Cancel the appointment's messages of these kinds that have not been handed to the worker."""
    return OutboundMessage.objects.filter(appointment=appointment, kind__in=list(kinds), status=Status.PENDING).update(
        status=Status.CANCELLED, error_reason=reason[:300], status_updated_at=timezone.now()
    )
