"""The availability engine: which start times can a service be booked at?

`bookable_slots` is a pure function: plain values in, plain values out, no database, no clock, no
settings. The selector (`appointments.selectors.availability_inputs`) loads its inputs with a fixed
number of queries and calls it.

Rules (the same ones PostgreSQL enforces for overlaps, so a slot offered here can be inserted):
- A slot holds `[start - buffer_before, start + duration + buffer_after)` — the "held" range,
  exactly `Appointment.blocked_range`.
- The held range lies inside one of the provider's working windows for that local day, and inside
  the location's opening hours for that day (when the location declares opening hours).
- It overlaps none of the provider's busy ranges (other appointments' held ranges) nor time off.
- When the service needs a room, at least one eligible room is free for the held range; the
  first free room (in the order given) is proposed.
- A slot belongs to the local date it starts on: a window running past midnight offers its later
  times on the next date. No slot on a closure date, none starting before `not_before`.
- `dates_with_slots` answers "is there any time on this date?" for a date strip by finding one
  time per date, not all of them.

Time zones: weekly hours are local wall-clock times of the location. Each window's ends are turned
into instants with the location's zone (so 09:00 means 09:00 there, whatever the server's zone),
and candidate starts are stepped in real elapsed time from the window's start. On a spring-forward
day a window spanning 02:00 is an hour shorter and never yields a non-existent local time; on a
fall-back day it is an hour longer and each instant is offered once. A wall time that does not
exist (02:30 on spring-forward) is read with the offset before the change, i.e. the first real
instant after the gap.
"""

from __future__ import annotations

import datetime as dt
import math
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

UTC = dt.UTC
# (start, end) as aware datetimes, or as POSIX seconds (busy ranges and time off only).
Range = tuple[dt.datetime, dt.datetime]


@dataclass(frozen=True)
class WeeklyWindow:
    """A local wall-clock window on a weekday (0 = Monday)."""

    weekday: int
    starts: dt.time
    ends: dt.time


@dataclass(frozen=True)
class ProviderInput:
    provider_id: int
    weekly_hours: tuple[WeeklyWindow, ...]
    time_off: tuple[Range, ...] = ()
    busy: tuple[Range, ...] = ()


@dataclass(frozen=True)
class RoomInput:
    room_id: int
    busy: tuple[Range, ...] = ()


@dataclass(frozen=True)
class ServiceInput:
    duration_minutes: int
    buffer_before_minutes: int = 0
    buffer_after_minutes: int = 0
    needs_room: bool = False


@dataclass(frozen=True, order=True)
class Slot:
    starts_at: dt.datetime  # aware, UTC
    ends_at: dt.datetime
    provider_id: int = field(compare=False)
    room_id: int | None = field(compare=False, default=None)


def _seconds(instant: dt.datetime | float, *, up: bool = False) -> int:
    """Whole POSIX seconds, rounded down (or up): the inner loop compares ints, not aware datetimes.

    Accepts an aware datetime or POSIX seconds already (the selector fetches busy ranges as epoch
    seconds to skip building thousands of datetimes). Rounding is always towards "less free
    time" so a fractional second never makes a slot that the database would refuse."""
    value = instant if isinstance(instant, int | float) else instant.timestamp()
    return math.ceil(value) if up else math.floor(value)


class _BusySet:
    """Disjoint, sorted ranges (POSIX seconds) with an O(log n) overlap test."""

    def __init__(self, ranges: Iterable[Range]):
        # Hot path (thousands of ranges per request): the selector hands over whole seconds already
        # (ints, rounded towards less free time), which pass through untouched.
        pairs = sorted(
            (a, b) if a.__class__ is int and b.__class__ is int else (_seconds(a), _seconds(b, up=True))
            for a, b in ranges
            if b > a
        )
        starts: list[int] = []
        ends: list[int] = []
        for start, end in pairs:
            if ends and start <= ends[-1]:
                if end > ends[-1]:
                    ends[-1] = end
            else:
                starts.append(start)
                ends.append(end)
        self.starts, self.ends = starts, ends

    def overlaps(self, start: int, end: int) -> bool:
        # The last range starting before `end` is the only candidate: ranges are disjoint and sorted.
        index = bisect_left(self.starts, end) - 1
        return index >= 0 and self.ends[index] > start


