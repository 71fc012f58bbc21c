"""The staff inbox: read and reviewed marks, staff replies, resending an 'unknown' message."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from messaging.models import (
    Conversation,
    InboundMessage,
    Kind,
    OutboundMessage,
    Status,
)
from messaging.services.outbox import queue_message


@transaction.atomic
def mark_conversation_read(*, conversation: Conversation) -> None:
    Conversation.objects.filter(pk=conversation.pk).update(unread_count=0)


@transaction.atomic
def mark_conversation_reviewed(*, conversation: Conversation, user) -> None:
    Conversation.objects.filter(pk=conversation.pk).update(
        needs_review=False, reviewed_by=user, reviewed_at=timezone.now()
    )


@transaction.atomic
def record_reply_as_opt_out(*, inbound: InboundMessage, user) -> bool:
    """The one-click "This is an opt-out" on a reply the classifier was unsure of (or missed): the
    number's own words, read by staff, revoke both purposes; the number gets the one STOP
    confirmation, and the conversation is marked reviewed. False when the number had already
    opted out of everything (nothing to record)."""
    from consents.selectors import sms_opted_out_of_everything
    from consents.services import record_opt_out_from_reply

    if sms_opted_out_of_everything(inbound.from_phone):
        mark_conversation_reviewed(conversation=inbound.conversation, user=user)
        return False
    record_opt_out_from_reply(
        phone=inbound.from_phone,
        inbound_message_sid=inbound.message_sid,
        body=inbound.body,
        staff_user=user,
        patient_id=inbound.patient_id,
    )
    InboundMessage.objects.filter(pk=inbound.pk).update(handling=InboundMessage.Handling.REVOCATION)
    queue_message(
        to_phone=inbound.from_phone,
        kind=Kind.OPT_OUT_CONFIRMATION,
        idempotency_key=f"inbound:{inbound.message_sid}:staff-opt-out",
        patient_id=inbound.patient_id,
        send_now=True,
    )
    mark_conversation_reviewed(conversation=inbound.conversation, user=user)
    return True


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
def retry_unknown(*, message: OutboundMessage, user) -> None:
    """A manager checked a message set aside for a person ("unknown": whether it went out could not
    be settled; "quarantined": it could not be read or recorded) and asks for it to be sent. It
    goes through the worker again: consent, quiet hours and the privacy gate apply, and a fresh
    retry window starts."""
    OutboundMessage.objects.filter(pk=message.pk, status__in=[Status.UNKNOWN, Status.QUARANTINED]).update(
        status=Status.PENDING,
        next_attempt_at=timezone.now(),
        unresolved_since=None,
        first_attempt_at=None,
        claimed_at=None,
        error_code="",
        error_reason=f"Resend approved by staff user #{user.pk}",
        status_updated_at=timezone.now(),
    )
