"""Did an interrupted attempt reach the provider? (issue 13 point 1, issue 17 point 10)

An attempt is *unresolved* when the worker does not know whether the provider got it: the worker
died after claiming the row (it stays "sending" past SMS_SENDING_TIMEOUT_SECONDS), or the
provider did not answer in time / the connection broke after the request left. Such a row has
`unresolved_since` = when that attempt began, waits in "pending", and is never sent again before
the provider has been asked:

- found exactly one message that can be this attempt → "sent" with that SID;
- found none → the attempt never reached the provider: the row goes back in the queue (consent,
  quiet hours and the privacy gate are applied again when it goes);
- found several → truly ambiguous: "unknown", set aside for a manager with the reason;
- the provider cannot be asked → asked again later; after SMS_RETRY_WINDOW_SECONDS, "unknown".

What "can be this attempt" means: the locmem and console backends keep our reference. Twilio keeps
none, so `find_sent` lists messages to the row's number created since the attempt began, with the
row's text, and here every SID already recorded on another row is dropped. That window belongs to
the row alone because the worker never has two messages to one number in flight
(`dispatch.claim_batch`): a message to the number created since the attempt began, with this text
and no owner, is this attempt. Identical replies sent minutes apart (HELP twice) no longer match
each other, which is what stalled the queue for good before.

Each row is handled in its own savepoint: a row that cannot be read (a key problem), or whose
answer cannot be recorded, is set aside ("quarantined", with the reason in words) and the round
goes on. Nothing here ever stops the queue."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce

from messaging import provider_errors
from messaging.backends import BaseBackend, SmsSendError
from messaging.models import OutboundMessage, Status

logger = logging.getLogger("messaging")

# Twilio stamps date_created to the second, on its own clock.
CLOCK_SKEW = dt.timedelta(seconds=5)
BATCH_SIZE = 200


@dataclass(frozen=True)
class Finding:
    sid: str = ""
    sent_at: dt.datetime | None = None
    candidates: int = 0


def find_attempt(backend: BaseBackend, row: OutboundMessage) -> Finding:
    """The provider's message for the row's unresolved attempt. Raises SmsSendError when the
    provider cannot be asked."""
    since = (row.unresolved_since or row.claimed_at or row.created_at) - CLOCK_SKEW
    candidates = backend.find_sent(reference=str(row.pk), to=row.to_phone, body=row.body, since=since)
    taken = set(
        OutboundMessage.objects.filter(provider_sid__in=[c.sid for c in candidates])
        .exclude(pk=row.pk)
        .values_list("provider_sid", flat=True)
    )
    own = [c for c in candidates if c.sid not in taken]
    if len(own) == 1:
        return Finding(sid=own[0].sid, sent_at=own[0].created_at, candidates=1)
    return Finding(candidates=len(own))


def window() -> dt.timedelta:
    return dt.timedelta(seconds=settings.SMS_RETRY_WINDOW_SECONDS)


def duration(delta: dt.timedelta) -> str:
    """'45 min', '3 h', '2.5 h': how long something kept failing, for people."""
    minutes = delta.total_seconds() / 60
    if minutes < 90:
        return f"{minutes:.0f} min"
    return f"{minutes / 60:.1f}".removesuffix(".0") + " h"


def set_aside(pk: int, reason: str, now, *, code: str = "") -> None:
    """Quarantine a row a person must look at; no decryption needed (the row may be unreadable)."""
    OutboundMessage.objects.filter(pk=pk).update(
        status=Status.QUARANTINED,
        error_reason=reason[:300],
        error_code=code[:16],
        status_updated_at=now,
        claimed_at=None,
    )
    logger.warning("outbox message #%s set aside: %s", pk, code or "see its reason")


def log_unexpected(pk: int, exc: BaseException) -> None:
    """A traceback for anything but a decryption failure (that one is expected, and its message is
    the same for every row): the code path, never the row's content."""
    from cinrella.crypto import DecryptionError

    if not isinstance(exc, DecryptionError):
        logger.error("outbox message #%s: %s while reading or deciding it", pk, type(exc).__name__, exc_info=exc)


def unreadable_reason(exc: BaseException) -> str:
    from cinrella.crypto import DecryptionError

    if isinstance(exc, DecryptionError):
        return (
            "Set aside: its phone number or text cannot be decrypted with the configured keys "
            "(FIELD_ENCRYPTION_KEYS). Once the keys are fixed, press Send again."
        )
    return f"Set aside: it could not be read or prepared for sending ({type(exc).__name__}). Ask an administrator."