def local_instant(day: dt.date, wall: dt.time, tz: ZoneInfo) -> dt.datetime:
    """The UTC instant of a local wall-clock time; non-existent times land after the gap."""
    return dt.datetime.combine(day, wall, tzinfo=tz).astimezone(UTC)


def local_window(day: dt.date, starts: dt.time, ends: dt.time, tz: ZoneInfo) -> Range:
    # An end of 00:00 (or before the start) means midnight at the end of the day.
    end_day = day + dt.timedelta(days=1) if ends <= starts else day
    return local_instant(day, starts, tz), local_instant(end_day, ends, tz)


def _intersect(a: Sequence[Range], b: Sequence[Range]) -> list[Range]:
    out = []
    for a_start, a_end in a:
        for b_start, b_end in b:
            start, end = max(a_start, b_start), min(a_end, b_end)
            if end > start:
                out.append((start, end))
    return sorted(out)


def _days(start_date: dt.date, end_date: dt.date):
    day = start_date
    while day <= end_date:
        yield day
        day += dt.timedelta(days=1)


def _provider_windows(
    provider: ProviderInput,
    day: dt.date,
    tz: ZoneInfo,
    opening_hours: Mapping[int, Sequence[tuple[dt.time, dt.time]]] | None,
) -> list[Range]:
    weekday = day.weekday()
    working = [local_window(day, w.starts, w.ends, tz) for w in provider.weekly_hours if w.weekday == weekday]
    if opening_hours is None:
        return sorted(working)
    opening = [local_window(day, opens, closes, tz) for opens, closes in opening_hours.get(weekday, ())]
    return _intersect(working, opening)


