"""Quiet hours in the recipient's time zone, per-state windows, DST."""

import datetime as dt

import pytest
import time_machine

from messaging import dispatch
from messaging.models import Kind, Status
from messaging.quiet_hours import next_allowed_time, recipient_region
from messaging.services import inbound, outbox
from tests.factories import PatientFactory
from tests.messaging.factories import opt_in

UTC = dt.UTC
CA = "+16195550142"  # San Diego
FL = "+13055550100"  # Miami
OK = "+14055550100"  # Oklahoma City
NY = "+12125550100"


def test_area_codes_give_zone_and_state():
    assert recipient_region(CA) == (("America/Los_Angeles",), "CA")
    assert recipient_region(FL) == (("America/New_York",), "FL")
    assert recipient_region(OK) == (("America/Chicago",), "OK")
    assert recipient_region(NY) == (("America/New_York",), "NY")


def test_california_evening_waits_until_8am_pacific_next_day():
    at = dt.datetime(2026, 6, 11, 4, 30, tzinfo=UTC)  # 21:30 PDT on June 10
    assert next_allowed_time(CA, at) == dt.datetime(2026, 6, 11, 15, 0, tzinfo=UTC)  # 08:00 PDT


def test_california_allows_8_59_pm_but_not_9_pm():
    assert next_allowed_time(CA, dt.datetime(2026, 6, 11, 3, 59, tzinfo=UTC)) == dt.datetime(
        2026, 6, 11, 3, 59, tzinfo=UTC
    )
    assert next_allowed_time(CA, dt.datetime(2026, 6, 11, 4, 0, tzinfo=UTC)) == dt.datetime(
        2026, 6, 11, 15, 0, tzinfo=UTC
    )


def test_california_early_morning_waits_until_8am_same_day():
    at = dt.datetime(2026, 6, 10, 13, 0, tzinfo=UTC)  # 06:00 PDT
    assert next_allowed_time(CA, at) == dt.datetime(2026, 6, 10, 15, 0, tzinfo=UTC)


def test_florida_is_stricter_8pm_end():
    at = dt.datetime(2026, 6, 11, 0, 30, tzinfo=UTC)  # 20:30 EDT: fine in NY, quiet in FL
    assert next_allowed_time(NY, at) == at
    assert next_allowed_time(FL, at) == dt.datetime(2026, 6, 11, 12, 0, tzinfo=UTC)  # 08:00 EDT


def test_oklahoma_is_stricter_8pm_end():
    at = dt.datetime(2026, 6, 11, 1, 30, tzinfo=UTC)  # 20:30 CDT
    assert next_allowed_time(OK, at) == dt.datetime(2026, 6, 11, 13, 0, tzinfo=UTC)


def test_spring_forward_next_allowed_is_8am_daylight_time():
    # 2026-03-08: US clocks go 02:00 PST → 03:00 PDT. 01:00 PST = 09:00 UTC.
    at = dt.datetime(2026, 3, 8, 9, 0, tzinfo=UTC)
    assert next_allowed_time(CA, at) == dt.datetime(2026, 3, 8, 15, 0, tzinfo=UTC)  # 08:00 PDT (UTC-7)


def test_fall_back_next_allowed_is_8am_standard_time():
    # 2026-11-01: 02:00 PDT → 01:00 PST. 22:00 PDT Oct 31 = 05:00 UTC Nov 1.
    at = dt.datetime(2026, 11, 1, 5, 0, tzinfo=UTC)
    assert next_allowed_time(CA, at) == dt.datetime(2026, 11, 1, 16, 0, tzinfo=UTC)  # 08:00 PST (UTC-8)


def test_number_without_zone_data_uses_the_clinic_zone():
    toll_free = "+18885550100"
    assert recipient_region(toll_free) == ((), "")
    at = dt.datetime(2026, 6, 10, 13, 0, tzinfo=UTC)  # 06:00 in Los Angeles, 09:00 in New York
    assert next_allowed_time(toll_free, at, "America/Los_Angeles") == dt.datetime(2026, 6, 10, 15, 0, tzinfo=UTC)
    assert next_allowed_time(toll_free, at, "America/New_York") == at


@pytest.mark.django_db
def test_worker_holds_a_message_due_in_quiet_hours_then_sends_it():
    from messaging import backends

    with time_machine.travel(dt.datetime(2026, 6, 11, 4, 30, tzinfo=UTC), tick=False):  # 21:30 PDT
        patient = PatientFactory(mobile_phone=CA)
        opt_in(CA)
        row = outbox.queue_message(
            to_phone=CA, kind=Kind.STAFF_REPLY, idempotency_key="q", literal="Hello", patient=patient
        )
        result = dispatch.run_once()
        row.refresh_from_db()
        assert result.held == 1 and row.status == Status.PENDING
        assert row.next_attempt_at == dt.datetime(2026, 6, 11, 15, 0, tzinfo=UTC)
        assert row.held_reason.startswith("Quiet hours")
        assert backends.outbox == []
    with time_machine.travel(dt.datetime(2026, 6, 11, 15, 0, 1, tzinfo=UTC), tick=False):
        dispatch.run_once()
    row.refresh_from_db()
    assert row.status == Status.SENT and len(backends.outbox) == 1


@pytest.mark.django_db
def test_help_reply_is_not_held_by_quiet_hours():
    from messaging import backends

    with time_machine.travel(dt.datetime(2026, 6, 11, 6, 0, tzinfo=UTC), tick=False):  # 23:00 PDT
        inbound.receive_inbound(message_sid="SMh", from_phone=CA, to_phone="+18580000000", body="help")
        dispatch.run_once()
    assert len(backends.outbox) == 1 and "Reply STOP to opt out" in backends.outbox[0].body
