"""Rescheduling through the signed manage link: the same provider (default) or anyone available."""

import datetime as dt
import re

import pytest

from appointments import services, signals
from appointments.models import Appointment
from appointments.views.portal import manage_token
from messaging.models import Kind, OutboundMessage, Status
from tests.appointments.factories import RoomFactory, WorkingHoursFactory
from tests.factories import AppointmentFactory, PatientFactory, ProviderFactory

pytestmark = pytest.mark.django_db

# Friday 2026-11-27 10:00 and 12:00 in San Diego (PST).
SLOT = dt.datetime(2026, 11, 27, 18, 0, tzinfo=dt.UTC)
NOON = SLOT + dt.timedelta(hours=2)


@pytest.fixture
def two_providers(portal_clinic):
    """The portal clinic with a second provider for the service and a second treatment room."""
    location, service = portal_clinic["location"], portal_clinic["service"]
    nora = ProviderFactory(services=[service], display_name="Nora Nurse, RN")
    for weekday in range(6):
        WorkingHoursFactory(provider=nora, location=location, weekday=weekday)
    room_2 = RoomFactory(location=location, room_type=service.room_types.get(), name="Room 2")
    return {**portal_clinic, "nora": nora, "room_2": room_2}


def booked_visit(clinic, *, starts_at=SLOT, provider=None, room=None):
    """A visit booked through the service, so the messaging receivers queued its reminders."""
    patient = PatientFactory(mobile_phone="+16195550134")
    return services.book_appointment(
        patient=patient,
        service=clinic["service"],
        location=clinic["location"],
        provider=provider or clinic["provider"],
        room=room or clinic["room"],
        starts_at=starts_at,
    )


def offered(page) -> list[str]:
    return re.findall(r'name="starts_at" value="([^"]+)"', page.text)


def test_anyone_lands_on_another_provider_when_the_same_one_is_busy(client, two_providers, frozen_now):
    paula, nora = two_providers["provider"], two_providers["nora"]
    appointment = booked_visit(two_providers)
    booked_visit(two_providers, starts_at=NOON)  # Paula and Room 1 are busy at noon
    url = f"/book/manage/{manage_token(appointment)}/reschedule/"
    old_reminders = list(OutboundMessage.objects.filter(appointment=appointment, kind=Kind.REMINDER))
    received = []

    def listener(**kwargs):
        received.append(kwargs)

    same = client.get(f"{url}?date=2026-11-27")
    anyone = client.get(f"{url}?who=any&date=2026-11-27")
    signals.appointment_rescheduled.connect(listener, weak=False)
    try:
        response = client.post(url, {"starts_at": NOON.isoformat(), "who": "any"})
    finally:
        signals.appointment_rescheduled.disconnect(listener)

    assert "Same provider" in same.text and "Anyone available" in same.text
    assert NOON.isoformat() not in offered(same) and NOON.isoformat() in offered(anyone)
    assert 'name="who" value="any"' in anyone.text and "&amp;who=any" in anyone.text
    assert response.status_code == 200 and "Appointment moved" in response.text
    assert "Nora Nurse, RN" in response.text and "12:00 PM" in response.text
    appointment.refresh_from_db()
    assert (appointment.starts_at, appointment.provider, appointment.room) == (NOON, nora, two_providers["room_2"])
    assert received[0]["previous_starts_at"] == SLOT and received[0]["previous_provider_id"] == paula.pk
    # The messaging receivers moved the reminders and queued a notice.
    for row in old_reminders:
        row.refresh_from_db()
        assert row.status == Status.CANCELLED
    live = OutboundMessage.objects.filter(appointment=appointment, kind=Kind.REMINDER, status=Status.PENDING)
    assert sorted(r.due_at for r in live) == [NOON - dt.timedelta(hours=24), NOON - dt.timedelta(hours=2)]
    assert OutboundMessage.objects.filter(appointment=appointment, kind=Kind.RESCHEDULE_NOTICE).count() == 1


