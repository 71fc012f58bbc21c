"""Booking, rescheduling, cancelling and the status machine; no double booking, ever."""

import datetime as dt
import threading

import pytest
from django.db import connection

from appointments import services, signals
from appointments.models import Appointment
from tests.appointments.factories import RoomFactory, RoomTypeFactory, clinic
from tests.factories import PatientFactory, ProviderFactory, ServiceFactory

NOW = dt.datetime(2026, 11, 25, 18, tzinfo=dt.UTC)
MONDAY_10 = dt.datetime(2026, 11, 30, 18, tzinfo=dt.UTC)  # 10:00 in Los Angeles


@pytest.fixture
def setup(db):
    service = ServiceFactory(duration_minutes=30, buffer_after_minutes=15)
    location, provider = clinic(services=[service])
    return location, provider, service


def book(setup, **kw):
    location, provider, service = setup
    args = {
        "patient": PatientFactory(),
        "service": service,
        "location": location,
        "provider": provider,
        "starts_at": MONDAY_10,
        "now": NOW,
    }
    args.update(kw)
    return services.book_appointment(**args)


def test_booking_creates_a_booked_appointment_with_its_held_range(setup):
    appointment = book(setup)

    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED
    assert appointment.ends_at == MONDAY_10 + dt.timedelta(minutes=30)
    assert appointment.blocked_range.upper == MONDAY_10 + dt.timedelta(minutes=45)
    assert appointment.events.filter(pgh_label="insert").count() == 1  # audit row by trigger


def test_overlapping_booking_raises_slot_taken_not_integrity_error(setup):
    book(setup)

    with pytest.raises(services.SlotTaken) as caught:
        book(setup, starts_at=MONDAY_10 + dt.timedelta(minutes=40))  # inside the after-buffer

    assert caught.value.resource == "provider"
    assert "just taken" in str(caught.value)
    assert Appointment.objects.count() == 1


def test_back_to_back_after_the_buffer_is_fine(setup):
    book(setup)
    book(setup, starts_at=MONDAY_10 + dt.timedelta(minutes=45))

    assert Appointment.objects.count() == 2


def test_room_double_booking_is_refused_across_providers(setup):
    location, provider, service = setup
    room = RoomFactory(location=location)
    book(setup, room=room)
    other = ProviderFactory(services=[service])

    with pytest.raises(services.SlotTaken) as caught:
        book(setup, provider=other, room=room)

    assert caught.value.resource == "room"


def test_a_needed_room_is_chosen_automatically_and_none_free_is_refused(db):
    laser = RoomTypeFactory()
    service = ServiceFactory(room_types=[laser])
    location, provider = clinic(services=[service])
    room = RoomFactory(location=location, room_type=laser)
    first = services.book_appointment(
        patient=PatientFactory(), service=service, location=location, provider=provider, starts_at=MONDAY_10
    )
    assert first.room == room

    with pytest.raises(services.NoRoomAvailable):
        services.book_appointment(
            patient=PatientFactory(),
            service=service,
            location=location,
            provider=ProviderFactory(services=[service]),
            starts_at=MONDAY_10,
        )


def test_portal_booking_only_accepts_offered_slots_and_anyone_gets_a_provider(setup):
    location, provider, service = setup
    with pytest.raises(services.SlotTaken):
        book(setup, starts_at=MONDAY_10.replace(hour=5), require_offered_slot=True)  # 21:00 the day before
    with pytest.raises(services.SlotTaken):
        book(setup, starts_at=MONDAY_10 + dt.timedelta(minutes=7), require_offered_slot=True)  # off the grid

    appointment = book(setup, provider=None, require_offered_slot=True, source=Appointment.Source.PORTAL)

    assert appointment.provider == provider
    assert appointment.source == Appointment.Source.PORTAL


def test_status_machine_follows_the_visit(setup):
    appointment = book(setup)

    services.confirm_appointment(appointment=appointment)
    services.check_in_appointment(appointment=appointment)
    with pytest.raises(services.InvalidTransition):
        services.mark_no_show(appointment=appointment)
    services.complete_appointment(appointment=appointment)

    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.COMPLETED
    with pytest.raises(services.InvalidTransition):
        services.cancel_appointment(appointment=appointment)
    labels = list(appointment.events.order_by("pgh_id").values_list("status", flat=True))
    assert labels == ["booked", "confirmed", "checked_in", "completed"]


def test_cancelled_time_can_be_booked_again(setup):
    appointment = book(setup)
    services.cancel_appointment(appointment=appointment, now=NOW)

    again = book(setup)

    assert again.pk != appointment.pk
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED and appointment.cancelled_at == NOW


