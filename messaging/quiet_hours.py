"""Quiet hours in the recipient's time zone (DESIGN.md §5).

The recipient's zone and state come from the phone's area code (`phonenumbers` timezone and
geocoder data); a number without that data falls back to the clinic's zone. Default window
8:00–21:00 local; stricter states (settings.SMS_QUIET_HOURS_BY_STATE, e.g. FL and OK 8:00–20:00)
override it. Where an area code spans several zones, the message waits until it is allowed in all."""

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

import phonenumbers
from django.conf import settings
from phonenumbers import geocoder
from phonenumbers import timezone as phone_timezone

US_STATES = {
    "Alabama": "AL", "Alaska": "AK", "Arizona": "AZ", "Arkansas": "AR", "California": "CA", "Colorado": "CO",
    "Connecticut": "CT", "Delaware": "DE", "District of Columbia": "DC", "Washington D.C.": "DC", "Florida": "FL",
    "Georgia": "GA", "Hawaii": "HI", "Idaho": "ID", "Illinois": "IL", "Indiana": "IN", "Iowa": "IA", "Kansas": "KS",
    "Kentucky": "KY", "Louisiana": "LA", "Maine": "ME", "Maryland": "MD", "Massachusetts": "MA", "Michigan": "MI",
    "Minnesota": "MN", "Mississippi": "MS", "Missouri": "MO", "Montana": "MT", "Nebraska": "NE", "Nevada": "NV",
    "New Hampshire": "NH", "New Jersey": "NJ", "New Mexico": "NM", "New York": "NY", "North Carolina": "NC",
    "North Dakota": "ND", "Ohio": "OH", "Oklahoma": "OK", "Oregon": "OR", "Pennsylvania": "PA",
    "Rhode Island": "RI", "South Carolina": "SC", "South Dakota": "SD", "Tennessee": "TN", "Texas": "TX",
    "Utah": "UT", "Vermont": "VT", "Virginia": "VA", "Washington": "WA", "West Virginia": "WV",
    "Wisconsin": "WI", "Wyoming": "WY", "Puerto Rico": "PR",
}  # fmt: skip
_STATE_CODES = frozenset(US_STATES.values())


@lru_cache(maxsize=4096)
def recipient_region(phone: str) -> tuple[tuple[str, ...], str]:
    """(IANA zones, US state code or "") for an E.164 number, from its area code."""
    try:
        parsed = phonenumbers.parse(phone, "US")
    except phonenumbers.NumberParseException:
        return (), ""
    zones = tuple(z for z in phone_timezone.time_zones_for_number(parsed) if z != "Etc/Unknown")
    if len(zones) > 3:
        # Non-geographic numbers (toll-free, 5XX) list every zone of the numbering plan: no information.
        zones = ()
    description = geocoder.description_for_number(parsed, "en")
    state = US_STATES.get(description, "")
    if not state and ", " in description:
        suffix = description.rsplit(", ", 1)[1]
        state = suffix if suffix in _STATE_CODES else ""
    return zones, state


def window_for_state(state: str) -> tuple[int, int]:
    return tuple(settings.SMS_QUIET_HOURS_BY_STATE.get(state, settings.SMS_QUIET_HOURS))


def _next_allowed_in_zone(at: dt.datetime, zone: ZoneInfo, window: tuple[int, int]) -> dt.datetime:
    start_hour, end_hour = window
    local = at.astimezone(zone)
    start = dt.datetime.combine(local.date(), dt.time(start_hour), tzinfo=zone)
    end = dt.datetime.combine(local.date(), dt.time(end_hour), tzinfo=zone) if end_hour < 24 else None
    if local < start:
        return start.astimezone(dt.UTC)
    if end is None or local < end:
        return at
    # After the window: 8:00 local tomorrow (combine() with the zone gets DST right).
    return dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(start_hour), tzinfo=zone).astimezone(dt.UTC)


def next_allowed_time(phone: str, at: dt.datetime, fallback_tz: str | None = None) -> dt.datetime:
    """`at` itself when a message may go out then, otherwise the next moment it may."""
    zones, state = recipient_region(phone)
    if not zones:
        zones = (fallback_tz or settings.CLINIC_TIME_ZONE,)
    window = window_for_state(state)
    candidate = at
    for _ in range(8):  # converges in one or two rounds; bounded for odd zone mixes
        moved = candidate
        for name in zones:
            moved = max(moved, _next_allowed_in_zone(moved, ZoneInfo(name), window))
        if moved == candidate:
            return candidate
        candidate = moved
    return candidate


def in_quiet_hours(phone: str, at: dt.datetime, fallback_tz: str | None = None) -> bool:
    return next_allowed_time(phone, at, fallback_tz) != at
