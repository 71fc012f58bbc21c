"""A staff member signs in with password and authenticator code in a real browser."""

import pytest

from tests.conftest import current_code
from tests.e2e.conftest import screenshot
from tests.factories import DEFAULT_PASSWORD, TOTPDeviceFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_signs_in_with_password_and_totp(live_server, page_factory):
    user = UserFactory(role="front_desk", first_name="Fran", last_name="Desk")
    device = TOTPDeviceFactory(user=user)
    page = page_factory()

    page.goto(f"{live_server.url}/staff/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", DEFAULT_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#id_token")
    screenshot(page, "staff-otp-step")
    page.fill("#id_token", current_code(device))
    page.click("button.primary")
    page.wait_for_selector("text=Fran Desk")
    screenshot(page, "staff-home")

    assert page.url.endswith("/staff/")
    assert page.console_errors == []  # no CSP violations or script errors


def test_first_sign_in_shows_a_scannable_qr_code(live_server, page_factory):
    user = UserFactory(role="provider")
    page = page_factory(390, 844)

    page.goto(f"{live_server.url}/staff/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", DEFAULT_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("img.qr")
    screenshot(page, "staff-enrol-phone")

    qr_size = page.eval_on_selector("img.qr", "img => img.naturalWidth")
    assert qr_size > 0  # the data: image loaded (CSP allows data: images only)
    assert page.console_errors == []
