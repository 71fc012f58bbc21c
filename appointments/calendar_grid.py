"""Geometry of the staff day view's time grid: which minutes of the location's local day it spans
and where each appointment sits on it. Pure functions over what the view already loaded (no
queries); the script in static/js/calendar.js draws the grid from these numbers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

MINUTES_PER_DAY = 24 * 60
# A day without opening hours (a closure, or none set up) still gets a usable grid.
DEFAULT_OPENS = dt.time(8)
DEFAULT_CLOSES = dt.time(20)


@dataclass(frozen=True)
class GridSpan:
    """Minutes after local midnight, on whole hours, that the grid shows."""

    starts: int
    ends: int

    @property
    def hours(self) -> list[int]:
        return list(range(self.starts, self.ends, 60))


def local_minute(instant: dt.datetime, day: dt.date, tz: ZoneInfo) -> int:
    """Minutes after the local midnight of `day`, clamped to that day (a visit that began the
    evening before, or runs past midnight, is drawn from the top or to the bottom)."""
    local = instant.astimezone(tz)
    if local.date() < day:
        return 0
    if local.date() > day:
        return MINUTES_PER_DAY
    return local.hour * 60 + local.minute


def day_span(*, opening_hours, appointments, day: dt.date, tz: ZoneInfo) -> GridSpan:
    """From the earliest opening (or appointment) to the latest closing (or appointment end),
    widened to whole hours. `opening_hours` are (opens, closes) local times for that weekday."""
    opens = [o.hour * 60 + o.minute for o, _ in opening_hours] or [DEFAULT_OPENS.hour * 60]
    closes = [c.hour * 60 + c.minute for _, c in opening_hours] or [DEFAULT_CLOSES.hour * 60]
    starts = min(opens + [local_minute(a.starts_at, day, tz) for a in appointments])
    ends = max(closes + [local_minute(a.ends_at, day, tz) for a in appointments])
    starts = starts - starts % 60
    ends = min(MINUTES_PER_DAY, ends + (-ends % 60))
    return GridSpan(starts=starts, ends=max(ends, starts + 60))


def place(appointment, *, day: dt.date, tz: ZoneInfo) -> None:
    """Set the appointment's grid position: `grid_start` (minute of the local day) and
    `grid_minutes` (how long it is drawn)."""
    start = local_minute(appointment.starts_at, day, tz)
    appointment.grid_start = start
    appointment.grid_minutes = max(5, local_minute(appointment.ends_at, day, tz) - start)
