import pytest
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP

from tests.factories import TOTPDeviceFactory, UserFactory


def current_code(device) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():06d}"


def sign_in_verified(client, user):
    """A fully signed-in staff session: password step done and a verified TOTP device."""
    device = user.totpdevice_set.filter(confirmed=True).first() or TOTPDeviceFactory(user=user)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def staff_client(client):
    """Factory: staff_client("manager") → a test client signed in with 2FA as a new user of that role."""

    def make(role=None, **user_kwargs):
        user = UserFactory(role=role, **user_kwargs)
        sign_in_verified(client, user)
        client.user = user
        return client

    return make
