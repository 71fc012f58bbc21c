"""Reads for scheduling. The availability loader runs a fixed number of queries whatever the date
range, the number of providers, rooms or slots: each input is one query."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.db.models import Exists, OuterRef, Q
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


# A location offers a service when an active provider who does it has working hours there and,
# if the service needs a room, the location has an active room of a type the service can use.
# SQL because the ORM took longer to compose these nested EXISTS than PostgreSQL took to run them,
# and every booking page asks.
_LOCATIONS_OFFERING_SQL = """
SELECT l.*
  FROM {location} l
 WHERE EXISTS (SELECT 1
                 FROM {working_hours} wh
                 JOIN {provider} p ON p.id = wh.provider_id AND p.active
                 JOIN {provider_services} ps ON ps.provider_id = p.id AND ps.service_id = %(service)s
                WHERE wh.location_id = l.id)
   AND (NOT EXISTS (SELECT 1 FROM {service_room_types} srt WHERE srt.service_id = %(service)s)
        OR EXISTS (SELECT 1
                     FROM {room} r
                     JOIN {service_room_types} srt ON srt.roomtype_id = r.room_type_id AND srt.service_id = %(service)s
                    WHERE r.location_id = l.id AND r.active))
 ORDER BY l.name, l.id
"""


@cache  # table names and the SQL built from them do not change while the process runs
def _scheduling_tables() -> dict[str, str]:
    models = {
        "location": Location,
        "working_hours": WorkingHours,
        "provider": Provider,
        "provider_services": Provider.services.through,
        "room": Room,
        "service_room_types": Service.room_types.through,
        "appointment": Appointment,
        "opening_hours": OpeningHours,
        "closure": Closure,
        "time_off": TimeOff,
    }
    return {name: model._meta.db_table for name, model in models.items()}


def locations_offering(service: Service) -> list[Location]:
    """Locations where `service` can be booked, by name, in 1 query."""
    return list(Location.objects.raw(_locations_offering_sql(), {"service": service.pk}))


@cache
def _locations_offering_sql() -> str:
    return _LOCATIONS_OFFERING_SQL.format(**_scheduling_tables())


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


# Everything the engine needs, in one statement (one round trip, one plan): the location's opening
# hours and closures, the providers who can do the service there with their weekly hours and time
# off, the rooms the service can use, and the time held by appointments in the window, per provider
# and per room, as arrays of whole POSIX seconds rounded towards less free time (date_part, not
# EXTRACT, which computes in numeric and costs twice as much). Written as SQL because composing the
# same through the ORM took longer than running it, on every booking page. Tables come from the
# models' metadata.
_AVAILABILITY_INPUTS_SQL = """
WITH providers AS (  -- active, do the service, have hours here (the one asked for, if any)
    SELECT DISTINCT wh.provider_id AS id
      FROM {working_hours} wh
      JOIN {provider} p ON p.id = wh.provider_id AND p.active
      JOIN {provider_services} ps ON ps.provider_id = p.id AND ps.service_id = %(service)s
     WHERE wh.location_id = %(location)s
       AND (%(provider)s::bigint IS NULL OR wh.provider_id = %(provider)s::bigint)
),
rooms AS (  -- active rooms here of a type the service can use
    SELECT r.id
      FROM {room} r
      JOIN {service_room_types} srt ON srt.roomtype_id = r.room_type_id AND srt.service_id = %(service)s
     WHERE r.location_id = %(location)s AND r.active
),
held AS (  -- non-cancelled appointments holding time in the window, for those providers or rooms
    SELECT a.provider_id, a.room_id,
           floor(date_part('epoch', lower(a.blocked_range)))::int8 AS held_from,
           ceil(date_part('epoch', upper(a.blocked_range)))::int8 AS held_to
      FROM {appointment} a
     WHERE a.blocked_range && %(window)s
       AND a.status <> %(cancelled)s
       AND a.id <> %(ignore)s
       AND (a.provider_id IN (SELECT id FROM providers) OR a.room_id IN (SELECT id FROM rooms))
)
SELECT
    (SELECT json_agg(json_build_array(o.weekday, o.opens, o.closes))
       FROM {opening_hours} o WHERE o.location_id = %(location)s) AS opening_hours,
    (SELECT json_agg(c.date)
       FROM {closure} c WHERE c.location_id = %(location)s AND c.date BETWEEN %(first)s AND %(last)s) AS closures,
    (SELECT json_agg(json_build_array(wh.provider_id, wh.weekday, wh.starts, wh.ends)
                     ORDER BY wh.provider_id, wh.weekday, wh.starts)
       FROM {working_hours} wh
      WHERE wh.location_id = %(location)s AND wh.provider_id IN (SELECT id FROM providers)) AS working_hours,
    (SELECT json_agg(json_build_array(t.provider_id,
                                      floor(date_part('epoch', t.starts_at))::int8,
                                      ceil(date_part('epoch', t.ends_at))::int8))
       FROM {time_off} t
      WHERE t.provider_id IN (SELECT id FROM providers)
        AND t.starts_at < upper(%(window)s) AND t.ends_at > lower(%(window)s)) AS time_off,
    (SELECT json_agg(r.id ORDER BY r.id) FROM rooms r) AS rooms,
    EXISTS (SELECT 1 FROM {service_room_types} srt WHERE srt.service_id = %(service)s) AS needs_room,
    (SELECT json_agg(json_build_array(provider_id, held_from, held_to))
       FROM (SELECT provider_id, array_agg(held_from) AS held_from, array_agg(held_to) AS held_to
               FROM held WHERE provider_id IN (SELECT id FROM providers) GROUP BY provider_id) by_provider
    ) AS provider_busy,
    (SELECT json_agg(json_build_array(room_id, held_from, held_to))
       FROM (SELECT room_id, array_agg(held_from) AS held_from, array_agg(held_to) AS held_to
               FROM held WHERE room_id IN (SELECT id FROM rooms) GROUP BY room_id) by_room
    ) AS room_busy
