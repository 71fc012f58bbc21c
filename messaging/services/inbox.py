"""The staff inbox: read and reviewed marks, staff replies, resending an 'unknown' message."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from messaging.models import (
    Conversation,
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
    """Staff checked an 'unknown' message (the worker stopped mid-send and the provider has no
    record of it) and asks for it to be sent."""
    OutboundMessage.objects.filter(pk=message.pk, status=Status.UNKNOWN).update(
        status=Status.PENDING,
        next_attempt_at=timezone.now(),
        error_reason=f"Resend approved by staff user #{user.pk}",
        status_updated_at=timezone.now(),
    )
