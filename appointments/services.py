"""Writes for scheduling: book, reschedule, cancel, confirm, check in, complete, no-show.

Keyword-only, one transaction each. Overlaps are refused by PostgreSQL's exclusion constraints
(not by a Python check that could race): the IntegrityError they raise becomes `SlotTaken`.
Audit: every insert/update of an appointment is recorded by pghistory's triggers, labelled here
with the action through `pghistory.context`. Signals (appointments.signals) are sent inside the
same transaction.
"""

from __future__ import annotations

import datetime as dt

import pghistory
from django.db import IntegrityError, transaction
from django.utils import timezone

from appointments import selectors, signals
from appointments.models import Appointment, Location, Provider, Room, Service
from consents.services import ConsentsMissing, assert_consents_complete
from patients.models import Patient
from privacy.minors import MinorNeedsGuardianConsent, assert_booking_allowed

Status = Appointment.Status
DOUBLE_BOOKING_CONSTRAINTS = {"no_provider_double_booking": "provider", "no_room_double_booking": "room"}

# Allowed moves of the status machine: booked → confirmed → checked_in → completed, or
# cancelled / no_show from any state before the visit happened.
TRANSITIONS: dict[str, set[str]] = {
    Status.BOOKED: {Status.CONFIRMED, Status.CHECKED_IN, Status.CANCELLED, Status.NO_SHOW},
    Status.CONFIRMED: {Status.CHECKED_IN, Status.CANCELLED, Status.NO_SHOW},
    Status.CHECKED_IN: {Status.COMPLETED},
    Status.COMPLETED: set(),
    Status.CANCELLED: set(),
    Status.NO_SHOW: set(),
}
OPEN_STATUSES = {Status.BOOKED, Status.CONFIRMED}


class SchedulingError(Exception):
    """A refusal a person can act on; the message is safe to show (no PHI)."""


class SlotTaken(SchedulingError):
    def __init__(self, resource: str = "provider"):
        self.resource = resource
        super().__init__("That time was just taken. Please choose another time.")


class NoRoomAvailable(SchedulingError):
    def __init__(self):
        super().__init__("No suitable room is free at that time.")


class InvalidTransition(SchedulingError):
    def __init__(self, current: str, wanted: str):
        self.current, self.wanted = current, wanted
        super().__init__(
            f"An appointment that is {Status(current).label.lower()} cannot become {Status(wanted).label}."
        )


class LateCancellation(SchedulingError):
    def __init__(self, location: Location):
        self.location = location
        super().__init__(
            f"Changes within {location.free_cancellation_hours} hours of the visit can't be made online. "
            f"Please call us at {location.phone}."
        )


def is_late_change(appointment: Appointment, *, now: dt.datetime | None = None) -> bool:
    """True when the visit starts within the location's free-cancellation window."""
    now = now or timezone.now()
    return appointment.starts_at - now < dt.timedelta(hours=appointment.location.free_cancellation_hours)


def _violated_constraint(exc: IntegrityError) -> str | None:
    diag = getattr(exc.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None)


def _save_guarded(appointment: Appointment, **save_kwargs) -> None:
    """Save inside a savepoint; a lost race on the exclusion constraints becomes SlotTaken."""
    try:
        with transaction.atomic():
            appointment.save(**save_kwargs)
    except IntegrityError as exc:
        resource = DOUBLE_BOOKING_CONSTRAINTS.get(_violated_constraint(exc) or "")
        if resource:
            raise SlotTaken(resource) from None
        raise


def _free_room(*, service: Service, location: Location, starts_at: dt.datetime, ends_at: dt.datetime, exclude_pk=None):
    """The first active room of a type the service needs that is free for the held range (1 query)."""
    probe = Appointment(service=service, starts_at=starts_at, ends_at=ends_at)
    held = probe.compute_blocked_range()
    busy = Appointment.objects.filter(blocked_range__overlap=held, room_id__isnull=False).exclude(
        status=Status.CANCELLED
    )
    if exclude_pk:
        busy = busy.exclude(pk=exclude_pk)
    return (
        Room.objects.filter(location=location, active=True, room_type__services=service)
        .exclude(pk__in=busy.values("room_id"))
        .order_by("pk")
        .first()
    )


