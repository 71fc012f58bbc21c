"""Staff calendar: day/week views, today's list with htmx actions, create and reschedule."""

import datetime as dt

import pytest

from appointments.models import Appointment
from tests.appointments.factories import RoomFactory, WorkingHoursFactory
from tests.factories import AppointmentFactory, PatientFactory, ProviderFactory

pytestmark = pytest.mark.django_db

TODAY_10 = dt.datetime(2026, 11, 25, 18, 0, tzinfo=dt.UTC)  # 10:00 in San Diego on the frozen day


def visit(clinic, service="peel", **kwargs):
    """An appointment at the clinic's location: a peel with its provider unless told otherwise."""
    kwargs.setdefault("provider", clinic["provider"])
    return AppointmentFactory(location=clinic["location"], service=clinic[service], **kwargs)


def make_day(clinic, count, *, start=TODAY_10):
    providers = [clinic["provider"]]
    for _ in range(2):
        extra = ProviderFactory(services=[clinic["service"]])
        WorkingHoursFactory(provider=extra, location=clinic["location"], weekday=2)
        providers.append(extra)
    made = []
    for i in range(count):
        provider = providers[i % len(providers)]
        made.append(
            visit(clinic, provider=provider, starts_at=start + dt.timedelta(minutes=45 * (i // len(providers))))
        )
    return made


def test_today_list_shows_patient_and_service_and_query_count_is_flat(
    staff_client, portal_clinic, frozen_now, django_assert_max_num_queries
):
    client = staff_client("front_desk")
    make_day(portal_clinic, 3)
    client.get("/staff/")  # warm session and role caches
    with django_assert_max_num_queries(12) as few:
        page = client.get("/staff/").text
    make_day(portal_clinic, 30, start=TODAY_10 + dt.timedelta(hours=3))
    with django_assert_max_num_queries(len(few.captured_queries)):
        many = client.get("/staff/").text

    first = Appointment.objects.select_related("patient").order_by("starts_at").first()
    assert first.patient.full_name in page and "Chemical peel" in page and "10:00 AM" in page
    assert many.count('class="status-booked"') == 33
    assert "Check in" in page and "No-show" in page and "Cancel" in page


def test_an_empty_today_links_the_next_day_with_visits(staff_client, portal_clinic, frozen_now):
    client = staff_client("front_desk")
    visit(portal_clinic, starts_at=TODAY_10 + dt.timedelta(days=1), status=Appointment.Status.CANCELLED)
    visit(portal_clinic, starts_at=TODAY_10 + dt.timedelta(days=5))

    page = client.get("/staff/").text

    assert "No appointments today." in page
    assert "Next visits:" in page and "Monday, November 30" in page and "date=2026-11-30" in page


def test_htmx_check_in_then_complete_returns_the_updated_row(staff_client, portal_clinic, frozen_now):
    client = staff_client("front_desk")
    appointment = visit(portal_clinic, starts_at=TODAY_10)

    checked_in = client.post(f"/staff/appointments/{appointment.pk}/check-in/", HTTP_HX_REQUEST="true")
    again = client.post(f"/staff/appointments/{appointment.pk}/check-in/", HTTP_HX_REQUEST="true")
    completed = client.post(f"/staff/appointments/{appointment.pk}/complete/", HTTP_HX_REQUEST="true")

    assert checked_in.status_code == 200 and f'id="appt-{appointment.pk}"' in checked_in.text
    assert "Checked in" in checked_in.text and "Complete" in checked_in.text
    assert "cannot become Checked in" in again.text
    assert "Completed" in completed.text and "<html" not in completed.text
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.COMPLETED


def test_no_show_and_cancel_without_htmx_redirect_back(staff_client, portal_clinic, frozen_now):
    client = staff_client("front_desk")
    a, b = (visit(portal_clinic, starts_at=TODAY_10 + dt.timedelta(hours=h)) for h in (0, 2))

    r1 = client.post(f"/staff/appointments/{a.pk}/no-show/", {"next": "/staff/"})
    r2 = client.post(f"/staff/appointments/{b.pk}/cancel/", {"next": "https://evil.example/"})

    assert r1.status_code == 302 and r1["Location"] == "/staff/"
    assert r2["Location"] == "/staff/"
    assert Appointment.objects.get(pk=a.pk).status == "no_show"
    assert Appointment.objects.get(pk=b.pk).status == "cancelled"
    assert client.post(f"/staff/appointments/{a.pk}/explode/").status_code == 404
    assert client.post("/staff/appointments/999999/cancel/").status_code == 404


def test_billing_and_anonymous_users_cannot_use_the_calendar(client, staff_client, portal_clinic):
    assert client.get("/staff/calendar/").status_code == 302
    billing = staff_client("billing")
    assert billing.get("/staff/calendar/").status_code == 403
    assert billing.post("/staff/appointments/1/cancel/").status_code == 403


def test_day_view_by_provider_and_by_room_with_flat_query_count(
    staff_client, portal_clinic, frozen_now, django_assert_max_num_queries
):
    client = staff_client("provider")
    room = portal_clinic["room"]
    visit(portal_clinic, "service", room=room, starts_at=TODAY_10)
    client.get("/staff/calendar/?date=2026-11-25")
    with django_assert_max_num_queries(12) as few:
        client.get("/staff/calendar/?date=2026-11-25")
    make_day(portal_clinic, 40, start=TODAY_10 + dt.timedelta(hours=1))
    with django_assert_max_num_queries(len(few.captured_queries)):
        by_provider = client.get("/staff/calendar/?date=2026-11-25")
    by_room = client.get("/staff/calendar/?date=2026-11-25&by=room")

    assert by_provider.status_code == 200 and "41 appointments" in by_provider.text
    assert portal_clinic["provider"].display_name in by_provider.text
    assert "Room 1" in by_room.text and "No room" in by_room.text
    assert by_room.text.count('class="appt-card') == 41


def test_week_view_shows_a_providers_week(staff_client, portal_clinic, frozen_now):
    client = staff_client("manager")
    provider = portal_clinic["provider"]
    visit(portal_clinic, provider=provider, starts_at=TODAY_10 + dt.timedelta(days=2))

    page = client.get(f"/staff/calendar/week/?provider={provider.pk}&date=2026-11-25").text

    assert "Week of November 23, 2026" in page and "Fri 27" in page and "Chemical peel" in page


def test_create_from_the_form_and_an_overlap_shows_the_conflict(staff_client, portal_clinic, frozen_now):
    client = staff_client("front_desk")
    patient = PatientFactory(first_name="Rosa")
    other = PatientFactory(first_name="Iris")
    form = {
        "patient": patient.pk,
        "service": portal_clinic["service"].pk,
        "provider": portal_clinic["provider"].pk,
        "room": "",
        "date": "2026-11-30",
        "time": "10:00",
        "notes": "",
    }

    created = client.post("/staff/appointments/new/", form)
    clash = client.post("/staff/appointments/new/", {**form, "patient": other.pk, "time": "10:30"})

    assert (
        created.status_code == 302
        and created["Location"] == f"/staff/calendar/?date=2026-11-30&location={portal_clinic['location'].pk}"
    )
    appointment = Appointment.objects.get()
    assert appointment.starts_at == dt.datetime(2026, 11, 30, 18, 0, tzinfo=dt.UTC)
    assert appointment.room == portal_clinic["room"] and appointment.source == "staff"
    assert clash.status_code == 409
    assert "overlaps another appointment" in clash.text and "Conflicts with" in clash.text
    assert "Rosa" in clash.text and "10:00 AM" in clash.text
    assert Appointment.objects.count() == 1


def test_form_errors_are_shown_not_500(staff_client, portal_clinic, frozen_now):
    client = staff_client("front_desk")
    base = {
        "patient": 999999,
        "service": portal_clinic["service"].pk,
        "provider": portal_clinic["provider"].pk,
        "date": "2026-03-08",
        "time": "02:30",
    }

    response = client.post("/staff/appointments/new/", base)

    assert response.status_code == 200
    assert "No patient with that number." in response.text
    assert "does not exist on this day" in response.text


def test_reschedule_from_the_form(staff_client, portal_clinic, frozen_now):
    client = staff_client("front_desk")
    appointment = visit(portal_clinic, "service", room=portal_clinic["room"], starts_at=TODAY_10 + dt.timedelta(days=1))
    blocker = visit(portal_clinic, starts_at=TODAY_10 + dt.timedelta(days=1, hours=3))

    page = client.get(f"/staff/appointments/{appointment.pk}/reschedule/")
    clash = client.post(
        f"/staff/appointments/{appointment.pk}/reschedule/",
        {"provider": portal_clinic["provider"].pk, "date": "2026-11-26", "time": "13:00"},
    )
    moved = client.post(
        f"/staff/appointments/{appointment.pk}/reschedule/",
        {"provider": portal_clinic["provider"].pk, "date": "2026-11-26", "time": "15:00"},
    )

    assert 'value="10:00' in page.text
    assert clash.status_code == 409 and f"#{blocker.pk}" in clash.text
    assert moved.status_code == 302
    appointment.refresh_from_db()
    assert appointment.starts_at == dt.datetime(2026, 11, 26, 23, 0, tzinfo=dt.UTC)
    assert appointment.room == portal_clinic["room"]


def test_rooms_can_clash_across_providers_and_the_form_says_so(staff_client, portal_clinic, frozen_now):
    client = staff_client("front_desk")
    room = portal_clinic["room"]
    visit(portal_clinic, "service", room=room, starts_at=TODAY_10 + dt.timedelta(days=5))
    other = ProviderFactory(services=[portal_clinic["service"]])
    RoomFactory(location=portal_clinic["location"], name="Room 9")

    response = client.post(
        "/staff/appointments/new/",
        {
            "patient": PatientFactory().pk,
            "service": portal_clinic["service"].pk,
            "provider": other.pk,
            "room": room.pk,
            "date": "2026-11-30",
            "time": "10:00",
        },
    )

    assert "Room 1" in response.text, response.text[-3000:]
    assert response.status_code == 409


def test_today_list_links_payments_for_front_desk_but_not_for_providers(staff_client, portal_clinic, frozen_now):
    make_day(portal_clinic, 1)
    appointment = Appointment.objects.get()

    front_desk = staff_client("front_desk").get("/staff/").text
    provider = staff_client("provider").get("/staff/").text

    assert f"/staff/payments/appointment/{appointment.pk}/" in front_desk
    assert "/staff/payments/" not in provider


# --- drag and drop on the day view (static/js/calendar.js posts to the move endpoint) -------------


def second_provider(clinic):
    other = ProviderFactory(services=[clinic["service"], clinic["peel"]], display_name="Dr. Other")
    WorkingHoursFactory(provider=other, location=clinic["location"], weekday=3)
    return other


def test_day_view_gives_the_script_the_grid_and_what_each_card_may_do(staff_client, portal_clinic, frozen_now):
    client = staff_client("front_desk")
    booked = visit(portal_clinic, starts_at=TODAY_10)
    done = visit(portal_clinic, starts_at=TODAY_10 + dt.timedelta(hours=2), status=Appointment.Status.COMPLETED)
    page = client.get("/staff/calendar/?date=2026-11-25").text

    # Opening hours 8:00–19:00 on Wednesdays: the grid spans 480–1140 minutes of the local day.
    assert 'data-grid-starts="480" data-grid-ends="1140"' in page
    assert f'data-drop="{portal_clinic["provider"].pk}"' in page
    assert 'data-start="600" data-minutes="45"' in page  # 10:00 local, a 45-minute peel
    assert f'data-move-url="/staff/appointments/{booked.pk}/move/"' in page
    assert f"/staff/appointments/{done.pk}/move/" not in page  # completed visits stay put
    assert "js/calendar.js" in page


def test_dropping_a_card_on_another_provider_and_time_moves_it(staff_client, portal_clinic, frozen_now):
    client = staff_client("front_desk")
    other = second_provider(portal_clinic)
    appointment = visit(portal_clinic, "service", room=portal_clinic["room"], starts_at=TODAY_10 + dt.timedelta(days=1))

    answer = client.post(
        f"/staff/appointments/{appointment.pk}/move/", {"date": "2026-11-26", "time": "14:30", "provider": other.pk}
    )

    assert answer.status_code == 200 and answer.json() == {"ok": True}
    appointment.refresh_from_db()
    assert appointment.provider == other and appointment.room == portal_clinic["room"]
    assert appointment.starts_at == dt.datetime(2026, 11, 26, 22, 30, tzinfo=dt.UTC)
    day = client.get("/staff/calendar/?date=2026-11-26").text
    assert f"Moved appointment #{appointment.pk} to 2:30 PM with Dr. Other." in day


def test_dropping_on_a_room_column_keeps_the_provider(staff_client, portal_clinic, frozen_now):
    client = staff_client("front_desk")
    room_2 = RoomFactory(location=portal_clinic["location"], room_type=portal_clinic["room"].room_type, name="Room 2")
    appointment = visit(portal_clinic, "service", room=portal_clinic["room"], starts_at=TODAY_10 + dt.timedelta(days=1))

    answer = client.post(
        f"/staff/appointments/{appointment.pk}/move/", {"date": "2026-11-26", "time": "11:00", "room": room_2.pk}
    )

    assert answer.json() == {"ok": True}
    appointment.refresh_from_db()
    assert appointment.room == room_2 and appointment.provider == portal_clinic["provider"]


def test_a_drop_onto_a_busy_time_names_the_clash_and_changes_nothing(staff_client, portal_clinic, frozen_now):
    client = staff_client("front_desk")
    appointment = visit(portal_clinic, starts_at=TODAY_10 + dt.timedelta(days=1))
    blocker = visit(portal_clinic, starts_at=TODAY_10 + dt.timedelta(days=1, hours=3))

    answer = client.post(
        f"/staff/appointments/{appointment.pk}/move/",
        {"date": "2026-11-26", "time": "13:15", "provider": portal_clinic["provider"].pk},
    )

    assert answer.status_code == 409
    error = answer.json()["error"]
    assert error.startswith("That time overlaps 1:00–1:45 PM") and blocker.patient.full_name in error
    appointment.refresh_from_db()
    assert appointment.starts_at == TODAY_10 + dt.timedelta(days=1)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"date": "2026-11-26", "time": "25:00"}, "Time: Enter a valid time."),
        ({"date": "not a day", "time": "10:00"}, "Date: Enter a valid date."),
        ({"date": "2026-11-26", "time": "10:00", "provider": "999999"}, "Provider: Select a valid choice."),
        ({"date": "2027-03-14", "time": "02:30"}, "does not exist on this day"),
    ],
)
def test_a_bad_drop_answers_a_clear_error_not_a_500(staff_client, portal_clinic, frozen_now, data, message):
    client = staff_client("front_desk")
    appointment = visit(portal_clinic)
    answer = client.post(f"/staff/appointments/{appointment.pk}/move/", data)
    assert answer.status_code == 400 and message in answer.json()["error"]


def test_finished_visits_cannot_be_moved_and_billing_cannot_move_anything(staff_client, portal_clinic, frozen_now):
    appointment = visit(portal_clinic, status=Appointment.Status.COMPLETED)
    data = {"date": "2026-11-26", "time": "10:00"}
    front_desk = staff_client("front_desk")
    refused = front_desk.post(f"/staff/appointments/{appointment.pk}/move/", data)
    assert refused.status_code == 409 and refused.json()["error"]
    assert front_desk.get(f"/staff/appointments/{appointment.pk}/move/").status_code == 405
    assert staff_client("billing").post(f"/staff/appointments/{appointment.pk}/move/", data).status_code == 403
