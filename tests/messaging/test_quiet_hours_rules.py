"""Quiet hours from the stricter of the area code and the patient's address or visit location, and
the state-rules table for marketing (issue 17, point 9)."""

import datetime as dt

import pytest
import time_machine

from messaging import backends, dispatch
from messaging.models import Kind, Status
from messaging.quiet_hours import STATE_RULES, next_allowed_time
from messaging.services import outbox
from tests.factories import AppointmentFactory, LocationFactory, PatientFactory
from tests.messaging.factories import opt_in

UTC = dt.UTC
NY_NUMBER = "+12125550199"
TX_NUMBER = "+12145550100"  # Dallas
AL_NUMBER = "+12055550100"  # Birmingham
RI_NUMBER = "+14015550100"  # Providence


@pytest.mark.django_db
def test_san_diego_patient_with_a_212_number_is_not_texted_at_5_am_pacific():
    """Observed: quiet hours used only the area code, so 8:00 in New York (5:00 in San Diego) was allowed."""
    at = dt.datetime(2026, 6, 10, 12, 0, tzinfo=UTC)  # 8:00 EDT, 5:00 PDT
    with time_machine.travel(at, tick=False):
        patient = PatientFactory(mobile_phone=NY_NUMBER, city="San Diego", state="CA")
        opt_in(NY_NUMBER)
        row = outbox.queue_message(
            to_phone=NY_NUMBER, kind=Kind.STAFF_REPLY, idempotency_key="sd", literal="Hello", patient=patient
        )
        dispatch.run_once()
    row.refresh_from_db()
    assert row.status == Status.PENDING and backends.outbox == []
    assert row.next_attempt_at == dt.datetime(2026, 6, 10, 15, 0, tzinfo=UTC)  # 8:00 PDT


@pytest.mark.django_db
def test_the_visits_location_counts_when_no_address_is_on_file():
    at = dt.datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
    with time_machine.travel(at, tick=False):
        appointment = AppointmentFactory(
            patient=PatientFactory(mobile_phone=NY_NUMBER),
            location=LocationFactory(time_zone="America/Los_Angeles"),
            starts_at=at + dt.timedelta(days=2),
        )
        opt_in(NY_NUMBER)
        row = outbox.queue_message(
            to_phone=NY_NUMBER, kind=Kind.REMINDER, idempotency_key="loc", appointment=appointment
        )
        dispatch.run_once()
    row.refresh_from_db()
    assert row.status == Status.PENDING and row.next_attempt_at == dt.datetime(2026, 6, 10, 15, 0, tzinfo=UTC)


def test_texas_marketing_waits_for_noon_on_sunday_but_appointment_texts_do_not():
    sunday_10am_ct = dt.datetime(2026, 6, 14, 15, 0, tzinfo=UTC)
    assert next_allowed_time(TX_NUMBER, sunday_10am_ct) == sunday_10am_ct
    assert next_allowed_time(TX_NUMBER, sunday_10am_ct, marketing=True) == dt.datetime(2026, 6, 14, 17, 0, tzinfo=UTC)


def test_alabama_has_no_marketing_on_sundays_or_state_holidays():
    sunday_noon_ct = dt.datetime(2026, 6, 14, 17, 0, tzinfo=UTC)
    assert next_allowed_time(AL_NUMBER, sunday_noon_ct, marketing=True) == dt.datetime(2026, 6, 15, 13, 0, tzinfo=UTC)
    christmas_noon = dt.datetime(2026, 12, 25, 18, 0, tzinfo=UTC)  # a Friday
    assert next_allowed_time(AL_NUMBER, christmas_noon, marketing=True) == dt.datetime(2026, 12, 26, 14, 0, tzinfo=UTC)


def test_rhode_island_saturday_window_is_10_to_5():
    saturday_930 = dt.datetime(2026, 6, 13, 13, 30, tzinfo=UTC)
    assert next_allowed_time(RI_NUMBER, saturday_930, marketing=True) == dt.datetime(2026, 6, 13, 14, 0, tzinfo=UTC)


def test_an_address_in_a_stricter_state_applies_to_marketing_even_with_another_area_code():
    # A Florida resident with a New York number: 8:30 pm Eastern is past Florida's 8 pm.
    at = dt.datetime(2026, 6, 11, 0, 30, tzinfo=UTC)
    assert next_allowed_time(NY_NUMBER, at, marketing=True) == at
    assert next_allowed_time(NY_NUMBER, at, marketing=True, address_state="Florida") > at


def test_every_state_rule_names_its_source():
    assert {"FL", "OK", "MD", "TX"} <= set(STATE_RULES)
    for state, rule in STATE_RULES.items():
        assert rule.source.strip(), state
        assert rule.weekdays[0] >= 8 and rule.weekdays[1] <= 21, state
