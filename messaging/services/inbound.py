"""Inbound texts: filed in one statement, keywords (STOP, START, HELP, C) acted on, free-text
revocations flagged for staff."""

from __future__ import annotations

from contextlib import nullcontext

from django.core.exceptions import EmptyResultSet
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from cinrella import crypto
from consents.models import SmsConsentEvent, SmsPurpose
from consents.selectors import sms_opted_out_of_everything, sms_states
from consents.services import confirm_pending_opt_ins, record_sms_consent_events
from messaging import replies
from messaging.models import (
    Conversation,
    InboundMessage,
    Kind,
    OutboundMessage,
    Status,
)
from messaging.services.appointment_messages import appointment_context
from messaging.services.notifications import MARKETING_PROGRAM
from messaging.services.outbox import queue_message

#
# One webhook, few round trips (issue #6 asks p95 < 25 ms at 100k patients): one statement files
# the text (the conversation upsert, which also finds the patient, and the inbound row with its
# final handling); a text for the staff inbox is that one statement and nothing else, so it needs
# no BEGIN/COMMIT of its own. A STOP writes both purposes' ledger events in one INSERT, and the
# reply to a keyword is inserted directly (its key comes from the MessageSid just inserted).

# Which inbound texts count as unread in the staff inbox.
UNREAD_HANDLINGS = (
    InboundMessage.Handling.INBOX,
    InboundMessage.Handling.REVOCATION,
    InboundMessage.Handling.FLAGGED,
    InboundMessage.Handling.CANCEL_REQUEST,
)
REVOCATION_REVIEW_REASON = "Free-text message read as an opt-out: please check and follow up."
# Texts that put the conversation first in the inbox, with why.
REVIEW_REASONS = {
    InboundMessage.Handling.REVOCATION: REVOCATION_REVIEW_REASON,
    InboundMessage.Handling.FLAGGED: "Might be an opt-out ({why}): consent kept. If it is, press “This is an opt-out”.",
    InboundMessage.Handling.CANCEL_REQUEST: "{why}: call to cancel or rebook (texts consent unchanged).",
}


def _review_reason(handling: str, why: str) -> str:
    return REVIEW_REASONS[handling].format(why=why or "unclear wording")[:200]


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
        (message_sid, from_phone, from_bidx, to_phone, body, conversation_id, patient_id, handling, received_at,
         media_count)
    SELECT %(sid)s, %(from_phone)s, %(digest)s, %(to_phone)s, %(body)s, conversation.id, conversation.patient_id,
           %(handling)s, %(now)s, %(media_count)s
    FROM conversation
    RETURNING id, conversation_id, patient_id