def _offered_slot(*, service, location, starts_at, provider_id, now):
    """The slot the availability engine offers at exactly `starts_at`, or None."""
    tz = selectors.location_zone(location)
    day = starts_at.astimezone(tz).date()
    slots = selectors.available_slots(
        service=service,
        location=location,
        start_date=day,
        end_date=day,
        provider_id=provider_id,
        not_before=now + selectors.min_notice(),
    )
    return next((s for s in slots if s.starts_at == starts_at), None)


def _resolve_room(*, service, location, starts_at, ends_at, room, exclude_pk=None):
    if room is not None or not service.room_types.exists():
        return room
    room = _free_room(service=service, location=location, starts_at=starts_at, ends_at=ends_at, exclude_pk=exclude_pk)
    if room is None:
        raise NoRoomAvailable()
    return room


@transaction.atomic
def book_appointment(
    *,
    patient: Patient,
    service: Service,
    location: Location,
    starts_at: dt.datetime,
    provider: Provider | None = None,
    room: Room | None = None,
    source: str = Appointment.Source.STAFF,
    notes: str = "",
    require_offered_slot: bool = False,
    now: dt.datetime | None = None,
) -> Appointment:
    """Book a visit. `provider=None` means "anyone" (only with `require_offered_slot`).

    With `require_offered_slot` (the portal) the time must be one the availability engine offers
    now — inside working and opening hours, not closed, not in the past — and the engine picks the
    provider (for "anyone") and the room. Staff bookings skip that check (they may book outside
    the usual hours) but overlaps are still refused by the database.
    Raises SlotTaken when the time is not (or no longer) free, MinorWithoutGuardian for an
    under-18 patient with no guardian consent on record (§11)."""
    now = now or timezone.now()
    try:
        assert_booking_allowed(patient)
    except MinorNeedsGuardianConsent as exc:
        raise MinorWithoutGuardian() from exc
    if require_offered_slot:
        slot = _offered_slot(
            service=service, location=location, starts_at=starts_at, provider_id=provider and provider.pk, now=now
        )
        if slot is None:
            raise SlotTaken()
        provider_id, room_id = slot.provider_id, slot.room_id
    else:
        if provider is None:
            raise ValueError("Staff bookings name a provider.")
        ends_at = starts_at + dt.timedelta(minutes=service.duration_minutes)
        room = _resolve_room(service=service, location=location, starts_at=starts_at, ends_at=ends_at, room=room)
        provider_id, room_id = provider.pk, room.pk if room else None

    appointment = Appointment(
        patient=patient,
        service=service,
        location=location,
        provider_id=provider_id,
        room_id=room_id,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(minutes=service.duration_minutes),
        status=Status.BOOKED,
        source=source,
        notes=notes,
    )
    with pghistory.context(action="appointments.book"):
        _save_guarded(appointment)
    signals.appointment_booked.send(sender=Appointment, appointment=appointment, source=source)
    return appointment


def _locked(appointment: Appointment) -> Appointment:
    return Appointment.objects.select_for_update().select_related("location", "service").get(pk=appointment.pk)


@transaction.atomic
def reschedule_appointment(
    *,
    appointment: Appointment,
    starts_at: dt.datetime,
    provider: Provider | None = None,
    room: Room | None = None,
    by_patient: bool = False,
    now: dt.datetime | None = None,
) -> Appointment:
    """Move a booked/confirmed visit (same location). A patient may do it only outside the
    late-change window and only to a time the engine offers: with `provider` (the same one), or
    with `provider=None` ("anyone") the engine picks who and which room — the current provider
    whenever they are free, someone else otherwise. Staff may move it anywhere the database allows
    (`provider=None` keeps the provider). The provider and room may change; the signal carries the
    previous start and provider either way."""
    now = now or timezone.now()
    current = _locked(appointment)
    if current.status not in OPEN_STATUSES:
        raise InvalidTransition(current.status, Status.BOOKED)
    if by_patient and is_late_change(current, now=now):
        raise LateCancellation(current.location)
    previous_starts_at, previous_provider_id = current.starts_at, current.provider_id
    service, location = current.service, current.location
    ends_at = starts_at + dt.timedelta(minutes=service.duration_minutes)

    if by_patient:
        # The visit's own hold must not hide the new time from the engine (moving by 15 min).
        slot = _offered_slot_ignoring(current, starts_at=starts_at, provider=provider, now=now)
        if slot is None:
            raise SlotTaken()
        new_provider_id, new_room_id = slot.provider_id, slot.room_id
    else:
        new_provider_id = provider.pk if provider else current.provider_id
        if room is None and current.room_id and not _room_clashes(current, starts_at, ends_at):
            room = current.room
        room = _resolve_room(
            service=service, location=location, starts_at=starts_at, ends_at=ends_at, room=room, exclude_pk=current.pk
        )
        new_room_id = room.pk if room else None

    current.starts_at, current.ends_at = starts_at, ends_at
    current.provider_id, current.room_id = new_provider_id, new_room_id
    with pghistory.context(action="appointments.reschedule"):
        _save_guarded(current)
    signals.appointment_rescheduled.send(
        sender=Appointment,
        appointment=current,
        previous_starts_at=previous_starts_at,
        previous_provider_id=previous_provider_id,
    )
    return current


