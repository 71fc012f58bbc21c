import pytest

from tests.factories import UserFactory
from tests.payments.conftest import PUBLISHABLE_KEY, SECRET_KEY, WEBHOOK_SECRET, localstripe_url, stripe_client  # noqa: F401
from tests.smtp_server import SmtpServer


@pytest.fixture
def desk(db):
    return UserFactory(role="front_desk")


@pytest.fixture
def billing(db):
    return UserFactory(role="billing")


@pytest.fixture
def stripe_ready(settings, localstripe_url):  # noqa: F811 (the fixture imported above)
    """Payments switched on against the local Stripe API (localstripe, see tests/payments/conftest.py)."""
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_PUBLISHABLE_KEY = PUBLISHABLE_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = localstripe_url
    return settings


@pytest.fixture
def smtp(settings):
    """Email goes to a real SMTP server on loopback; `smtp.messages` is what it received."""
    with SmtpServer() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = server.port
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_HOST_USER = ""
        settings.EMAIL_HOST_PASSWORD = ""
        yield server
