"""Blind-index probes (cinrella.keycheck): does BLIND_INDEX_KEY reproduce the stored digests?"""

from cinrella import crypto


def newest_consent_event_phone() -> bool | None:
    from consents.models import SmsConsentEvent

    event = SmsConsentEvent.objects.only("phone", "phone_bidx").order_by("-pk").first()
    if event is None:
        return None
    return crypto.blind_index("phone", event.phone) == event.phone_bidx


BLIND_INDEX_PROBES = [("consents_smsconsentevent.phone_bidx", newest_consent_event_phone)]
