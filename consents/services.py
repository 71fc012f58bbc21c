"""Writes to consent records."""

from django.db import transaction
from django.utils import timezone

from cinrella import crypto
from cinrella.request_meta import client_ip, user_agent
from consents.models import SmsConsentEvent


class InvalidConsentPhone(ValueError):
    pass


@transaction.atomic
def record_sms_consent_event(
    *,
    phone: str,
    purpose: str,
    action: str,
    source: str,
    disclosure_text: str = "",
    disclosure_version: str = "",
    request=None,
    page_url: str = "",
    staff_user=None,
    note: str = "",
    inbound_message_sid: str = "",
    patient=None,
    occurred_at=None,
) -> SmsConsentEvent:
    """Append one event to the SMS consent ledger. `request` supplies IP, user agent and page URL."""
    e164 = crypto.normalise_phone(phone)
    if e164 is None:
        raise InvalidConsentPhone("Not a valid mobile number.")
    if source == SmsConsentEvent.Source.STAFF_VERBAL and (staff_user is None or not note.strip()):
        raise ValueError("A verbal consent or opt-out recorded by staff needs the staff user and a note.")
    return SmsConsentEvent.objects.create(
        phone=e164,
        phone_bidx=crypto.blind_index("phone", e164),
        purpose=purpose,
        action=action,
        source=source,
        disclosure_text=disclosure_text,
        disclosure_version=disclosure_version,
        occurred_at=occurred_at or timezone.now(),
        ip_address=client_ip(request) if request is not None else None,
        user_agent=user_agent(request) if request is not None else "",
        page_url=(page_url or (request.build_absolute_uri(request.path) if request is not None else ""))[:300],
        staff_user=staff_user,
        note=note,
        inbound_message_sid=inbound_message_sid,
        patient=patient,
    )