def _ceil_to_step(value: int, step: int) -> int:
    """The smallest multiple of `step` that is >= value (value >= 0)."""
    return -(-value // step) * step


class AvailabilitySearch:
    """One availability search: busy times merged and windows turned into POSIX seconds once, so
    asking about many dates (or only whether a date has a time at all) repeats no work.

    A slot belongs to the local date it starts on. A date's candidates come from its own working
    windows and from the previous day's windows that run past midnight."""

    def __init__(
        self,
        *,
        service: ServiceInput,
        providers: Sequence[ProviderInput],
        rooms: Sequence[RoomInput] = (),
        tz: ZoneInfo,
        opening_hours: Mapping[int, Sequence[tuple[dt.time, dt.time]]] | None = None,
        closures: Iterable[dt.date] = (),
        step_minutes: int = 15,
        not_before: dt.datetime | None = None,
        any_provider: bool = True,
    ):
        if step_minutes <= 0 or service.duration_minutes <= 0:
            raise ValueError("step and duration must be positive")
        self.before = service.buffer_before_minutes * 60
        self.duration = service.duration_minutes * 60
        self.after = service.buffer_after_minutes * 60
        self.step = step_minutes * 60
        self.needs_room = service.needs_room
        self.earliest = _seconds(not_before, up=True) if not_before is not None else None
        self.providers = providers
        self.provider_busy = {p.provider_id: _BusySet([*p.busy, *p.time_off]) for p in providers}
        self.room_busy = [(r.room_id, _BusySet(r.busy)) for r in rooms]
        self.tz = tz
        self.opening_hours = opening_hours
        self.closed = set(closures)
        self.any_provider = any_provider
        self._windows_cache: dict[tuple, list[tuple[int, int]]] = {}
        self._midnight_cache: dict[dt.date, int] = {}

    @property
    def impossible(self) -> bool:
        return self.needs_room and not self.room_busy

    def _midnight(self, day: dt.date) -> int:
        """POSIX seconds of local midnight at the start of `day`."""
        if day not in self._midnight_cache:
            self._midnight_cache[day] = _seconds(local_instant(day, dt.time(0), self.tz))
        return self._midnight_cache[day]

    def _windows(self, provider: ProviderInput, day: dt.date) -> list[tuple[int, int]]:
        # Providers with the same weekly hours (most clinics) share one computation per day.
        key = (day, provider.weekly_hours)
        if key not in self._windows_cache:
            self._windows_cache[key] = [
                (_seconds(a, up=True), _seconds(b))
                for a, b in _provider_windows(provider, day, self.tz, self.opening_hours)
            ]
        return self._windows_cache[key]

    def starts_on(self, day: dt.date) -> Iterator[tuple[int, int, int | None]]:
        """Free (start, provider id, room id) whose start is on local date `day`, lazily: provider
        by provider in the given order, each in time order. With any provider, a start time is
        yielded once, for the first provider free then."""
        before, duration, after, step = self.before, self.duration, self.after, self.step
        lowest = self._midnight(day)
        if self.earliest is not None:
            lowest = max(lowest, self.earliest)
        next_midnight = self._midnight(day + dt.timedelta(days=1))
        previous_day = day - dt.timedelta(days=1)
        taken: set[int] = set()
        for provider in self.providers:
            busy = self.provider_busy[provider.provider_id]
            busy_starts, busy_ends = busy.starts, busy.ends
            for window_start, window_end in (*self._windows(provider, previous_day), *self._windows(provider, day)):
                # Starts stay on the window's step grid; the first one leaves room for the buffer.
                start = window_start + _ceil_to_step(before, step)
                if start < lowest:
                    start += _ceil_to_step(lowest - start, step)  # skip the grid points before in one step
                last = min(window_end - duration - after, next_midnight - 1)
                while start <= last:
                    if start in taken:
                        start += step
                        continue
                    held_start, held_end = start - before, start + duration + after
                    # Inline of _BusySet.overlaps: the last busy range starting before held_end.
                    index = bisect_left(busy_starts, held_end) - 1
                    if not (index >= 0 and busy_ends[index] > held_start):
                        room_id = _free_room(self.room_busy, held_start, held_end) if self.needs_room else None
                        if room_id is not None or not self.needs_room:
                            if self.any_provider:
                                taken.add(start)
                            yield start, provider.provider_id, room_id
                    start += step

    def slots(self, start_date: dt.date, end_date: dt.date) -> list[Slot]:
        """Bookable slots starting on the local dates `start_date`..`end_date` (inclusive), by start."""
        if self.impossible:
            return []
        # Keyed by (start, provider): a provider's overlapping windows must not offer a time twice.
        found = {
            (start, provider_id): room_id
            for day in _days(start_date, end_date)
            if day not in self.closed
            for start, provider_id, room_id in self.starts_on(day)
        }
        length = dt.timedelta(seconds=self.duration)
        slots = []
        for (start, provider_id), room_id in sorted(found.items()):
            starts_at = dt.datetime.fromtimestamp(start, tz=UTC)
            slots.append(Slot(starts_at, starts_at + length, provider_id, room_id))
        return slots

    def dates_with_slots(self, start_date: dt.date, end_date: dt.date) -> set[dt.date]:
        """The local dates in `start_date`..`end_date` on which `slots` would offer at least one
        time: the date strip's "any times this day?", at the cost of finding one time per date."""
        if self.impossible:
            return set()
        return {
            day
            for day in _days(start_date, end_date)
            if day not in self.closed and next(self.starts_on(day), None) is not None
        }


def bookable_slots(
    *,
    service: ServiceInput,
    providers: Sequence[ProviderInput],
    rooms: Sequence[RoomInput] = (),
    tz: ZoneInfo,
    start_date: dt.date,
    end_date: dt.date,
    opening_hours: Mapping[int, Sequence[tuple[dt.time, dt.time]]] | None = None,
    closures: Iterable[dt.date] = (),
    step_minutes: int = 15,
    not_before: dt.datetime | None = None,
    any_provider: bool = True,
) -> list[Slot]:
    """Bookable slots for `service` starting on the local dates `start_date`..`end_date`
    (inclusive), sorted by start.

    `providers` are those who may do the service (one of them for a specific-provider search).
    With `any_provider`, each start time is offered once, with the first free provider in the given
    order; without it, every (start, provider) pair is returned.
    `opening_hours`: weekday → local (opens, closes) pairs; None means no location-level limit.
    """
    search = AvailabilitySearch(
        service=service,
        providers=providers,
        rooms=rooms,
        tz=tz,
        opening_hours=opening_hours,
        closures=closures,
        step_minutes=step_minutes,
        not_before=not_before,
        any_provider=any_provider,
    )
    return search.slots(start_date, end_date)


def _free_room(room_busy: Sequence[tuple[int, _BusySet]], held_start: int, held_end: int) -> int | None:
    for room_id, busy in room_busy:
        if not busy.overlaps(held_start, held_end):
            return room_id
    return None
