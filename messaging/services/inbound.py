"""Inbound texts: filed in one statement, keywords (STOP, START, HELP, C) acted on, free-text
revocations flagged for staff."""

from __future__ import annotations

from contextlib import nullcontext

from django.core.exceptions import EmptyResultSet
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from cinrella import crypto
from consents.models import SmsConsentEvent, SmsPurpose
from consents.selectors import sms_opted_out_of_everything
from consents.services import record_sms_consent_events
from messaging import keywords
from messaging.models import (
    Conversation,
    InboundMessage,
    Kind,
    OutboundMessage,
)
from messaging.services.appointment_messages import appointment_context
from messaging.services.outbox import queue_message

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
