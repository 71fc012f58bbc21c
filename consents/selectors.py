from cinrella import crypto
from consents.models import SmsConsentEvent, SmsPurpose


def phone_digest(phone: str) -> str | None:
    e164 = crypto.normalise_phone(phone) if phone else None
    return crypto.blind_index("phone", e164) if e164 else None


def latest_sms_consent(phone: str, purpose: str) -> SmsConsentEvent | None:
    """The event that decides the current state for this phone and purpose (None: never asked)."""
    digest = phone_digest(phone)
    if digest is None:
        return None
    return (
        SmsConsentEvent.objects.filter(
            phone_bidx=digest,
            purpose=purpose,
            action__in=[SmsConsentEvent.Action.OPT_IN, SmsConsentEvent.Action.OPT_OUT],
        )
        .order_by("-occurred_at", "-id")
        .first()
    )


def sms_opted_in(phone: str, purpose: str) -> bool:
    latest = latest_sms_consent(phone, purpose)
    return latest is not None and latest.action == SmsConsentEvent.Action.OPT_IN


def sms_consent_history(phone: str):
    digest = phone_digest(phone)
    if digest is None:
        return SmsConsentEvent.objects.none()
    return SmsConsentEvent.objects.filter(phone_bidx=digest).order_by("occurred_at", "id")


__all__ = ["SmsPurpose", "latest_sms_consent", "sms_opted_in", "sms_consent_history", "phone_digest"]
