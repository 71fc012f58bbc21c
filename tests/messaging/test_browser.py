"""The campaign progress bar updates live in a real browser (htmx polling).

Reference data (role groups, privacy recipients) flushed after this transactional test is put
back by tests/conftest.py."""

import pytest
from django.conf import settings as django_settings
from django.test import Client

from consents.models import SmsPurpose
from messaging import dispatch
from messaging.services import campaigns
from tests.conftest import sign_in_verified
from tests.factories import PatientFactory, UserFactory
from tests.messaging.factories import opt_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_campaign_progress_bar_updates_while_the_worker_sends(live_server, chromium, settings):
    settings.SMS_QUIET_HOURS = (0, 24)  # whatever the wall clock says, this test sends now
    settings.SMS_QUIET_HOURS_BY_STATE = {}
    settings.SMS_MARKETING_WINDOW = (0, 24)  # and the federal marketing window too
    manager = UserFactory(role="manager")
    patients = PatientFactory.create_batch(3)
    for p in patients:
        opt_in(p.mobile_phone, SmsPurpose.MARKETING)
    campaign = campaigns.create_campaign(
        name="Live", body="{clinic_name}: Hi {first_name}, new hours!", filters={}, rate_per_minute=600, user=manager
    )
    campaigns.schedule_campaign(campaign=campaign, user=manager)

    client = sign_in_verified(Client(), manager)
    session_cookie = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    context = chromium.new_context()
    context.add_cookies(
        [{"name": django_settings.SESSION_COOKIE_NAME, "value": session_cookie, "url": live_server.url}]
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/staff/messages/campaigns/{campaign.pk}/")
    page.get_by_text("0 of 3 handled").wait_for(timeout=10_000)
    dispatch.run_once()
    page.get_by_text("3 of 3 handled").wait_for(timeout=15_000)  # no reload: htmx polled it in
    assert page.locator("progress").get_attribute("value") == "3"
    assert page.get_by_text("3 sent").is_visible()