def _room_clashes(appointment: Appointment, starts_at, ends_at) -> bool:
    probe = Appointment(service=appointment.service, starts_at=starts_at, ends_at=ends_at)
    return (
        Appointment.objects.filter(room_id=appointment.room_id, blocked_range__overlap=probe.compute_blocked_range())
        .exclude(status=Status.CANCELLED)
        .exclude(pk=appointment.pk)
        .exists()
    )


def _offered_slot_ignoring(appointment: Appointment, *, starts_at, provider, now):
    """Like _offered_slot, but the appointment being moved does not block its own new time."""
    tz = selectors.location_zone(appointment.location)
    day = starts_at.astimezone(tz).date()
    slots = selectors.available_slots(
        service=appointment.service,
        location=appointment.location,
        start_date=day,
        end_date=day,
        provider_id=provider.pk if provider else None,
        not_before=now + selectors.min_notice(),
        ignore_appointment_id=appointment.pk,
        prefer_provider_id=appointment.provider_id,
    )
    return next((s for s in slots if s.starts_at == starts_at), None)


@transaction.atomic
def cancel_appointment(
    *, appointment: Appointment, by_patient: bool = False, now: dt.datetime | None = None
) -> Appointment:
    """Cancel. Patients may cancel online only before the free-cancellation window; staff always
    can (the signal says whether it was late, for the fee)."""
    now = now or timezone.now()
    current = _locked(appointment)
    if Status.CANCELLED not in TRANSITIONS[current.status]:
        raise InvalidTransition(current.status, Status.CANCELLED)
    late = is_late_change(current, now=now)
    if by_patient and late:
        raise LateCancellation(current.location)
    current.status = Status.CANCELLED
    current.cancelled_at = now
    with pghistory.context(action="appointments.cancel", by_patient=by_patient):
        current.save(update_fields=["status", "cancelled_at", "updated_at"])
    signals.appointment_cancelled.send(sender=Appointment, appointment=current, by_patient=by_patient, late=late)
    return current


def _move(appointment: Appointment, wanted: str) -> Appointment:
    current = _locked(appointment)
    if wanted not in TRANSITIONS[current.status]:
        raise InvalidTransition(current.status, wanted)
    current.status = wanted
    with pghistory.context(action=f"appointments.{wanted}"):
        current.save(update_fields=["status", "updated_at"])
    return current


@transaction.atomic
def confirm_appointment(*, appointment: Appointment) -> Appointment:
    return _move(appointment, Status.CONFIRMED)


@transaction.atomic
def check_in_appointment(*, appointment: Appointment) -> Appointment:
    return _move(appointment, Status.CHECKED_IN)


class MinorWithoutGuardian(SchedulingError):
    def __init__(self):
        super().__init__(
            "This patient is under 18: record a parent or guardian and their consent before booking "
            "(Privacy policy §11)."
        )


class ConsentsRequired(SchedulingError):
    """The visit's service needs consents the patient has not validly signed (consents app)."""


@transaction.atomic
def complete_appointment(*, appointment: Appointment) -> Appointment:
    # A provider cannot complete a visit whose required consents are missing or expired (§2B).
    try:
        assert_consents_complete(appointment)
    except ConsentsMissing as exc:
        raise ConsentsRequired(str(exc)) from exc
    current = _move(appointment, Status.COMPLETED)
    signals.appointment_completed.send(sender=Appointment, appointment=current)
    return current


@transaction.atomic
def mark_no_show(*, appointment: Appointment) -> Appointment:
    return _move(appointment, Status.NO_SHOW)


STAFF_ACTIONS = {
    "confirm": confirm_appointment,
    "check-in": check_in_appointment,
    "complete": complete_appointment,
    "no-show": mark_no_show,
    "cancel": lambda *, appointment: cancel_appointment(appointment=appointment),
}
