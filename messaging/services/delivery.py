"""Delivery status from the provider: Twilio status callbacks, error reasons people can read, and
the carrier opt-out (error 21610) recorded in the consent ledger."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from consents.models import SmsConsentEvent, SmsPurpose
from consents.selectors import latest_sms_consents
from consents.services import record_sms_consent_events
from messaging import provider_errors
from messaging.models import (
    FINAL_STATUSES,
    STATUS_RANK,
    OutboundMessage,
    Status,
)

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


def error_reason(code: str) -> str:
    """Words for a provider error code (messaging/provider_errors.py holds the table)."""
    return provider_errors.reason(code)


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
        # Our row id in the callback URL: the one identifier Twilio carries for us. It settles a
        # row whose send answer was lost (crash), also one since queued again or set aside: Twilio
        # calling back about it proves one of its attempts went out.
        row = (
            OutboundMessage.objects.select_for_update()
            .filter(pk=int(reference), provider_sid="", attempts__gt=0)
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
        row.unresolved_since = None
        fields |= {"status", "unresolved_since"}
        if new_status == Status.FAILED and error_code:
            row.error_code = str(error_code)[:16]
            row.error_reason = error_reason(error_code)
            fields |= {"error_code", "error_reason"}
            if str(error_code) == "21610":
                record_carrier_opt_out(message=row)
    row.save(update_fields=fields)
    return row
