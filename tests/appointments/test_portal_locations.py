"""The portal with several clinic locations: the choice, the chosen location's times and time zone,
and location ids that were tampered with."""

import datetime as dt
import re

import pytest

from appointments.models import Appointment
from tests.appointments.factories import OpeningHoursFactory, RoomFactory, WorkingHoursFactory
from tests.appointments.test_portal import DETAILS
from tests.factories import LocationFactory, ProviderFactory

pytestmark = pytest.mark.django_db

# Friday 2026-11-27: 9:00 in New York (EST) and 10:00 in San Diego (PST).
NY_NINE = dt.datetime(2026, 11, 27, 14, 0, tzinfo=dt.UTC)
LA_TEN = dt.datetime(2026, 11, 27, 18, 0, tzinfo=dt.UTC)


def add_location(service, room_type, *, name, tz, address, with_room=True, hours=(dt.time(9), dt.time(17))):
    """A second location with its own provider for `service` (Mon–Sat) and, optionally, a room."""
    location = LocationFactory(name=name, time_zone=tz, address=address)
    provider = ProviderFactory(services=[service], display_name=f"{name} provider")
    for weekday in range(6):
        WorkingHoursFactory(provider=provider, location=location, weekday=weekday, starts=hours[0], ends=hours[1])
        OpeningHoursFactory(location=location, weekday=weekday, opens=dt.time(8), closes=dt.time(19))
    room = RoomFactory(location=location, room_type=room_type, name=f"{name} room") if with_room else None
    return location, provider, room


@pytest.fixture
def two_locations(portal_clinic):
    service = portal_clinic["service"]
    room_type = service.room_types.get()
    ny, ny_provider, ny_room = add_location(
        service, room_type, name="Manhattan", tz="America/New_York", address="10 Hudson Yards, New York NY 10001"
    )
    return {**portal_clinic, "ny": ny, "ny_provider": ny_provider, "ny_room": ny_room}


def test_one_location_is_chosen_without_asking(client, portal_clinic, frozen_now):
    service = portal_clinic["service"]
    # A second location that can't do the service: nobody who does it works there.
    LocationFactory(name="Satellite office")

    page = client.get(f"/book/{service.pk}/")

    assert page.status_code == 200
    assert "Who would you like to see?" in page.text and portal_clinic["provider"].display_name in page.text
    assert "Where would you like to come?" not in page.text and "Satellite office" not in page.text
    assert ">Location<" not in page.text  # no extra step in the step bar
    assert f"/book/{service.pk}/any/?location={portal_clinic['location'].pk}" in page.text


def test_a_location_without_a_suitable_room_does_not_offer_the_service(client, portal_clinic, frozen_now):
    service = portal_clinic["service"]
    add_location(
        service, service.room_types.get(), name="No rooms", tz="America/Denver", address="1 Main St", with_room=False
    )

    page = client.get(f"/book/{service.pk}/")

    assert "Who would you like to see?" in page.text and "No rooms" not in page.text


def test_several_locations_ask_where_with_address_and_time_zone(client, two_locations, frozen_now):
    service, la, ny = two_locations["service"], two_locations["location"], two_locations["ny"]

    page = client.get(f"/book/{service.pk}/")

    assert page.status_code == 200 and "Where would you like to come?" in page.text
    assert ">Location<" in page.text
    for location, label in ((la, "Los Angeles time (PST)"), (ny, "New York time (EST)")):
        assert location.name in page.text and location.address in page.text
        assert f"Times in {label}" in page.text
        assert f'href="/book/{service.pk}/?location={location.pk}"' in page.text
    assert "Who would you like to see?" not in page.text
    # The providers step lists only who works at the chosen location.
    at_ny = client.get(f"/book/{service.pk}/?location={ny.pk}")
    assert "Who would you like to see?" in at_ny.text and "Manhattan" in at_ny.text
    assert two_locations["ny_provider"].display_name in at_ny.text
    assert two_locations["provider"].display_name not in at_ny.text
    assert f"/book/{service.pk}/any/?location={ny.pk}" in at_ny.text


def test_the_time_page_without_a_location_sends_the_patient_to_choose_one(client, two_locations, frozen_now):
    service = two_locations["service"]

    response = client.get(f"/book/{service.pk}/any/")

    assert response.status_code == 302 and response["Location"] == f"/book/{service.pk}/"


def test_times_are_those_of_the_chosen_location_in_its_time_zone(client, two_locations, frozen_now):
    service, la, ny = two_locations["service"], two_locations["location"], two_locations["ny"]

    at_ny = client.get(f"/book/{service.pk}/any/?location={ny.pk}&date=2026-11-27")
    at_la = client.get(f"/book/{service.pk}/any/?location={la.pk}&date=2026-11-27")

    assert "New York time (EST)" in at_ny.text and "Los Angeles time (PST)" not in at_ny.text
    ny_offered = re.findall(r'name="starts_at" value="([^"]+)"', at_ny.text)
    assert ny_offered[0] == NY_NINE.isoformat() and ">9:00 AM<" in at_ny.text
    assert f'name="location" value="{ny.pk}"' in at_ny.text
    assert f"&amp;location={ny.pk}" in at_ny.text  # the date strip keeps the location
    assert "Los Angeles time (PST)" in at_la.text
    la_offered = re.findall(r'name="starts_at" value="([^"]+)"', at_la.text)
    assert la_offered[0] == dt.datetime(2026, 11, 27, 17, 0, tzinfo=dt.UTC).isoformat()  # 9:00 in San Diego
    assert NY_NINE.isoformat() not in la_offered  # 6:00 in San Diego: closed


