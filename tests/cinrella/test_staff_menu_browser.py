"""The staff menu on a phone: one row that scrolls sideways, with the current page in view.

Reference data flushed after this transactional test is put back by tests/conftest.py."""

import pytest
from django.conf import settings as django_settings
from django.test import Client

from tests.conftest import sign_in_verified
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_on_a_phone_the_staff_menu_is_one_row_showing_the_current_page(live_server, chromium):
    manager = UserFactory(role="manager")
    client = sign_in_verified(Client(), manager)
    context = chromium.new_context(viewport={"width": 390, "height": 844})
    context.add_cookies(
        [
            {
                "name": django_settings.SESSION_COOKIE_NAME,
                "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page = context.new_page()

    page.goto(f"{live_server.url}/staff/messages/campaigns/")

    header = page.locator("header.topbar").bounding_box()
    assert header["height"] < 160  # brand, who is signed in, one menu row: not the whole first screen
    current = page.locator(".mainnav [aria-current=page]")
    assert current.inner_text() == "Campaigns"
    box = current.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390  # scrolled into view, not cut off
    context.close()