"""


def _encrypted(model, field: str, value: str):
    return model._meta.get_field(field).get_db_prep_save(value, connection)


def _file_inbound(
    *,
    message_sid: str,
    e164: str,
    digest: str,
    to_phone: str,
    body: str,
    handling: str,
    reason: str = "",
    media_count: int = 0,
):
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
    flagged = handling in REVIEW_REASONS
    now = timezone.now()
    to_phone = (to_phone or "")[:32]
    params = {
        "phone": _encrypted(Conversation, "phone", e164),
        "digest": digest,
        "unread": 1 if handling in UNREAD_HANDLINGS else 0,
        "review": flagged,
        "reason": _review_reason(handling, reason) if flagged else "",
        "now": now,
        "sid": message_sid,
        "from_phone": _encrypted(InboundMessage, "from_phone", e164),
        "to_phone": to_phone,
        "body": _encrypted(InboundMessage, "body", body),
        "handling": handling,
        "media_count": media_count,
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
        media_count=media_count,
    )
    inbound._state.adding = False
    inbound._state.db = connection.alias
    return inbound


def _reply(
    *, inbound: InboundMessage, kind: str, context: dict | None = None, purpose: str = "transactional"
) -> OutboundMessage:
    return queue_message(
        to_phone=inbound.from_phone,
        kind=kind,
        purpose=purpose,
        idempotency_key=f"inbound:{inbound.message_sid}:reply",
        context=context or {},
        patient_id=inbound.patient_id,
        send_now=True,
        fresh_key=True,  # this transaction has just inserted the unique MessageSid
    )


FROM_THE_NUMBER = {
    "asserted_by": SmsConsentEvent.AssertedBy.NUMBER,
    "verification": SmsConsentEvent.Verification.INBOUND_TEXT,
}


def _ledger(*, inbound, purposes, action, source):
    record_sms_consent_events(
        phone=inbound.from_phone,
        purposes=purposes,
        action=action,
        source=source,
        disclosure_text=inbound.body[:1000],
        inbound_message_sid=inbound.message_sid,
        patient_id=inbound.patient_id,
        **FROM_THE_NUMBER,
    )


def _opt_out(inbound: InboundMessage, *, source: str, provider_replied: bool, purposes=None) -> None:
    purposes = purposes or list(SmsPurpose)
    already_out = sms_opted_out_of_everything(inbound.from_phone)
    _ledger(inbound=inbound, purposes=purposes, action=SmsConsentEvent.Action.OPT_OUT, source=source)
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


def _join(inbound: InboundMessage) -> None:
    """JOIN from the number: marketing consent in writing, from the number itself. The reply is
    the first marketing text: program, frequency, rates, HELP and STOP."""
    _ledger(
        inbound=inbound,
        purposes=[SmsPurpose.MARKETING],
        action=SmsConsentEvent.Action.OPT_IN,
        source=SmsConsentEvent.Source.KEYWORD,
    )
    _reply(
        inbound=inbound, kind=Kind.MARKETING_CONFIRMATION, context={"program": MARKETING_PROGRAM}, purpose="marketing"
    )


def _confirm_pending(inbound: InboundMessage) -> None:
    """YES to the opt-in request: the pending purposes become opt-ins, confirmed by the number."""
    events = confirm_pending_opt_ins(
        phone=inbound.from_phone, inbound_message_sid=inbound.message_sid, body=inbound.body
    )
    purposes = {e.purpose for e in events}
    if SmsPurpose.TRANSACTIONAL in purposes:
        _reply(inbound=inbound, kind=Kind.DOUBLE_OPT_IN)
    if SmsPurpose.MARKETING in purposes:
        queue_message(
            to_phone=inbound.from_phone,
            kind=Kind.MARKETING_CONFIRMATION,
            purpose="marketing",
            idempotency_key=f"inbound:{inbound.message_sid}:reply:marketing",
            context={"program": MARKETING_PROGRAM},
            patient_id=inbound.patient_id,
            send_now=True,
            fresh_key=True,
        )


def _help(inbound: InboundMessage, *, provider_replied: bool) -> None:
    _ledger(
        inbound=inbound,
        purposes=[SmsPurpose.TRANSACTIONAL],
        action=SmsConsentEvent.Action.HELP,
        source=SmsConsentEvent.Source.KEYWORD,
    )
    if not provider_replied:
        _reply(inbound=inbound, kind=Kind.HELP_REPLY)


def _next_appointment(digest: str, statuses=("booked",)):
    """The next upcoming appointment (in `statuses`) of the patient(s) with this phone, locked."""
    from appointments.models import Appointment

    return (
        Appointment.objects.select_for_update(of=("self",))  # stays as it is until the action below
        .select_related("patient", "location")
        .filter(patient__phone_bidx=digest, status__in=list(statuses), starts_at__gt=timezone.now())
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


def _cancel_request(inbound: InboundMessage, appointment) -> None:
    """CANCEL after an appointment text: the visit is flagged for the front desk (the conversation,
    first in the inbox, names it), the patient is told so, and consent is unchanged. Not cancelled
    automatically: a late cancellation can carry a fee, and "cancel" may have meant the texts."""
    queue_message(
        to_phone=inbound.from_phone,
        kind=Kind.CANCEL_REQUEST_RECEIVED,
        idempotency_key=f"inbound:{inbound.message_sid}:reply",
        context=appointment_context(appointment),
        patient=appointment.patient,
        appointment=appointment,
        send_now=True,
        fresh_key=True,
    )


LAST_MESSAGE_OF_KIND = {
    Kind.OPT_IN_REQUEST: replies.LastMessage.OPT_IN_REQUEST,
    Kind.REMINDER: replies.LastMessage.REMINDER,
    Kind.BOOKING_CONFIRMATION: replies.LastMessage.APPOINTMENT,
    Kind.RESCHEDULE_NOTICE: replies.LastMessage.APPOINTMENT,
    Kind.APPOINTMENT_CONFIRMED: replies.LastMessage.APPOINTMENT,
    Kind.PRE_CARE: replies.LastMessage.APPOINTMENT,
    Kind.CANCEL_REQUEST_RECEIVED: replies.LastMessage.APPOINTMENT,
    Kind.CAMPAIGN: replies.LastMessage.MARKETING,
    Kind.MARKETING_CONFIRMATION: replies.LastMessage.MARKETING,
    Kind.STAFF_REPLY: replies.LastMessage.STAFF,
    Kind.OPT_OUT_CONFIRMATION: replies.LastMessage.OPTED_OUT,
}
# What reached (or is reaching) the phone: a suppressed or cancelled row never did.
_DELIVERED = [Status.SENDING, Status.SENT, Status.DELIVERED, Status.UNKNOWN]
# Readings whose meaning depends on what we last sent: only these pay for the look-ups.
_NEEDS_CONTEXT = {
    replies.Intent.YES,
    replies.Intent.CANCEL,
    replies.Intent.CONFIRM,
    replies.Intent.OPT_OUT_MARKETING,
}


def _context(e164: str, digest: str, reading: replies.Reading) -> tuple[replies.ReplyContext, object]:
    """The last message sent to this number, its pending opt-in and next visit (for YES, C, CANCEL)."""
    last_kind = (
        OutboundMessage.objects.filter(to_bidx=digest, status__in=_DELIVERED)
        .order_by("-created_at", "-id")
        .values_list("kind", flat=True)
        .first()
    )
    last = LAST_MESSAGE_OF_KIND.get(last_kind, replies.LastMessage.OTHER if last_kind else replies.LastMessage.NONE)
    statuses = ("booked", "confirmed") if reading.intent == replies.Intent.CANCEL else ("booked",)
    appointment = _next_appointment(digest, statuses) if reading.intent != replies.Intent.OPT_OUT_MARKETING else None
    states = sms_states(e164) if reading.intent == replies.Intent.YES else {}
    context = replies.ReplyContext(
        last=last,
        has_upcoming_appointment=appointment is not None,
        pending_opt_in=any(e.action == SmsConsentEvent.Action.PENDING for e in states.values()),
        opted_out=bool(states) and all(e.action == SmsConsentEvent.Action.OPT_OUT for e in states.values()),
    )
    return context, appointment


HANDLING_OF_ACTION = {
    replies.Action.OPT_OUT: InboundMessage.Handling.OPT_OUT,
    replies.Action.OPT_OUT_MARKETING: InboundMessage.Handling.MARKETING_OUT,
    replies.Action.FLAG_OPT_OUT: InboundMessage.Handling.FLAGGED,
    replies.Action.OPT_IN: InboundMessage.Handling.OPT_IN,
    replies.Action.JOIN: InboundMessage.Handling.JOIN,
    replies.Action.CONFIRM_PENDING: InboundMessage.Handling.CONFIRM_PENDING,
    replies.Action.CONFIRM_APPOINTMENT: InboundMessage.Handling.CONFIRM,
    replies.Action.CANCEL_APPOINTMENT_REQUEST: InboundMessage.Handling.CANCEL_REQUEST,
    replies.Action.HELP: InboundMessage.Handling.HELP,
    replies.Action.INBOX: InboundMessage.Handling.INBOX,
}
PROVIDER_ACTIONS = {"STOP": replies.Action.OPT_OUT, "START": replies.Action.OPT_IN, "HELP": replies.Action.HELP}


def receive_inbound(
    *, message_sid: str, from_phone: str, to_phone: str, body: str, opt_out_type: str = "", media_count: int = 0
):
    """Handle one inbound SMS (already signature-checked). Idempotent on MessageSid: a retried
    webhook hits the unique constraint, its whole transaction rolls back, and the first row is
    returned."""
    try:
        return _receive_inbound(
            message_sid=message_sid,
            from_phone=from_phone,
            to_phone=to_phone,
            body=body,
            opt_out_type=opt_out_type,
            media_count=media_count,
        )
    except IntegrityError:
        existing = InboundMessage.objects.filter(message_sid=message_sid).first()
        if existing is None:
            raise
        return existing


def _receive_inbound(
    *, message_sid: str, from_phone: str, to_phone: str, body: str, opt_out_type: str, media_count: int
):
    e164 = crypto.normalise_phone(from_phone)
    # A short code or a sender we cannot key in the ledger: staff read it, nothing automatic.
    reading = replies.read(body) if e164 else replies.Reading(replies.Intent.OTHER)
    provider_action = PROVIDER_ACTIONS.get((opt_out_type or "").upper()) if e164 else None
    e164 = e164 or from_phone.strip()
    digest = crypto.blind_index("phone", e164)
    filing = {
        "message_sid": message_sid,
        "e164": e164,
        "digest": digest,
        "to_phone": to_phone,
        "body": body,
        "media_count": media_count,
    }
    if provider_action is None and reading.intent in (replies.Intent.OTHER, replies.Intent.UNSURE_OPT_OUT):
        # For the staff inbox (flagged when it might be an opt-out), nothing else to write: the one
        # statement is atomic on its own (a savepoint inside a caller's transaction, so a
        # duplicate MessageSid does not break it).
        decision = replies.decide(reading, replies.ReplyContext())
        with transaction.atomic() if connection.in_atomic_block else nullcontext():
            return _file_inbound(handling=HANDLING_OF_ACTION[decision.action], reason=decision.why, **filing)
    with transaction.atomic():
        return _handle_inbound(
            reading=reading, provider_action=provider_action, e164=e164, digest=digest, filing=filing
        )


def _handle_inbound(*, reading, provider_action, e164: str, digest: str, filing: dict) -> InboundMessage:
    appointment = None
    if provider_action is not None:
        # Twilio's Advanced Opt-Out already acted (and answered): its word decides.
        decision = replies.Decision(provider_action, "carrier keyword")
    elif reading.intent in _NEEDS_CONTEXT:
        context, appointment = _context(e164, digest, reading)
        decision = replies.decide(reading, context)
    else:
        decision = replies.decide(reading, replies.ReplyContext())
    handling = HANDLING_OF_ACTION[decision.action]
    keyword = provider_action is not None or "keyword" in decision.why
    if decision.action == replies.Action.OPT_OUT and not keyword:
        handling = InboundMessage.Handling.REVOCATION  # in other words: staff check and follow up
    reason = decision.why
    if handling == InboundMessage.Handling.CANCEL_REQUEST:
        local = appointment_context(appointment)
        reason = f"Replied CANCEL about the visit on {local['date']} at {local['time']} (#{appointment.pk})"
    # A duplicate MessageSid raises here and the whole transaction rolls back.
    inbound = _file_inbound(handling=handling, reason=reason, **filing)
    provider_replied = provider_action is not None
    Action = replies.Action
    if decision.action == Action.OPT_OUT:
        source = SmsConsentEvent.Source.KEYWORD if keyword else SmsConsentEvent.Source.FREE_TEXT
        _opt_out(inbound, source=source, provider_replied=provider_replied)
    elif decision.action == Action.OPT_OUT_MARKETING:
        _opt_out(
            inbound,
            source=SmsConsentEvent.Source.FREE_TEXT,
            provider_replied=True,  # no "you're unsubscribed from everything" for a "no thanks"
            purposes=[SmsPurpose.MARKETING],
        )
    elif decision.action == Action.OPT_IN:
        _opt_in(inbound, provider_replied=provider_replied)
    elif decision.action == Action.JOIN:
        _join(inbound)
    elif decision.action == Action.CONFIRM_PENDING:
        _confirm_pending(inbound)
    elif decision.action == Action.HELP:
        _help(inbound, provider_replied=provider_replied)
    elif decision.action == Action.CONFIRM_APPOINTMENT and appointment is not None:
        _confirm(inbound, appointment)
    elif decision.action == Action.CANCEL_APPOINTMENT_REQUEST:
        _cancel_request(inbound, appointment)
    return inbound
