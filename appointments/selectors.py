"""Reads for scheduling. The availability loader runs a fixed number of queries whatever the date
range, the number of providers, rooms or slots: each input is one query."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.db.models import Exists, FloatField, Func, OuterRef, Prefetch, Q
from django.utils import timezone

from appointments import availability
from appointments.models import (
    Appointment,
    Closure,
    Location,
    OpeningHours,
    Provider,
    Room,
    Service,
    TimeOff,
    WorkingHours,
)
from patients.models import Patient

EPOCH_OF_LOWER = "EXTRACT(EPOCH FROM LOWER(%(expressions)s))::float8"
EPOCH_OF_UPPER = "EXTRACT(EPOCH FROM UPPER(%(expressions)s))::float8"

PATIENT_FIELDS_NOT_SHOWN = [
    f"patient__{field.name}"
    for field in Patient._meta.concrete_fields
    if field.name not in {"id", "first_name", "last_name"}
]

ACTIVE_STATUSES = [
    Appointment.Status.BOOKED,
    Appointment.Status.CONFIRMED,
    Appointment.Status.CHECKED_IN,
    Appointment.Status.COMPLETED,
    Appointment.Status.NO_SHOW,
]


def min_notice() -> dt.timedelta:
    """How far ahead online bookings must start (setting APPOINTMENTS_MIN_NOTICE_MINUTES, default 60)."""
    return dt.timedelta(minutes=getattr(settings, "APPOINTMENTS_MIN_NOTICE_MINUTES", 60))


def location_zone(location: Location) -> ZoneInfo:
    return ZoneInfo(location.time_zone)


def default_location() -> Location | None:
    """The first clinic location: the staff home's location, and the portal's fallback when no
    location offers a service yet (its page then shows no times and the phone number)."""
    return Location.objects.order_by("pk").first()


def locations_offering(service: Service) -> list[Location]:
    """Locations where `service` can be booked, by name, in 1 query: an active provider who does
    it has working hours there and, when the service needs a room, the location has an active room
    of a type the service needs."""
    works_here = WorkingHours.objects.filter(location=OuterRef("pk"), provider__active=True, provider__services=service)
    suitable_room = Room.objects.filter(location=OuterRef("pk"), active=True, room_type__services=service)
    needs_no_room = ~Exists(Service.room_types.through.objects.filter(service_id=service.pk))
    return list(
        Location.objects.filter(Exists(works_here))
        .filter(Q(Exists(suitable_room)) | needs_no_room)
        .order_by("name", "pk")
    )


def providers_at(*, service: Service, location: Location):
    """Active providers who do `service` and have working hours at `location`, by name (1 query)."""
    works_here = WorkingHours.objects.filter(provider=OuterRef("pk"), location=location)
    return Provider.objects.filter(Exists(works_here), active=True, services=service).order_by("display_name", "pk")


def local_day_bounds(day_from: dt.date, day_to: dt.date, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """UTC instants of local midnight at the start of `day_from` and the end of `day_to`."""
    start = availability.local_instant(day_from, dt.time(0), tz)
    end = availability.local_instant(day_to + dt.timedelta(days=1), dt.time(0), tz)
    return start, end


@dataclass
class AvailabilityInputs:
    service: availability.ServiceInput
    providers: list[availability.ProviderInput]
    rooms: list[availability.RoomInput]
    opening_hours: dict | None
    closures: set[dt.date]
    tz: ZoneInfo


def availability_inputs(
    *,
    service: Service,
    location: Location,
    start_date: dt.date,
    end_date: dt.date,
    provider_id: int | None = None,
    ignore_appointment_id: int | None = None,
    prefer_provider_id: int | None = None,
) -> AvailabilityInputs:
    """Load everything `bookable_slots` needs in 8 queries. `prefer_provider_id` goes first in the
    providers' order, so "any provider" proposes them whenever they are free."""
    tz = location_zone(location)
    # Held ranges reach beyond the day by at most the buffers; a day of margin covers them.
    range_start, range_end = local_day_bounds(start_date - dt.timedelta(days=1), end_date + dt.timedelta(days=1), tz)
    window = DateTimeTZRange(range_start, range_end, "[)")

    opening_rows = list(OpeningHours.objects.filter(location=location).values_list("weekday", "opens", "closes"))
    opening: dict | None = None
    if opening_rows:
        opening = defaultdict(list)
        for weekday, opens, closes in opening_rows:
            opening[weekday].append((opens, closes))
    closures = set(
        Closure.objects.filter(location=location, date__range=(start_date, end_date)).values_list("date", flat=True)
    )

    providers_qs = Provider.objects.filter(active=True, services=service, working_hours__location=location)
    if provider_id is not None:
        providers_qs = providers_qs.filter(pk=provider_id)
    providers = list(
        providers_qs.distinct()
        .order_by("pk")
        .only("pk")
        .prefetch_related(
            Prefetch(
                "working_hours",
                queryset=WorkingHours.objects.filter(location=location).only(
                    "provider_id", "weekday", "starts", "ends"
                ),
                to_attr="hours_here",
            ),
            Prefetch(
                "time_off",
                queryset=TimeOff.objects.filter(starts_at__lt=range_end, ends_at__gt=range_start).only(
                    "provider_id", "starts_at", "ends_at"
                ),
                to_attr="time_off_here",
            ),
        )
    )
    if prefer_provider_id is not None:
        providers.sort(key=lambda p: p.pk != prefer_provider_id)  # stable: the rest stay by id
    provider_ids = [p.pk for p in providers]

    room_type_ids = list(service.room_types.values_list("pk", flat=True))
    needs_room = bool(room_type_ids)
    rooms = (
        list(
            Room.objects.filter(location=location, active=True, room_type_id__in=room_type_ids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if needs_room
        else []
    )

    provider_busy: dict[int, list] = defaultdict(list)
    room_busy: dict[int, list] = defaultdict(list)
    if provider_ids or rooms:
        rows = (
            Appointment.objects.filter(blocked_range__overlap=window)
            .exclude(status=Appointment.Status.CANCELLED)
            .filter(Q(provider_id__in=provider_ids) | Q(room_id__in=rooms))
            .exclude(pk=ignore_appointment_id or 0)
            # Epoch seconds as float8: thousands of rows without building range or datetime objects.
            .annotate(held_from=Func("blocked_range", template=EPOCH_OF_LOWER, output_field=FloatField()))
            .annotate(held_to=Func("blocked_range", template=EPOCH_OF_UPPER, output_field=FloatField()))
            .values_list("provider_id", "room_id", "held_from", "held_to")
        )
        for prov_id, room_id, held_from, held_to in rows:
            span = (held_from, held_to)
            provider_busy[prov_id].append(span)
            if room_id is not None:
                room_busy[room_id].append(span)

    return AvailabilityInputs(
        service=availability.ServiceInput(
            duration_minutes=service.duration_minutes,
            buffer_before_minutes=service.buffer_before_minutes,
            buffer_after_minutes=service.buffer_after_minutes,
            needs_room=needs_room,
        ),
        providers=[
            availability.ProviderInput(
                provider_id=p.pk,
                weekly_hours=tuple(availability.WeeklyWindow(h.weekday, h.starts, h.ends) for h in p.hours_here),
                time_off=tuple((t.starts_at, t.ends_at) for t in p.time_off_here),
                busy=tuple(provider_busy.get(p.pk, ())),
            )
            for p in providers
        ],
        rooms=[availability.RoomInput(room_id=r, busy=tuple(room_busy.get(r, ()))) for r in rooms],
        opening_hours=opening,
        closures=closures,
        tz=tz,
    )


def available_slots(
    *,
    service: Service,
    location: Location,
    start_date: dt.date,
    end_date: dt.date,
    provider_id: int | None = None,
    step_minutes: int = 15,
    not_before: dt.datetime | None = None,
    ignore_appointment_id: int | None = None,
    prefer_provider_id: int | None = None,
) -> list[availability.Slot]:
    """Bookable slots for one provider (`provider_id`) or any provider (None); by default from now
    plus the minimum notice. With any provider, `prefer_provider_id` gets a time whenever they are
    free (otherwise the first free provider by id does)."""
    inputs = availability_inputs(
        service=service,
        location=location,
        start_date=start_date,
        end_date=end_date,
        provider_id=provider_id,
        ignore_appointment_id=ignore_appointment_id,
        prefer_provider_id=prefer_provider_id,
    )
    return availability.bookable_slots(
        service=inputs.service,
        providers=inputs.providers,
        rooms=inputs.rooms,
        tz=inputs.tz,
        start_date=start_date,
        end_date=end_date,
        opening_hours=inputs.opening_hours,
        closures=inputs.closures,
        step_minutes=step_minutes,
        not_before=not_before if not_before is not None else timezone.now() + min_notice(),
        any_provider=provider_id is None,
    )


def appointments_between(*, location: Location, starts: dt.datetime, ends: dt.datetime, provider_id=None):
    """Non-cancelled appointments starting in [starts, ends), with what the calendar shows, in 1 query."""
    qs = (
        Appointment.objects.filter(location=location, starts_at__gte=starts, starts_at__lt=ends)
        .select_related("patient", "service", "provider", "room")
        # Only the patient's name is shown: don't fetch (and decrypt) the rest of the record.
        .defer(*PATIENT_FIELDS_NOT_SHOWN)
        .order_by("starts_at", "pk")
    )
    if provider_id is not None:
        qs = qs.filter(provider_id=provider_id)
    return qs


def conflicting_appointments(*, appointment: Appointment):
    """Existing appointments that overlap `appointment`'s held range for its provider or room."""
    held = appointment.compute_blocked_range()
    clash = Q(provider_id=appointment.provider_id)
    if appointment.room_id:
        clash |= Q(room_id=appointment.room_id)
    qs = (
        Appointment.objects.filter(clash, blocked_range__overlap=held)
        .exclude(status=Appointment.Status.CANCELLED)
        .select_related("service", "provider", "room", "location")
        .order_by("starts_at")
    )
    if appointment.pk:
        qs = qs.exclude(pk=appointment.pk)
    return qs
