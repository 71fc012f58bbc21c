"""Writes to the messaging tables. Keyword-only functions, one transaction each.

`queue_message` is the one way any app puts an SMS in the outbox; call it inside the transaction
that makes the cause (a booking, an opt-in, a payment request) so both commit or neither does."""

from __future__ import annotations

import datetime as dt
import logging
from contextlib import nullcontext
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from cinrella import crypto
from cinrella.public_urls import absolute_url
from consents.models import SmsConsentEvent, SmsPurpose
from consents.selectors import latest_sms_consents, sms_opted_out_of_everything
from consents.services import record_sms_consent_events
from messaging import keywords, templating
from messaging.models import (
    FINAL_STATUSES,
    STATUS_RANK,
    Conversation,
    InboundMessage,
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


# --- appointment messages ------------------------------------------------------------------------


def manage_link() -> str:
    if settings.SMS_MANAGE_LINK_URL:
        return settings.SMS_MANAGE_LINK_URL
    return absolute_url("/book/")


def appointment_context(appointment, starts_at=None) -> dict:
    zone = ZoneInfo(appointment.location.time_zone)
    local = (starts_at or appointment.starts_at).astimezone(zone)
    return {
        "first_name": appointment.patient.first_name,
        "date": f"{local:%a %b} {local.day}",
        "time": local.strftime("%I:%M %p").lstrip("0"),
        "location": appointment.location.name,
        "location_phone": appointment.location.phone,
        "manage_link": manage_link(),
    }


def _starts_key(appointment) -> str:
    return str(int(appointment.starts_at.timestamp()))


def reminder_offsets(location) -> list[int]:
    return sorted(set(location.reminder_hours or [24, 2]), reverse=True)


def _queue_for_appointment(appointment, *, kind, base_key, due_at=None, extra_context=None):
    phone = appointment.patient.mobile_phone
    if not phone or crypto.normalise_phone(phone) is None:
        return None  # no mobile on file: SMS was declined or never given (never a booking condition)
    context = appointment_context(appointment)
    if extra_context:
        context.update(extra_context)
    return queue_unique(
        base_key=base_key,
        to_phone=phone,
        kind=kind,
        purpose=Purpose.TRANSACTIONAL,
        context=context,
        due_at=due_at,
        patient=appointment.patient,
        appointment=appointment,
    )


def queue_reminders(*, appointment, now=None) -> list[OutboundMessage]:
    """One reminder per location offset (default 24 h and 2 h before) still in the future, and the
    pre-care message when the service has instructions."""
    now = now or timezone.now()
    queued = []
    for hours in reminder_offsets(appointment.location):
        due = appointment.starts_at - dt.timedelta(hours=hours)
        if due <= now:
            continue
        row = _queue_for_appointment(
            appointment,
            kind=Kind.REMINDER,
            base_key=f"appt:{appointment.pk}:reminder:{hours}h:{_starts_key(appointment)}",
            due_at=due,
        )
        if row:
            queued.append(row)
    service = appointment.service
    if service.pre_care_instructions.strip():
        due = max(now, appointment.starts_at - dt.timedelta(days=service.pre_care_days_before))
        if due < appointment.starts_at:
            row = _queue_for_appointment(
                appointment,
                kind=Kind.PRE_CARE,
                base_key=f"appt:{appointment.pk}:pre_care:{_starts_key(appointment)}",
                due_at=due,
                extra_context={"instructions": service.pre_care_instructions},
            )
            if row:
                queued.append(row)
    return queued


TIMED_KINDS = (Kind.REMINDER, Kind.PRE_CARE)


@transaction.atomic
def on_appointment_booked(*, appointment) -> None:
    _queue_for_appointment(
        appointment, kind=Kind.BOOKING_CONFIRMATION, base_key=f"appt:{appointment.pk}:booking_confirmation"
    )
    queue_reminders(appointment=appointment)


@transaction.atomic
def on_appointment_rescheduled(*, appointment, previous_starts_at=None) -> None:
    cancel_pending(appointment=appointment, kinds=TIMED_KINDS, reason="Appointment rescheduled")
    _queue_for_appointment(
        appointment,
        kind=Kind.RESCHEDULE_NOTICE,
        base_key=f"appt:{appointment.pk}:reschedule:{_starts_key(appointment)}",
    )
    queue_reminders(appointment=appointment)


@transaction.atomic
def on_appointment_cancelled(*, appointment) -> None:
    cancel_pending(
        appointment=appointment,
        kinds=(*TIMED_KINDS, Kind.BOOKING_CONFIRMATION, Kind.RESCHEDULE_NOTICE),
        reason="Appointment cancelled",
    )
    _queue_for_appointment(appointment, kind=Kind.CANCEL_NOTICE, base_key=f"appt:{appointment.pk}:cancel_notice")


@transaction.atomic
def on_appointment_completed(*, appointment) -> None:
    cancel_pending(appointment=appointment, kinds=TIMED_KINDS, reason="Appointment completed")
    service = appointment.service
    if service.post_care_instructions.strip():
        _queue_for_appointment(
            appointment,
            kind=Kind.POST_CARE,
            base_key=f"appt:{appointment.pk}:post_care",
            extra_context={"instructions": service.post_care_instructions},
        )


# --- helpers other apps call ----------------------------------------------------------------------


MARKETING_PROGRAM = "offers and news"


def queue_double_opt_in(
    *, phone: str, reference: str, patient=None, purpose: str = Purpose.TRANSACTIONAL
) -> OutboundMessage:
    """The confirmation text after a web or verbal opt-in: clinic name, program, frequency, rates,
    HELP/STOP. Call it in the transaction that records the opt-in; `reference` (e.g. the consent
    event id) makes it idempotent. Sent only if the opt-in for `purpose` is still current."""
    program = MARKETING_PROGRAM if purpose == Purpose.MARKETING else templating.PROGRAM_TEXT
    return queue_message(
        to_phone=phone,
        kind=Kind.DOUBLE_OPT_IN,
        purpose=purpose,
        idempotency_key=f"double_opt_in:{reference}",
        context={"program": program},
        patient=patient,
        send_now=True,
    )


def queue_pay_link(*, patient, link: str, amount_cents: int, currency: str = "usd", reference: str):
    amount = f"${amount_cents / 100:,.2f}" if currency.lower() == "usd" else f"{amount_cents / 100:,.2f} {currency}"
    return queue_message(
        to_phone=patient.mobile_phone,
        kind=Kind.PAY_LINK,
        idempotency_key=f"pay_link:{reference}",
        context={"first_name": patient.first_name, "link": link, "amount": amount},
        patient=patient,
        send_now=True,
    )


def queue_consent_link(*, patient, link: str, reference: str, appointment=None):
    return queue_message(
        to_phone=patient.mobile_phone,
        kind=Kind.CONSENT_LINK,
        idempotency_key=f"consent_link:{reference}",
        context={"first_name": patient.first_name, "link": link},
        patient=patient,
        appointment=appointment,
        send_now=True,
    )


# --- delivery status --------------------------------------------------------------------------------

TWILIO_STATUS = {
    "accepted": Status.SENT,
    "queued": Status.SENT,
    "scheduled": Status.SENT,
    "sending": Status.SENT,
    "sent": Status.SENT,
    "delivered": Status.DELIVERED,
    "read": Status.DELIVERED,
    "undelivered": Status.FAILED,
    "failed": Status.FAILED,
    "canceled": Status.CANCELLED,
}

ERROR_REASONS = {
    "21211": "The number is not a valid phone number.",
    "21408": "Sending to this region is not enabled.",
    "21610": "The recipient replied STOP to our number; the carrier blocks further messages (opt-out recorded).",
    "21614": "The number is not a mobile number.",
    "30003": "Unreachable handset: the phone is switched off or out of coverage.",
    "30004": "Message blocked by the recipient or their carrier.",
    "30005": "Unknown handset: the number does not exist or is no longer in service.",
    "30006": "Landline or unreachable carrier: this number cannot receive texts.",
    "30007": "Filtered by the carrier as spam or unregistered traffic.",
    "30008": "Unknown delivery error reported by the carrier.",
    "429": "Provider rate limit; retried later.",
    "timeout": "The provider did not answer in time; retried later.",
    "network": "Could not reach the provider; retried later.",
}


def error_reason(code: str) -> str:
    code = str(code or "")
    if code in ERROR_REASONS:
        return ERROR_REASONS[code]
    if code.startswith("5") and len(code) == 3:
        return "The provider had a server error; retried later."
    return f"The provider refused the message (error {code})." if code else "Unknown error."


def record_carrier_opt_out(*, message: OutboundMessage) -> None:
    """Twilio 21610: the handset sent STOP to the carrier; the ledger must know (both purposes)."""
    latest = latest_sms_consents(message.to_phone)
    still_in = [
        purpose
        for purpose in SmsPurpose
        if purpose not in latest or latest[purpose].action != SmsConsentEvent.Action.OPT_OUT
    ]
    if still_in:
        record_sms_consent_events(
            phone=message.to_phone,
            purposes=still_in,
            action=SmsConsentEvent.Action.OPT_OUT,
            source=SmsConsentEvent.Source.CARRIER_ERROR,
            disclosure_text="Twilio error 21610 (recipient unsubscribed at the carrier)",
            note=f"Outbound message #{message.pk}",
            patient_id=message.patient_id,
        )


@transaction.atomic
def record_delivery_status(
    *, message_sid: str, provider_status: str, error_code: str = "", reference: str = ""
) -> OutboundMessage | None:
    """Apply a Twilio status callback. Never moves a message backwards: a late "sent" leaves
    "delivered" alone. `reference` (our row id, from the callback URL) finds a row whose send
    response never came back (crash), reconciling it."""
    new_status = TWILIO_STATUS.get((provider_status or "").lower())
    row = OutboundMessage.objects.select_for_update().filter(provider_sid=message_sid).first()
    if row is None and reference.isdigit():
        row = (
            OutboundMessage.objects.select_for_update()
            .filter(pk=int(reference), provider_sid="")
            .exclude(status=Status.PENDING)
            .first()
        )
    if row is None or new_status is None:
        return row
    now = timezone.now()
    fields = {"status_updated_at"}
    row.status_updated_at = now
    if not row.provider_sid:
        row.provider_sid = message_sid
        fields.add("provider_sid")
    if row.sent_at is None:
        row.sent_at = now
        fields.add("sent_at")
    if row.status not in FINAL_STATUSES and STATUS_RANK[new_status] > STATUS_RANK[row.status]:
        row.status = new_status
        fields.add("status")
        if new_status == Status.FAILED and error_code:
            row.error_code = str(error_code)[:16]
            row.error_reason = error_reason(error_code)
            fields |= {"error_code", "error_reason"}
            if str(error_code) == "21610":
                record_carrier_opt_out(message=row)
    row.save(update_fields=fields)
    return row


# --- inbound ------------------------------------------------------------------------------------------
#
# One webhook, few round trips (issue #6 asks p95 < 25 ms at 100k patients): one statement files
# the text (the conversation upsert, which also finds the patient, and the inbound row with its
# final handling); a text for the staff inbox is that one statement and nothing else, so it needs
# no BEGIN/COMMIT of its own. A STOP writes both purposes' ledger events in one INSERT, and the
# reply to a keyword is inserted directly (its key comes from the MessageSid just inserted).

# Which inbound texts count as unread in the staff inbox.
UNREAD_HANDLINGS = (InboundMessage.Handling.INBOX, InboundMessage.Handling.REVOCATION)
REVOCATION_REVIEW_REASON = "Free-text message read as an opt-out: please check and follow up."

_FILE_INBOUND = """
    WITH conversation AS (
        INSERT INTO messaging_conversation AS c
            (phone, phone_bidx, patient_id, unread_count, needs_review, review_reason, reviewed_by_id, reviewed_at,
             last_message_at)
        VALUES (%(phone)s, %(digest)s, ({patient_id_query}), %(unread)s, %(review)s, %(reason)s, NULL, NULL, %(now)s)
        ON CONFLICT (phone_bidx) DO UPDATE SET
            patient_id = COALESCE(c.patient_id, EXCLUDED.patient_id),
            unread_count = c.unread_count + EXCLUDED.unread_count,
            last_message_at = EXCLUDED.last_message_at,
            needs_review = c.needs_review OR EXCLUDED.needs_review,
            review_reason = CASE WHEN EXCLUDED.needs_review THEN EXCLUDED.review_reason ELSE c.review_reason END,
            reviewed_by_id = CASE WHEN EXCLUDED.needs_review THEN NULL ELSE c.reviewed_by_id END,
            reviewed_at = CASE WHEN EXCLUDED.needs_review THEN NULL ELSE c.reviewed_at END
        RETURNING id, patient_id
    )
    INSERT INTO messaging_inboundmessage
        (message_sid, from_phone, from_bidx, to_phone, body, conversation_id, patient_id, handling, received_at)
    SELECT %(sid)s, %(from_phone)s, %(digest)s, %(to_phone)s, %(body)s, conversation.id, conversation.patient_id,
           %(handling)s, %(now)s
    FROM conversation
    RETURNING id, conversation_id, patient_id
"""


def _encrypted(model, field: str, value: str):
    return model._meta.get_field(field).get_db_prep_save(value, connection)


def _file_inbound(*, message_sid: str, e164: str, digest: str, to_phone: str, body: str, handling: str):
    """Create or update the thread with this phone and write the inbound row, in one statement.

    The conversation upsert takes the row lock (two texts from one phone update it one at a time),
    links the newest patient with this phone when the thread has none yet (the patients selector's
    query, as a sub-select), counts the text as unread when staff must read it, and flags a
    free-text revocation for review; the inbound row is written with the conversation's id and
    patient. A duplicate MessageSid fails the whole statement (IntegrityError), conversation update
    included. Nothing loads (and decrypts) a patient record just to file a text message."""
    from patients.selectors import patients_with_phone

    patient_ids = patients_with_phone(e164).order_by("-updated_at", "-pk").values("pk")[:1]
    try:
        patient_id_sql, patient_id_params = patient_ids.query.sql_with_params()
    except EmptyResultSet:  # not a phone number a patient can have (a short code)
        patient_id_sql, patient_id_params = "NULL", ()
    flagged = handling == InboundMessage.Handling.REVOCATION
    now = timezone.now()
    to_phone = (to_phone or "")[:32]
    params = {
        "phone": _encrypted(Conversation, "phone", e164),
        "digest": digest,
        "unread": 1 if handling in UNREAD_HANDLINGS else 0,
        "review": flagged,
        "reason": REVOCATION_REVIEW_REASON if flagged else "",
        "now": now,
        "sid": message_sid,
        "from_phone": _encrypted(InboundMessage, "from_phone", e164),
        "to_phone": to_phone,
        "body": _encrypted(InboundMessage, "body", body),
        "handling": handling,
    }
    # The sub-select's own placeholders are positional; name them so both kinds don't mix.
    for index, value in enumerate(patient_id_params):
        params[f"patient_param_{index}"] = value
    named = patient_id_sql % tuple(f"%(patient_param_{i})s" for i in range(len(patient_id_params)))
    with connection.cursor() as cursor:
        cursor.execute(_FILE_INBOUND.format(patient_id_query=named), params)
        inbound_id, conversation_id, patient_id = cursor.fetchone()
    inbound = InboundMessage(
        id=inbound_id,
        message_sid=message_sid,
        from_phone=e164,
        from_bidx=digest,
        to_phone=to_phone,
        body=body,
        conversation_id=conversation_id,
        patient_id=patient_id,
        handling=handling,
        received_at=now,
    )
    inbound._state.adding = False
    inbound._state.db = connection.alias
    return inbound


def _reply(*, inbound: InboundMessage, kind: str, context: dict | None = None) -> OutboundMessage:
    return queue_message(
        to_phone=inbound.from_phone,
        kind=kind,
        idempotency_key=f"inbound:{inbound.message_sid}:reply",
        context=context or {},
        patient_id=inbound.patient_id,
        send_now=True,
        fresh_key=True,  # this transaction has just inserted the unique MessageSid
    )


def _ledger(*, inbound, purposes, action, source):
    record_sms_consent_events(
        phone=inbound.from_phone,
        purposes=purposes,
        action=action,
        source=source,
        disclosure_text=inbound.body[:1000],
        inbound_message_sid=inbound.message_sid,
        patient_id=inbound.patient_id,
    )


def _opt_out(inbound: InboundMessage, *, source: str, provider_replied: bool) -> None:
    already_out = sms_opted_out_of_everything(inbound.from_phone)
    _ledger(inbound=inbound, purposes=list(SmsPurpose), action=SmsConsentEvent.Action.OPT_OUT, source=source)
    # One confirmation at most: not when Twilio's Advanced Opt-Out already answered, not again
    # to a number that had already opted out of everything.
    if not provider_replied and not already_out:
        _reply(inbound=inbound, kind=Kind.OPT_OUT_CONFIRMATION)


def _opt_in(inbound: InboundMessage, *, provider_replied: bool) -> None:
    _ledger(
        inbound=inbound,
        purposes=[SmsPurpose.TRANSACTIONAL],
        action=SmsConsentEvent.Action.OPT_IN,
        source=SmsConsentEvent.Source.KEYWORD,
    )
    if not provider_replied:
        _reply(inbound=inbound, kind=Kind.OPT_IN_CONFIRMATION)


def _help(inbound: InboundMessage, *, provider_replied: bool) -> None:
    _ledger(
        inbound=inbound,
        purposes=[SmsPurpose.TRANSACTIONAL],
        action=SmsConsentEvent.Action.HELP,
        source=SmsConsentEvent.Source.KEYWORD,
    )
    if not provider_replied:
        _reply(inbound=inbound, kind=Kind.HELP_REPLY)


def _next_booked_appointment(digest: str):
    """C/CONFIRM's target: the next upcoming booked appointment of the patient(s) with this phone."""
    from appointments.models import Appointment

    return (
        Appointment.objects.select_for_update(of=("self",))  # stays booked until the confirm below
        .select_related("patient", "location")
        .filter(patient__phone_bidx=digest, status=Appointment.Status.BOOKED, starts_at__gt=timezone.now())
        .order_by("starts_at")
        .first()
    )


def _confirm(inbound: InboundMessage, appointment) -> None:
    from appointments.services import confirm_appointment

    # The scheduling service locks the row, checks the transition and records it in the history.
    confirm_appointment(appointment=appointment)
    queue_message(
        to_phone=inbound.from_phone,
        kind=Kind.APPOINTMENT_CONFIRMED,
        idempotency_key=f"inbound:{inbound.message_sid}:reply",
        context=appointment_context(appointment),
        patient=appointment.patient,
        appointment=appointment,
        send_now=True,
        fresh_key=True,  # this transaction has just inserted the unique MessageSid
    )


def _handling_for(action: str, *, confirmable) -> str:
    Handling = InboundMessage.Handling
    if action == keywords.CONFIRM:
        # Nothing to confirm: the text is for staff ("C" may be a typo, or a question).
        return Handling.CONFIRM if confirmable is not None else Handling.INBOX
    return {
        keywords.OPT_OUT: Handling.OPT_OUT,
        keywords.OPT_IN: Handling.OPT_IN,
        keywords.HELP: Handling.HELP,
        keywords.REVOCATION: Handling.REVOCATION,
    }.get(action, Handling.INBOX)


def receive_inbound(*, message_sid: str, from_phone: str, to_phone: str, body: str, opt_out_type: str = ""):
    """Handle one inbound SMS (already signature-checked). Idempotent on MessageSid: a retried
    webhook hits the unique constraint, its whole transaction rolls back, and the first row is
    returned."""
    try:
        return _receive_inbound(
            message_sid=message_sid, from_phone=from_phone, to_phone=to_phone, body=body, opt_out_type=opt_out_type
        )
    except IntegrityError:
        existing = InboundMessage.objects.filter(message_sid=message_sid).first()
        if existing is None:
            raise
        return existing


def _receive_inbound(*, message_sid: str, from_phone: str, to_phone: str, body: str, opt_out_type: str):
    e164 = crypto.normalise_phone(from_phone)
    # A short code or a sender we cannot key in the ledger: staff read it, nothing automatic.
    action = keywords.classify(body, opt_out_type=opt_out_type) if e164 else keywords.OTHER
    e164 = e164 or from_phone.strip()
    digest = crypto.blind_index("phone", e164)
    filing = {"message_sid": message_sid, "e164": e164, "digest": digest, "to_phone": to_phone, "body": body}
    if action == keywords.OTHER:
        # For the staff inbox, nothing else to write: the one statement is atomic on its own (a
        # savepoint inside a caller's transaction, so a duplicate MessageSid does not break it).
        with transaction.atomic() if connection.in_atomic_block else nullcontext():
            return _file_inbound(handling=InboundMessage.Handling.INBOX, **filing)
    with transaction.atomic():
        return _handle_inbound(action=action, digest=digest, filing=filing, provider_replied=bool(opt_out_type))


def _handle_inbound(*, action: str, digest: str, filing: dict, provider_replied: bool) -> InboundMessage:
    appointment = _next_booked_appointment(digest) if action == keywords.CONFIRM else None
    handling = _handling_for(action, confirmable=appointment)
    # A duplicate MessageSid raises here and the whole transaction rolls back.
    inbound = _file_inbound(handling=handling, **filing)
    Handling = InboundMessage.Handling
    if handling == Handling.OPT_OUT:
        _opt_out(inbound, source=SmsConsentEvent.Source.KEYWORD, provider_replied=provider_replied)
    elif handling == Handling.REVOCATION:
        _opt_out(inbound, source=SmsConsentEvent.Source.FREE_TEXT, provider_replied=False)
    elif handling == Handling.OPT_IN:
        _opt_in(inbound, provider_replied=provider_replied)
    elif handling == Handling.HELP:
        _help(inbound, provider_replied=provider_replied)
    elif handling == Handling.CONFIRM:
        _confirm(inbound, appointment)
    return inbound


# --- staff inbox -----------------------------------------------------------------------------------


@transaction.atomic
def mark_conversation_read(*, conversation: Conversation) -> None:
    Conversation.objects.filter(pk=conversation.pk).update(unread_count=0)


@transaction.atomic
def mark_conversation_reviewed(*, conversation: Conversation, user) -> None:
    Conversation.objects.filter(pk=conversation.pk).update(
        needs_review=False, reviewed_by=user, reviewed_at=timezone.now()
    )


@transaction.atomic
def staff_reply(*, conversation: Conversation, text: str, user) -> OutboundMessage:
    """A transactional reply typed by staff. Consent and quiet hours are applied by the worker."""
    text = " ".join((text or "").split())
    if not text:
        raise ValueError("Type a message.")
    row = queue_message(
        to_phone=conversation.phone,
        kind=Kind.STAFF_REPLY,
        idempotency_key=f"staff_reply:{conversation.pk}:{timezone.now().timestamp()}:{user.pk}",
        literal=text,
        patient=conversation.patient,
        sent_by=user,
        send_now=True,
    )
    Conversation.objects.filter(pk=conversation.pk).update(last_message_at=timezone.now(), unread_count=0)
    return row


@transaction.atomic
def save_template(*, kind: str, body: str, user):
    from messaging.models import MessageTemplate

    templating.validate_template(body, kind=kind)
    template, _ = MessageTemplate.objects.update_or_create(kind=kind, defaults={"body": body, "updated_by": user})
    return template


@transaction.atomic
def reset_template(*, kind: str) -> None:
    from messaging.models import MessageTemplate

    MessageTemplate.objects.filter(kind=kind).delete()


@transaction.atomic
def retry_unknown(*, message: OutboundMessage, user) -> None:
    """Staff checked an 'unknown' message (the worker stopped mid-send and the provider has no
    record of it) and asks for it to be sent."""
    OutboundMessage.objects.filter(pk=message.pk, status=Status.UNKNOWN).update(
        status=Status.PENDING,
        next_attempt_at=timezone.now(),
        error_reason=f"Resend approved by staff user #{user.pk}",
        status_updated_at=timezone.now(),
    )


# --- marketing campaigns -------------------------------------------------------------------------


class CampaignError(ValueError):
    pass


ONLY_DRAFTS_ARE_EDITED = "Only a draft can be edited: this campaign's messages are already queued."


@transaction.atomic
def create_campaign(*, name: str, body: str, filters: dict, rate_per_minute: int | None, user):
    from messaging.models import Campaign

    return Campaign.objects.create(
        **_campaign_fields(name=name, body=body, filters=filters, rate_per_minute=rate_per_minute), created_by=user
    )


def _campaign_fields(*, name: str, body: str, filters: dict, rate_per_minute: int | None) -> dict:
    """A draft's editable fields, checked and tidied: the wording (campaign placeholders only), the
    audience filters that are set, the throttle (the clinic default when none is given)."""
    templating.validate_template(body, kind=Kind.CAMPAIGN)
    return {
        "name": name.strip()[:120],
        "body": body.strip(),
        "filters": {k: v for k, v in filters.items() if v not in (None, "")},
        "rate_per_minute": rate_per_minute or settings.SMS_CAMPAIGN_RATE_PER_MINUTE,
    }


@transaction.atomic
def update_draft_campaign(*, campaign, name: str, body: str, filters: dict, rate_per_minute: int | None) -> None:
    """Reword or re-target a draft. Once scheduled, its messages are written: no more edits."""
    from messaging.models import Campaign

    fields = _campaign_fields(name=name, body=body, filters=filters, rate_per_minute=rate_per_minute)
    updated = Campaign.objects.filter(pk=campaign.pk, state=Campaign.State.DRAFT).update(**fields)
    if not updated:
        raise CampaignError(ONLY_DRAFTS_ARE_EDITED)


@transaction.atomic
def schedule_campaign(*, campaign, user, start_at=None, patient_ids=None) -> int:
    """Queue the campaign to its audience, throttled to `campaign.rate_per_minute`.

    Only patients with a CURRENT marketing opt-in can receive it: the audience is computed here,
    and ids picked in the form (`patient_ids`) are intersected with it — an id injected into the
    form for a patient without an opt-in is dropped and counted in `excluded_count`. Consent is
    checked again by the worker at send time, and by the privacy gate."""
    from messaging.models import Campaign
    from messaging.selectors import marketing_audience

    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.state != Campaign.State.DRAFT:
        raise CampaignError("This campaign was already scheduled or cancelled.")
    audience = marketing_audience(campaign.filters)
    excluded = 0
    if patient_ids is not None:
        wanted = {int(i) for i in patient_ids}
        audience = audience.filter(pk__in=wanted)
        chosen = list(audience)
        excluded = len(wanted) - len(chosen)
    else:
        chosen = list(audience)
    if not chosen:
        raise CampaignError("Nobody in this audience has a current marketing opt-in.")
    start = start_at or timezone.now()
    spacing = dt.timedelta(seconds=60 / max(campaign.rate_per_minute, 1))
    for index, patient in enumerate(chosen):
        queue_message(
            to_phone=patient.mobile_phone,
            kind=Kind.CAMPAIGN,
            purpose=Purpose.MARKETING,
            idempotency_key=f"campaign:{campaign.pk}:{patient.phone_bidx}",
            template=campaign.body,
            context={"first_name": patient.first_name},
            due_at=start + spacing * index,
            patient=patient,
            campaign=campaign,
            sent_by=user,
        )
    campaign.state = Campaign.State.SCHEDULED
    campaign.scheduled_for = start
    campaign.scheduled_by = user
    campaign.audience_size = len(chosen)
    campaign.excluded_count = excluded
    campaign.save(update_fields=["state", "scheduled_for", "scheduled_by", "audience_size", "excluded_count"])
    return len(chosen)


@transaction.atomic
def cancel_campaign(*, campaign, user) -> int:
    from messaging.models import Campaign

    Campaign.objects.filter(pk=campaign.pk).update(state=Campaign.State.CANCELLED)
    return OutboundMessage.objects.filter(campaign=campaign, status=Status.PENDING).update(
        status=Status.CANCELLED, error_reason="Campaign cancelled", status_updated_at=timezone.now()
    )


@transaction.atomic
def delete_draft_campaign(*, campaign) -> None:
    """A draft has queued nothing yet: deleting it loses no record of any message. Anything past
    draft stays, with its messages, for the consent audit."""
    from messaging.models import Campaign

    deleted, _ = Campaign.objects.filter(pk=campaign.pk, state=Campaign.State.DRAFT).delete()
    if not deleted:
        raise CampaignError("Only a draft can be deleted; a scheduled campaign can have its unsent messages cancelled.")


def send_sign_in_code(patient, body: str) -> bool:
    """The patient portal's one-time code by text (compliance.portal_auth): queued now,
    sent at once; the worker still checks the transactional consent and the privacy gate."""
    import uuid

    if not patient.mobile_phone:
        return False
    queue_message(
        to_phone=patient.mobile_phone,
        kind=Kind.SIGN_IN_CODE,
        idempotency_key=f"sign_in_code:{uuid.uuid4()}",
        literal=body,
        patient=patient,
        send_now=True,
    )
    return True
