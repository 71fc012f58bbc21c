import pytest

from messaging import backends
from tests.messaging.twilio_server import FakeTwilio

ACCOUNT = "AC" + "1" * 32
SERVICE = "MG" + "2" * 32


@pytest.fixture(autouse=True)
def empty_sms_outbox():
    backends.outbox.clear()
    backends.scripted_errors.clear()
    yield
    backends.outbox.clear()
    backends.scripted_errors.clear()


@pytest.fixture
def twilio(settings):
    """The real `twilio` library against tests/messaging/twilio_server.py (SMS_BACKEND = twilio)."""
    with FakeTwilio() as fake:
        settings.SMS_BACKEND = "messaging.backends.TwilioBackend"
        settings.TWILIO_ACCOUNT_SID = ACCOUNT
        settings.TWILIO_AUTH_TOKEN = "secret-token"
        settings.TWILIO_MESSAGING_SERVICE_SID = SERVICE
        settings.TWILIO_API_BASE_URL = fake.url
        settings.PUBLIC_BASE_URL = "https://app.example.test"
        settings.SMS_HTTP_TIMEOUT_SECONDS = 2
        yield fake