def test_anyone_keeps_the_same_provider_when_they_are_free(client, two_providers, frozen_now):
    # Nora has the higher id: without the preference, "anyone" would hand the time to Paula.
    nora = two_providers["nora"]
    assert nora.pk > two_providers["provider"].pk
    appointment = booked_visit(two_providers, provider=nora, room=two_providers["room_2"])
    later = SLOT + dt.timedelta(hours=3)

    response = client.post(
        f"/book/manage/{manage_token(appointment)}/reschedule/", {"starts_at": later.isoformat(), "who": "any"}
    )

    assert response.status_code == 200
    appointment.refresh_from_db()
    assert appointment.starts_at == later and appointment.provider == nora


def test_same_provider_is_the_default_and_refuses_their_busy_time(client, two_providers, frozen_now):
    appointment = booked_visit(two_providers)
    booked_visit(two_providers, starts_at=NOON)

    response = client.post(f"/book/manage/{manage_token(appointment)}/reschedule/", {"starts_at": NOON.isoformat()})

    assert response.status_code == 409 and "That time was just taken" in response.text
    assert NOON.isoformat() not in offered(response) and 'name="who" value="same"' in response.text
    appointment.refresh_from_db()
    assert (appointment.starts_at, appointment.provider) == (SLOT, two_providers["provider"])


def test_anyone_when_everyone_is_busy_says_the_time_was_taken(client, two_providers, frozen_now):
    appointment = booked_visit(two_providers)
    booked_visit(two_providers, starts_at=NOON)
    booked_visit(two_providers, starts_at=NOON, provider=two_providers["nora"], room=two_providers["room_2"])

    response = client.post(
        f"/book/manage/{manage_token(appointment)}/reschedule/", {"starts_at": NOON.isoformat(), "who": "any"}
    )

    assert response.status_code == 409 and "That time was just taken" in response.text
    nearby = offered(response)
    assert nearby and NOON.isoformat() not in nearby and 'name="who" value="any"' in response.text
    appointment.refresh_from_db()
    assert appointment.starts_at == SLOT


def test_rescheduling_with_anyone_still_refuses_late_changes(client, two_providers, frozen_now):
    appointment = booked_visit(two_providers, starts_at=frozen_now + dt.timedelta(hours=5))
    url = f"/book/manage/{manage_token(appointment)}/reschedule/"

    page = client.get(f"{url}?who=any")
    response = client.post(url, {"starts_at": (SLOT + dt.timedelta(days=1)).isoformat(), "who": "any"})

    assert page.status_code == 200 and "can't be changed online" in page.text and "(858) 256-0289" in page.text
    assert "Anyone available" not in page.text and not offered(page)
    assert response.status_code == 409 and "(858) 256-0289" in response.text
    appointment.refresh_from_db()
    assert appointment.starts_at == frozen_now + dt.timedelta(hours=5)
    assert appointment.provider == two_providers["provider"]


def test_the_choice_is_offered_only_when_someone_else_does_the_service_here(client, portal_clinic, frozen_now):
    appointment = booked_visit(portal_clinic)

    page = client.get(f"/book/manage/{manage_token(appointment)}/reschedule/?who=nonsense")

    assert page.status_code == 200 and "Anyone available" not in page.text and offered(page)


def test_reschedule_page_query_count_does_not_grow(client, two_providers, frozen_now, django_assert_max_num_queries):
    appointment = booked_visit(two_providers)
    url = f"/book/manage/{manage_token(appointment)}/reschedule/?who=any&date=2026-11-27"
    with django_assert_max_num_queries(14) as few:
        client.get(url)
    for n in range(3):
        provider = ProviderFactory(services=[two_providers["service"]])
        for weekday in range(6):
            WorkingHoursFactory(provider=provider, location=two_providers["location"], weekday=weekday)
        AppointmentFactory(
            location=two_providers["location"],
            service=two_providers["service"],
            provider=provider,
            starts_at=SLOT + dt.timedelta(hours=n),
        )

    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(url)

    assert page.status_code == 200 and Appointment.objects.count() == 4


def test_a_time_already_past_says_so_and_the_visit_stays(client, two_providers, frozen_now):
    appointment = booked_visit(two_providers)
    past = frozen_now - dt.timedelta(hours=2)

    response = client.post(f"/book/manage/{manage_token(appointment)}/reschedule/", {"starts_at": past.isoformat()})

    assert response.status_code == 409 and "That time has already passed" in response.text
    appointment.refresh_from_db()
    assert appointment.starts_at == SLOT