"""


@cache
def _availability_inputs_sql() -> str:
    return _AVAILABILITY_INPUTS_SQL.format(**_scheduling_tables())


def _held_ranges(rows) -> dict[int, tuple]:
    """[[owner id, [from, …], [to, …]], …] → owner id → ((from, to), …)."""
    return {owner: tuple(zip(froms, tos, strict=True)) for owner, froms, tos in rows or ()}


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
    """Load everything the engine needs in 1 query, whatever the range, the providers or the
    appointments. `prefer_provider_id` goes first in the providers' order, so "any provider"
    proposes them whenever they are free."""
    tz = location_zone(location)
    # Held ranges reach beyond the day by at most the buffers; a day of margin covers them (and
    # the day before the range, whose windows may run past midnight into it).
    range_start, range_end = local_day_bounds(start_date - dt.timedelta(days=1), end_date + dt.timedelta(days=1), tz)
    params = {
        "service": service.pk,
        "location": location.pk,
        "provider": provider_id,
        "window": DateTimeTZRange(range_start, range_end, "[)"),
        "cancelled": Appointment.Status.CANCELLED,
        "ignore": ignore_appointment_id or 0,
        "first": start_date,
        "last": end_date,
    }
    with connection.cursor() as cursor:
        cursor.execute(_availability_inputs_sql(), params)
        opening_rows, closure_rows, hour_rows, time_off_rows, rooms, needs_room, provider_held, room_held = (
            cursor.fetchone()
        )

    opening: dict | None = None
    if opening_rows:
        opening = defaultdict(list)
        for weekday, opens, closes in opening_rows:
            opening[weekday].append((dt.time.fromisoformat(opens), dt.time.fromisoformat(closes)))
    hours: dict[int, list] = {}
    for pk, weekday, starts, ends in hour_rows or ():
        hours.setdefault(pk, []).append(
            availability.WeeklyWindow(weekday, dt.time.fromisoformat(starts), dt.time.fromisoformat(ends))
        )
    time_off: dict[int, list] = defaultdict(list)
    for pk, starts_at, ends_at in time_off_rows or ():
        time_off[pk].append((starts_at, ends_at))
    provider_ids = list(hours)  # by id
    if prefer_provider_id is not None:
        provider_ids.sort(key=lambda pk: pk != prefer_provider_id)  # stable: the rest stay by id
    provider_busy, room_busy = _held_ranges(provider_held), _held_ranges(room_held)
    rooms = rooms or []

    return AvailabilityInputs(
        service=availability.ServiceInput(
            duration_minutes=service.duration_minutes,
            buffer_before_minutes=service.buffer_before_minutes,
            buffer_after_minutes=service.buffer_after_minutes,
            needs_room=needs_room,
        ),
        providers=[
            availability.ProviderInput(
                provider_id=pk,
                weekly_hours=tuple(hours[pk]),
                time_off=tuple(time_off.get(pk, ())),
                busy=provider_busy.get(pk, ()),
            )
            for pk in provider_ids
        ],
        rooms=[availability.RoomInput(room_id=r, busy=room_busy.get(r, ())) for r in rooms],
        opening_hours=opening,
        closures={dt.date.fromisoformat(day) for day in closure_rows or ()},
        tz=tz,
    )


def availability_search(
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
) -> availability.AvailabilitySearch:
    """The engine loaded for `start_date`..`end_date` at `location`, for one provider
    (`provider_id`) or any provider (None); by default from now plus the minimum notice. With any
    provider, `prefer_provider_id` gets a time whenever they are free (otherwise the first free
    provider by id does). Ask it for `.slots(...)` or `.dates_with_slots(...)` inside that range."""
    inputs = availability_inputs(
        service=service,
        location=location,
        start_date=start_date,
        end_date=end_date,
        provider_id=provider_id,
        ignore_appointment_id=ignore_appointment_id,
        prefer_provider_id=prefer_provider_id,
    )
    return availability.AvailabilitySearch(
        service=inputs.service,
        providers=inputs.providers,
        rooms=inputs.rooms,
        tz=inputs.tz,
        opening_hours=inputs.opening_hours,
        closures=inputs.closures,
        step_minutes=step_minutes,
        not_before=not_before if not_before is not None else timezone.now() + min_notice(),
        any_provider=provider_id is None,
    )


def available_slots(*, start_date: dt.date, end_date: dt.date, **search) -> list[availability.Slot]:
    """Bookable slots starting on `start_date`..`end_date` (see `availability_search` for the rest)."""
    return availability_search(start_date=start_date, end_date=end_date, **search).slots(start_date, end_date)


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


def next_appointment_start(*, location: Location, after: dt.datetime) -> dt.datetime | None:
    """When the location's next open appointment starts (for an empty day: "next: Monday")."""
    return (
        Appointment.objects.filter(location=location, starts_at__gte=after)
        .exclude(status=Appointment.Status.CANCELLED)
        .order_by("starts_at")
        .values_list("starts_at", flat=True)
        .first()
    )


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