def release_stuck(now) -> int:
    """Rows left "sending" past the timeout (the worker died): their attempt becomes unresolved
    and is looked up below, in this same round. One statement, nothing decrypted."""
    cutoff = now - dt.timedelta(seconds=settings.SMS_SENDING_TIMEOUT_SECONDS)
    return OutboundMessage.objects.filter(status=Status.SENDING, claimed_at__lt=cutoff).update(
        status=Status.PENDING,
        unresolved_since=Coalesce(F("unresolved_since"), F("claimed_at")),
        next_attempt_at=now,
        claimed_at=None,
        status_updated_at=now,
        held_reason="",
    )


def resolve_unresolved(backend: BaseBackend, now, result) -> None:
    """Ask the provider about every due unresolved row, one row per savepoint."""
    result.released += release_stuck(now)
    due = (
        OutboundMessage.objects.filter(status=Status.PENDING, unresolved_since__isnull=False, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:BATCH_SIZE]
    )
    for pk in list(due):
        try:
            with transaction.atomic():
                _resolve_one(backend, pk, now, result)
        except IntegrityError:
            set_aside(
                pk,
                "Set aside: Twilio's id for this text is already recorded on another message. Check both "
                "messages in the log before resending.",
                now,
                code="duplicate-sid",
            )
            result.quarantined += 1
        except DatabaseError:
            raise  # the database itself is failing: this round stops, the next one starts over
        except Exception as exc:  # noqa: BLE001 — one unreadable row never blocks the ones behind it
            log_unexpected(pk, exc)
            set_aside(pk, unreadable_reason(exc), now, code="unreadable")
            result.quarantined += 1


def _resolve_one(backend: BaseBackend, pk: int, now, result) -> None:
    row = (
        OutboundMessage.objects.select_for_update(skip_locked=True)
        .filter(pk=pk, status=Status.PENDING, unresolved_since__isnull=False)
        .first()
    )
    if row is None:
        return  # another worker has it, or a status callback settled it
    try:
        finding = find_attempt(backend, row)
    except SmsSendError as error:
        _ask_again_later(row, error, now, result)
        return
    row.status_updated_at = now
    row.claimed_at = None
    fields = ["status", "status_updated_at", "claimed_at", "error_reason", "error_code", "unresolved_since"]
    if finding.sid:
        row.status, row.provider_sid = Status.SENT, finding.sid
        row.sent_at = row.sent_at or finding.sent_at or row.unresolved_since
        row.error_reason = "Sent: confirmed with the provider after the send was interrupted."
        row.error_code = ""
        row.unresolved_since = None
        fields += ["provider_sid", "sent_at"]
        result.reconciled += 1
    elif finding.candidates == 0:
        row.unresolved_since = None
        row.next_attempt_at = now
        row.error_reason = "An interrupted send never reached the provider: sending it again."
        row.error_code = ""
        fields.append("next_attempt_at")
        result.requeued += 1
    else:
        row.status = Status.UNKNOWN
        row.error_reason = (
            f"The provider has {finding.candidates} texts to this number with this wording since the send "
            "began: check with the patient before resending."
        )
        row.error_code = "ambiguous"
        result.unknown += 1
    row.save(update_fields=fields)


def _ask_again_later(row: OutboundMessage, error: SmsSendError, now, result) -> None:
    waited = now - row.unresolved_since
    if error.kind == provider_errors.Kind.REFUSED:
        row.status = Status.UNKNOWN
        row.error_reason = (
            f"Whether this text went out is unknown: the provider refused the look-up ({error.reason}) "
            "Check with the patient before resending."
        )
        row.error_code = error.code[:16]
        result.unknown += 1
    elif waited >= window():
        row.status = Status.UNKNOWN
        row.error_reason = (
            f"Whether this text went out is unknown: the provider could not be asked for {duration(waited)}. "
            "Check with the patient before resending."
        )
        row.error_code = error.code[:16]
        result.unknown += 1
    else:
        row.next_attempt_at = now + next_delay(waited)
        row.error_reason = error.reason
        row.error_code = error.code[:16]
        result.retried += 1
    row.status_updated_at = now
    row.save(update_fields=["status", "error_reason", "error_code", "next_attempt_at", "status_updated_at"])


def next_delay(waited: dt.timedelta) -> dt.timedelta:
    """Pause before asking again: about as long as it has been failing, between the base and the cap."""
    seconds = min(max(waited.total_seconds(), settings.SMS_RETRY_BASE_SECONDS), settings.SMS_RETRY_MAX_DELAY_SECONDS)
    return dt.timedelta(seconds=seconds)


def in_flight_numbers():
    """Blind indexes of numbers with a message in flight: claimed, or an attempt not resolved yet."""
    return OutboundMessage.objects.filter(
        Q(status=Status.SENDING) | Q(status=Status.PENDING, unresolved_since__isnull=False)
    ).values("to_bidx")