def test_patient_cannot_cancel_or_reschedule_late_online_but_staff_can(setup):
    appointment = book(setup)
    late = MONDAY_10 - dt.timedelta(hours=23)

    with pytest.raises(services.LateCancellation) as caught:
        services.cancel_appointment(appointment=appointment, by_patient=True, now=late)
    assert "(858) 256-0289" in str(caught.value)
    with pytest.raises(services.LateCancellation):
        services.reschedule_appointment(
            appointment=appointment, starts_at=MONDAY_10 + dt.timedelta(hours=2), by_patient=True, now=late
        )

    services.cancel_appointment(appointment=appointment, now=late)
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED


def test_reschedule_moves_the_visit_and_may_overlap_its_own_old_time(setup):
    appointment = book(setup)

    moved = services.reschedule_appointment(
        appointment=appointment, starts_at=MONDAY_10 + dt.timedelta(minutes=15), by_patient=True, now=NOW
    )

    moved.refresh_from_db()
    assert moved.starts_at == MONDAY_10 + dt.timedelta(minutes=15)
    other = book(setup, starts_at=MONDAY_10 + dt.timedelta(hours=2))
    with pytest.raises(services.SlotTaken):
        services.reschedule_appointment(appointment=moved, starts_at=other.starts_at, now=NOW)


def test_signals_fire_inside_the_transaction_with_their_arguments(setup):
    received = []

    def listener(signal, **kwargs):
        received.append((signal, kwargs, connection.in_atomic_block))

    for signal in (
        signals.appointment_booked,
        signals.appointment_rescheduled,
        signals.appointment_cancelled,
        signals.appointment_completed,
    ):
        signal.connect(listener, weak=False)
    try:
        appointment = book(setup)
        services.reschedule_appointment(appointment=appointment, starts_at=MONDAY_10 + dt.timedelta(hours=1), now=NOW)
        services.cancel_appointment(appointment=appointment, now=NOW)
        completed = book(setup, starts_at=MONDAY_10 + dt.timedelta(hours=3))
        services.check_in_appointment(appointment=completed)
        services.complete_appointment(appointment=completed)
    finally:
        for signal in (
            signals.appointment_booked,
            signals.appointment_rescheduled,
            signals.appointment_cancelled,
            signals.appointment_completed,
        ):
            signal.disconnect(listener)

    kinds = [r[0] for r in received]
    assert kinds == [
        signals.appointment_booked,
        signals.appointment_rescheduled,
        signals.appointment_cancelled,
        signals.appointment_booked,
        signals.appointment_completed,
    ]
    assert all(r[2] for r in received)
    assert received[1][1]["previous_starts_at"] == MONDAY_10
    assert received[2][1] == {
        "sender": Appointment,
        "appointment": received[2][1]["appointment"],
        "by_patient": False,
        "late": False,
    }


def test_a_failing_receiver_rolls_the_booking_back(setup):
    def explode(**kwargs):
        raise RuntimeError("outbox unavailable")

    signals.appointment_booked.connect(explode, weak=False)
    try:
        with pytest.raises(RuntimeError):
            book(setup)
    finally:
        signals.appointment_booked.disconnect(explode)
    assert not Appointment.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("through_engine", [False, True], ids=["straight-to-insert", "engine-then-insert"])
def test_twenty_concurrent_bookings_of_one_slot_make_exactly_one_appointment(through_engine):
    service = ServiceFactory(duration_minutes=30)
    location, provider = clinic(services=[service])
    patients = [PatientFactory() for _ in range(20)]
    barrier = threading.Barrier(20)
    outcomes = []

    def attempt(patient):
        try:
            barrier.wait()
            services.book_appointment(
                patient=patient,
                service=service,
                location=location,
                provider=provider,
                starts_at=MONDAY_10,
                now=NOW,
                require_offered_slot=True,
            )
            outcomes.append("booked")
        except services.SlotTaken:
            outcomes.append("taken")
        except Exception as exc:  # noqa: BLE001 — any other failure must fail the test below
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(p,)) for p in patients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(outcomes) == ["booked"] + ["taken"] * 19
    assert Appointment.objects.filter(provider=provider, starts_at=MONDAY_10).count() == 1


@pytest.mark.django_db
def test_minor_without_guardian_consent_cannot_be_booked_even_by_staff():
    import datetime as dt

    from django.utils import timezone

    from appointments import services
    from patients.services import create_patient
    from tests.appointments.factories import clinic
    from tests.factories import ServiceFactory

    service = ServiceFactory()
    location, provider = clinic(services=[service])
    today = timezone.now().date()
    minor = create_patient(
        first_name="Teen", last_name="Ager", date_of_birth=today.replace(year=today.year - 15) - dt.timedelta(days=1)
    )

    with pytest.raises(services.MinorWithoutGuardian, match="under 18"):
        services.book_appointment(
            patient=minor,
            service=service,
            location=location,
            provider=provider,
            starts_at=timezone.now() + dt.timedelta(days=2),
        )
    assert not minor.appointments.exists()