def test_booking_at_the_chosen_location(client, two_locations, frozen_now):
    service, ny = two_locations["service"], two_locations["ny"]
    slot = {"service": service.pk, "who": "any", "starts_at": NY_NINE.isoformat(), "location": ny.pk}

    details = client.post("/book/details/", slot)
    done = client.post("/book/confirm/", {**slot, **DETAILS, "privacy_acknowledged": "on"})

    assert "Manhattan" in details.text and "New York time (EST)" in details.text and "9:00 AM" in details.text
    assert f'name="location" value="{ny.pk}"' in details.text
    assert done.status_code == 302
    appointment = Appointment.objects.get()
    assert appointment.location == ny and appointment.starts_at == NY_NINE
    assert appointment.provider == two_locations["ny_provider"] and appointment.room == two_locations["ny_room"]
    confirmation = client.get(done["Location"]).text
    assert "9:00 AM" in confirmation and "New York time (EST)" in confirmation
    assert "10 Hudson Yards" in confirmation


def test_a_taken_time_at_the_chosen_location_offers_that_locations_times(client, two_locations, frozen_now):
    service, ny = two_locations["service"], two_locations["ny"]
    slot = {"service": service.pk, "who": "any", "starts_at": NY_NINE.isoformat(), "location": ny.pk}
    client.post("/book/confirm/", {**slot, **DETAILS, "privacy_acknowledged": "on"})

    again = client.post("/book/confirm/", {**slot, **DETAILS, "email": "x@example.com", "privacy_acknowledged": "on"})

    assert again.status_code == 409 and "That time was just taken" in again.text
    assert "New York time (EST)" in again.text and f'name="location" value="{ny.pk}"' in again.text
    assert Appointment.objects.count() == 1


def test_tampered_location_ids_are_refused_clearly(client, two_locations, frozen_now):
    service, la, ny = two_locations["service"], two_locations["location"], two_locations["ny"]
    elsewhere = LocationFactory(name="Does not offer it")
    slot = {"service": service.pk, "who": "any", "starts_at": NY_NINE.isoformat()}

    for bad in ("999999", "abc", str(elsewhere.pk), "-1", "1" * 40, "²"):
        for page in (
            client.get(f"/book/{service.pk}/?location={bad}"),
            client.get(f"/book/{service.pk}/any/?location={bad}"),
        ):
            assert page.status_code == 404, bad
            assert "That location is not available for this service." in page.text
            assert "Manhattan" in page.text  # and the real choices again
        details = client.post("/book/details/", {**slot, "location": bad})
        confirm = client.post("/book/confirm/", {**slot, **DETAILS, "privacy_acknowledged": "on", "location": bad})
        assert details.status_code == 404 and confirm.status_code == 404, bad
    # A provider of another location, with this location's id, is not found either.
    ny_provider = two_locations["ny_provider"]
    assert client.get(f"/book/{service.pk}/{ny_provider.pk}/?location={la.pk}").status_code == 404
    wrong = client.post(
        "/book/confirm/", {**slot, **DETAILS, "privacy_acknowledged": "on", "who": ny_provider.pk, "location": la.pk}
    )
    assert wrong.status_code == 404
    # A form without a location (a page from before the second location opened) asks for one.
    stale = client.post("/book/details/", slot)
    assert stale.status_code == 302 and stale["Location"] == f"/book/{service.pk}/"
    assert not Appointment.objects.exists()
    assert client.get(f"/book/{service.pk}/any/?location={ny.pk}").status_code == 200


def test_location_step_query_count_does_not_grow_with_locations(
    client, two_locations, frozen_now, django_assert_max_num_queries
):
    service = two_locations["service"]
    room_type = service.room_types.get()
    url = f"/book/{service.pk}/"
    with django_assert_max_num_queries(6) as few:
        client.get(url)
    for n in range(4):
        add_location(service, room_type, name=f"Extra {n}", tz="America/Chicago", address=f"{n} Elm St")

    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(url)

    assert "Extra 3" in page.text


def test_time_page_query_count_does_not_grow_with_locations_or_providers(
    client, two_locations, frozen_now, django_assert_max_num_queries
):
    service, ny = two_locations["service"], two_locations["ny"]
    url = f"/book/{service.pk}/any/?location={ny.pk}&date=2026-11-27"
    with django_assert_max_num_queries(14) as few:
        client.get(url)
    room_type = service.room_types.get()
    for n in range(3):
        add_location(service, room_type, name=f"Extra {n}", tz="America/Chicago", address=f"{n} Elm St")
        provider = ProviderFactory(services=[service])
        for weekday in range(6):
            WorkingHoursFactory(provider=provider, location=ny, weekday=weekday)

    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url)
