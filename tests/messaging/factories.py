"""SMS consent helpers for the messaging tests; the model factories are in tests/factories.py."""

from consents.models import SmsConsentEvent, SmsPurpose
from consents.services import record_sms_consent_event


def opt_in(phone, purpose=SmsPurpose.TRANSACTIONAL, **kwargs):
    return record_sms_consent_event(
        phone=phone,
        purpose=purpose,
        action=SmsConsentEvent.Action.OPT_IN,
        source=SmsConsentEvent.Source.PORTAL_FORM,
        disclosure_text="I agree to receive texts. Message frequency varies. Reply STOP to opt out, HELP for help.",
        **kwargs,
    )


def opt_out(phone, purpose=SmsPurpose.TRANSACTIONAL, **kwargs):
    return record_sms_consent_event(
        phone=phone,
        purpose=purpose,
        action=SmsConsentEvent.Action.OPT_OUT,
        source=SmsConsentEvent.Source.PORTAL_PREFERENCES,
        **kwargs,
    )
