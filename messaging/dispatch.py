"""The outbox worker: sends due messages exactly once (DESIGN.md §5, §9 "Failure").

One round:
1. Resolve interrupted attempts (messaging/reconcile.py): rows left "sending" past
   SMS_SENDING_TIMEOUT_SECONDS (a worker died) and rows whose last attempt got no answer are looked
   up at the provider, each in its own savepoint: found → "sent", not found → queued again, several
   → "unknown" for a manager. Never blindly resent, never matched on content alone.
2. Claim due rows with SELECT … FOR UPDATE SKIP LOCKED (parallel workers take disjoint rows), at most
   one per phone number and none for a number that already has a message in flight (that keeps a
   number's in-flight window unique to one row, which is what reconciliation matches on). Per row,
   at send time: appointment still on? consent for the purpose still current? quiet hours in the
   recipient's zone? privacy gate? Rows that may go get their Disclosure rows (one INSERT for the
   batch) and are marked "sending", and that is COMMITTED before any API call. A row that cannot be
   read or decided (a key problem, a broken number) is set aside ("quarantined", with the reason)
   and the others go on.
3. Call the backend per row and record the answer: sent (+ provider sid); a transient failure
   (5xx, 429, unreachable) waits and is retried with growing pauses for SMS_RETRY_WINDOW_SECONDS
   from the first attempt; an attempt that may have reached the provider (no answer in time) is
   looked up before anything is sent again; a refusal fails at once (21610 → carrier opt-out in the
   ledger). Reasons are stored in words (messaging/provider_errors.py)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from consents.models import SmsConsentEvent
from messaging import provider_errors, quiet_hours, reconcile
from messaging.backends import BaseBackend, SmsSendError, get_backend
from messaging.models import (
    CONSENT_EXEMPT_KINDS,
    PENDING_CONSENT_KINDS,
    QUIET_HOURS_EXEMPT_KINDS,
    Kind,
    OutboundMessage,
    Purpose,
    Status,
)
from messaging.services.delivery import record_carrier_opt_out
from privacy.gate import PolicyViolation, pending_disclosure, record_disclosures
from privacy.models import Recipient
from privacy.policy import Category
from privacy.policy import Purpose as PrivacyPurpose

logger = logging.getLogger("messaging")

PRIVACY_PURPOSE = {
    Kind.BOOKING_CONFIRMATION: PrivacyPurpose.SCHEDULING,
    Kind.RESCHEDULE_NOTICE: PrivacyPurpose.SCHEDULING,
    Kind.CANCEL_NOTICE: PrivacyPurpose.SCHEDULING,
    Kind.REMINDER: PrivacyPurpose.SCHEDULING,
    Kind.APPOINTMENT_CONFIRMED: PrivacyPurpose.SCHEDULING,
    Kind.PRE_CARE: PrivacyPurpose.CARE_INSTRUCTIONS,
    Kind.POST_CARE: PrivacyPurpose.CARE_INSTRUCTIONS,
    Kind.CAMPAIGN: PrivacyPurpose.MARKETING,
}
APPOINTMENT_BOUND_KINDS = frozenset({Kind.REMINDER, Kind.PRE_CARE, Kind.BOOKING_CONFIRMATION})
BATCH_SIZE = 200
# Two-int advisory lock keys: (this namespace, hash of a number's blind index) while claiming.
NUMBER_LOCK_NAMESPACE = 0x736D73  # "sms"


@dataclass
class RoundResult:
    sent: int = 0
    suppressed: int = 0
    failed: int = 0
    retried: int = 0
    held: int = 0
    cancelled: int = 0
    reconciled: int = 0
    unknown: int = 0
    requeued: int = 0
    released: int = 0
    quarantined: int = 0
    details: list = field(default_factory=list)

    def total(self) -> int:
        return self.sent + self.suppressed + self.failed + self.retried + self.held + self.cancelled


def privacy_purpose(row: OutboundMessage) -> PrivacyPurpose:
    if row.kind == Kind.MARKETING_CONFIRMATION:
        # Confirms the consent the number just gave (program, frequency, HELP/STOP): no offer in it.
        return PrivacyPurpose.OPERATIONS
    if row.purpose == Purpose.MARKETING:
        return PrivacyPurpose.MARKETING
    return PRIVACY_PURPOSE.get(row.kind, PrivacyPurpose.OPERATIONS)


def _current_consents(rows) -> dict[tuple[str, str], str]:
    """Latest opt_in/opt_out action per (phone digest, purpose) for the whole batch, one query."""
    digests = {row.to_bidx for row in rows}
    if not digests:
        return {}
    latest = (
        SmsConsentEvent.objects.filter(
            phone_bidx__in=digests,
            # A pending opt-in is recorded only while a number has no state, so it never hides one.
            action__in=[SmsConsentEvent.Action.OPT_IN, SmsConsentEvent.Action.OPT_OUT, SmsConsentEvent.Action.PENDING],
        )
        .order_by("phone_bidx", "purpose", "-occurred_at", "-id")
        .distinct("phone_bidx", "purpose")
        .values_list("phone_bidx", "purpose", "action")
    )
    return {(digest, purpose): action for digest, purpose, action in latest}


def _suppress(row, reason: str, now, code: str = "") -> None:
    row.status = Status.SUPPRESSED
    row.error_reason = reason[:300]
    row.error_code = code
    row.status_updated_at = now


def _decide(row: OutboundMessage, consents, twilio: Recipient, now, disclosures: list) -> str:
    """At send time: 'send' (its disclosure appended to `disclosures`, to be recorded with the
    batch), or the row has been marked suppressed/cancelled/held (pending)."""
    appointment = row.appointment
    if appointment is not None and row.kind in APPOINTMENT_BOUND_KINDS:
        if appointment.status == "cancelled":
            row.status, row.error_reason, row.status_updated_at = Status.CANCELLED, "Appointment cancelled", now
            return "cancelled"
        if row.kind != Kind.BOOKING_CONFIRMATION and appointment.starts_at <= now:
            _suppress(row, "The appointment had already started when the message became sendable.", now)
            return "suppressed"
    if row.kind not in CONSENT_EXEMPT_KINDS:
        action = consents.get((row.to_bidx, row.purpose))
        if row.kind in PENDING_CONSENT_KINDS and action != SmsConsentEvent.Action.OPT_OUT:
            pass  # the one YES request, or a code the person asked for: fixed wording, never after STOP
        elif action != SmsConsentEvent.Action.OPT_IN:
            reason = (
                f"Opted out of {row.purpose} texts."
                if action == SmsConsentEvent.Action.OPT_OUT
                else f"No {row.purpose} SMS opt-in on record."
            )
            _suppress(row, reason, now, code="consent")
            return "suppressed"
    if row.kind not in QUIET_HOURS_EXEMPT_KINDS:
        # The stricter of the area code, the patient's address and the visit's location (issue 17).
        allowed = quiet_hours.next_allowed_for_message(row, now)
        if allowed > now:
            row.next_attempt_at = allowed
            row.held_reason = "Quiet hours in the recipient's time zone"
            return "held"
    categories = {Category.CONTACT}
    if row.patient_id is not None:
        categories.add(Category.IDENTITY)  # bodies may greet by first name
    try:
        disclosure = pending_disclosure(
            recipient=twilio,
            categories=categories,
            purpose=privacy_purpose(row),
            patient=row.patient,
            description=f"SMS #{row.pk} ({row.kind})",
            user=row.sent_by,
        )
    except PolicyViolation as refused:
        _suppress(row, f"Privacy policy: {refused.clause_text}", now, code="policy")
        return "suppressed"
    disclosures.append(disclosure)
    return "send"


def _save_decisions(rows) -> None:
    """One UPDATE per distinct outcome (most batches have one or two), not one per row."""
    groups: dict[tuple, list[int]] = {}
    for row in rows:
        key = (
            row.status,
            row.error_reason,
            row.error_code,
            row.status_updated_at,
            row.next_attempt_at,
            row.held_reason,
        )
        groups.setdefault(key, []).append(row.pk)
    for (status, reason, code, updated_at, next_attempt_at, held_reason), ids in groups.items():
        OutboundMessage.objects.filter(pk__in=ids).update(
            status=status,
            error_reason=reason,
            error_code=code,
            status_updated_at=updated_at,
            next_attempt_at=next_attempt_at,
            held_reason=held_reason,
        )


def _load_due(queryset, limit: int, now) -> tuple[list[OutboundMessage], int]:
    """The batch's rows, decrypted. When one cannot be read (a key problem), read them one by one
    and set aside the ones that fail: one bad row never blocks the rows behind it."""
    related = queryset.select_related("patient", "appointment__location")
    try:
        return list(related[:limit]), 0
    except DatabaseError:
        raise
    except Exception:  # noqa: BLE001 — per-row reading below says which row and why
        ids = list(queryset.values_list("pk", flat=True)[:limit])
    rows, bad = [], 0
    for pk in ids:
        try:
            rows.append(related.get(pk=pk))
        except DatabaseError:
            raise
        except Exception as exc:  # noqa: BLE001
            reconcile.log_unexpected(pk, exc)
            reconcile.set_aside(pk, reconcile.unreadable_reason(exc), now, code="unreadable")
            bad += 1
    return rows, bad


def _one_per_free_number(rows: list[OutboundMessage]) -> list[OutboundMessage]:
    """At most one row per number, and only numbers no other worker is claiming or has in flight.
    The advisory locks (held until this claim commits) close the race between two workers that
    each picked a different row to the same number."""
    first: dict[str, OutboundMessage] = {}
    for row in rows:
        first.setdefault(row.to_bidx, row)
    if not first:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT b FROM unnest(%s::text[]) AS b WHERE pg_try_advisory_xact_lock(%s, hashtext(b))",
            [list(first), NUMBER_LOCK_NAMESPACE],
        )
        locked = {b for (b,) in cursor.fetchall()}
    # A number another worker claimed and committed between our SELECT and our lock.
    busy = set(reconcile.in_flight_numbers().filter(to_bidx__in=locked).values_list("to_bidx", flat=True))
    return [row for bidx, row in first.items() if bidx in locked and bidx not in busy]


def claim_batch(now, limit: int = BATCH_SIZE) -> tuple[list[OutboundMessage], RoundResult]:
    """Claim due rows and decide each at send time; returns the rows marked 'sending' (committed)."""
    result = RoundResult()
    twilio = Recipient.objects.get(key="twilio")
    # The claim's lease runs on the real clock even when `now` (the decision time: consent, quiet
    # hours) is given: send_claimed and reconciliation measure the lease against the real clock,
    # and a lease stamped in the past would be handed back and claimed again, round after round.
    claimed_at = timezone.now()
    with transaction.atomic():
        due = (
            OutboundMessage.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=Status.PENDING, next_attempt_at__lte=now, unresolved_since__isnull=True)
            .exclude(to_bidx__in=reconcile.in_flight_numbers())
            .order_by("next_attempt_at", "id")
        )
        rows, result.quarantined = _load_due(due, limit, now)
        rows = _one_per_free_number(rows)
        consents = _current_consents([r for r in rows if r.kind not in CONSENT_EXEMPT_KINDS])
        to_send, others, disclosures = [], [], []
        for row in rows:
            try:
                decision = _decide(row, consents, twilio, now, disclosures)
            except Exception as exc:  # noqa: BLE001 — e.g. a number no library can parse
                reconcile.log_unexpected(row.pk, exc)
                reconcile.set_aside(row.pk, reconcile.unreadable_reason(exc), now, code="undecidable")
                result.quarantined += 1
                continue
            if decision == "send":
                row.status = Status.SENDING
                row.attempts += 1
                row.claimed_at = claimed_at
                row.first_attempt_at = row.first_attempt_at or claimed_at
                row.held_reason = ""
                to_send.append(row)
            else:
                setattr(result, decision, getattr(result, decision) + 1)
                others.append(row)
        # The accounting of disclosures (one row per message, one INSERT per batch) commits with
        # the "sending" mark: nothing goes out that was not recorded.
        record_disclosures(disclosures)
        if to_send:
            OutboundMessage.objects.filter(pk__in=[r.pk for r in to_send]).update(
                status=Status.SENDING,
                attempts=F("attempts") + 1,
                claimed_at=claimed_at,
                held_reason="",
                first_attempt_at=Coalesce(F("first_attempt_at"), Value(claimed_at)),
            )
        _save_decisions(others)
    return to_send, result


def backoff(attempts: int) -> dt.timedelta:
    """Pause after the n-th failed attempt: SMS_RETRY_BASE_SECONDS doubling, capped at
    SMS_RETRY_MAX_DELAY_SECONDS (so texts go soon after an outage ends)."""
    seconds = settings.SMS_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return dt.timedelta(seconds=min(seconds, settings.SMS_RETRY_MAX_DELAY_SECONDS))


RECORD_EVERY = 50


def _record_sent(sent: list[tuple[int, str]], now) -> None:
    """Record provider answers in one transaction (one commit per chunk, not per message).
    Only rows still 'sending' change status: a status callback that already arrived stays. If the
    worker dies before this commits, the rows stay 'sending' and reconciliation looks them up.
    Should the chunk's statement fail on a SID recorded elsewhere, the rows are recorded one by one
    and the conflicting one is set aside: an answer is never lost for the others."""
    if not sent:
        return
    try:
        with transaction.atomic():
            _record_sent_statements(sent, now)
    except IntegrityError:
        for pk, sid in sent:
            try:
                with transaction.atomic():
                    _record_sent_statements([(pk, sid)], now)
            except IntegrityError:
                reconcile.set_aside(
                    pk,
                    "Set aside: the provider answered with a message id already recorded on another message. "
                    "Check both in the log before resending.",
                    now,
                    code="duplicate-sid",
                )


def _record_sent_statements(sent: list[tuple[int, str]], now) -> None:
    table = OutboundMessage._meta.db_table
    values = ", ".join(["(%s::bigint, %s)"] * len(sent))
    pairs = [item for pair in sent for item in pair]
    with connection.cursor() as cursor:
        # One statement for the chunk (a CASE per row through the ORM costs more than the send).
        cursor.execute(
            f"UPDATE {table} AS m SET status = %s, provider_sid = v.sid, sent_at = %s, status_updated_at = %s, "  # noqa: S608
            f"error_code = '', error_reason = '', unresolved_since = NULL FROM (VALUES {values}) AS v(id, sid) "
            "WHERE m.id = v.id AND m.status IN (%s, %s)",
            [Status.SENT, now, now, *pairs, Status.SENDING, Status.UNKNOWN],
        )
        cursor.execute(
            f"UPDATE {table} AS m SET provider_sid = v.sid FROM (VALUES {values}) AS v(id, sid) "  # noqa: S608
            "WHERE m.id = v.id AND m.provider_sid = ''",
            pairs,
        )


@transaction.atomic
def _record_error(row: OutboundMessage, error: SmsSendError, now, result: RoundResult) -> None:
    code = error.code
    update = {"error_code": code[:16], "error_reason": error.reason, "status_updated_at": now}
    if code == "21610":
        record_carrier_opt_out(message=row)
        update["status"] = Status.SUPPRESSED
        result.suppressed += 1
    elif error.kind == provider_errors.Kind.REFUSED:
        update["status"] = Status.FAILED
        result.failed += 1
    elif error.kind == provider_errors.Kind.CHECK_THEN_RETRY:
        # The provider may have it: the next round looks for it before anything is sent again.
        update["status"] = Status.PENDING
        update["unresolved_since"] = row.unresolved_since or row.claimed_at or now
        update["next_attempt_at"] = now + backoff(row.attempts)
        result.retried += 1
    elif now - (row.first_attempt_at or now) < reconcile.window():
        update["status"] = Status.PENDING
        update["next_attempt_at"] = now + backoff(row.attempts)
        result.retried += 1
    else:
        update["status"] = Status.FAILED
        waited = reconcile.duration(now - row.first_attempt_at)
        update["error_reason"] = provider_errors.gave_up(code, waited=waited, http_status=error.http_status)
        result.failed += 1
    OutboundMessage.objects.filter(pk=row.pk, status=Status.SENDING).update(**update)


def _release(ids) -> None:
    OutboundMessage.objects.filter(pk__in=ids, status=Status.SENDING).update(
        status=Status.PENDING, attempts=F("attempts") - 1, claimed_at=None
    )


def send_claimed(rows, backend: BaseBackend, result: RoundResult) -> None:
    answered: list[tuple[int, str]] = []
    # Rows still waiting when the claim gets old are handed back rather than risk reconciliation
    # by another worker (which would take a slow send for an interrupted one).
    deadline = dt.timedelta(seconds=settings.SMS_SENDING_TIMEOUT_SECONDS / 2)
    try:
        for index, row in enumerate(rows):
            now = timezone.now()
            if row.claimed_at is not None and now - row.claimed_at > deadline:
                _release([r.pk for r in rows[index:]])
                break
            try:
                answer = backend.send(to=row.to_phone, body=row.body, reference=str(row.pk))
            except SmsSendError as error:
                _record_error(row, error, now, result)
                continue
            except Exception:  # noqa: BLE001 — whatever broke, the provider may have the message
                logger.exception("unexpected error sending outbox message #%s", row.pk)
                unexpected = SmsSendError(provider_errors.UNEXPECTED, transient=True, ambiguous=True)
                _record_error(row, unexpected, now, result)
                continue
            answered.append((row.pk, answer.sid))
            result.sent += 1
            if len(answered) >= RECORD_EVERY:
                _record_sent(answered, now)
                answered = []
    finally:
        # Also on the way out of an exception: what the provider accepted is written down.
        _record_sent(answered, timezone.now())


def run_once(*, backend: BaseBackend | None = None, now=None, max_messages: int | None = None) -> RoundResult:
    """Send everything due now (in batches), after resolving interrupted attempts."""
    backend = backend or get_backend()
    result = RoundResult()
    # Leases and waits are measured on the real clock, whatever `now` the decisions use.
    reconcile.resolve_unresolved(backend, timezone.now(), result)
    handled = 0
    while max_messages is None or handled < max_messages:
        round_now = now or timezone.now()
        limit = BATCH_SIZE if max_messages is None else min(BATCH_SIZE, max_messages - handled)
        rows, batch = claim_batch(round_now, limit)
        for name in ("suppressed", "held", "cancelled", "quarantined"):
            setattr(result, name, getattr(result, name) + getattr(batch, name))
        if not rows and not batch.total() and not batch.quarantined:
            break
        send_claimed(rows, backend, result)
        handled += len(rows) + batch.total() + batch.quarantined
    return result
