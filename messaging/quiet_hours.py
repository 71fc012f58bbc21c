"""Quiet hours in the recipient's time zone (DESIGN.md §5, issue 17).

Where a text lands is the stricter of the number's area code (`phonenumbers` timezone and geocoder
data), the patient's address (state → zones) and the location of the visit it is about: the
message waits until it is allowed in every one of those zones ("a San Diego patient with a 212
number" is not texted at 5 am Pacific). Every message keeps to SMS_QUIET_HOURS (8:00–21:00 local),
narrowed per state by SMS_QUIET_HOURS_BY_STATE. Marketing also keeps to STATE_RULES, the table of
states whose telephone-solicitation laws are stricter than the federal 8 am–9 pm (hours, Sundays,
state holidays from the `holidays` package), each with its source."""

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
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


# Where a patient's address says they live: the zones of their state (all of them where a state
# spans several; a message waits until it is allowed in every one).
STATE_ZONES = {
    "AL": ("America/Chicago",), "AK": ("America/Anchorage",), "AZ": ("America/Phoenix",),
    "AR": ("America/Chicago",), "CA": ("America/Los_Angeles",), "CO": ("America/Denver",),
    "CT": ("America/New_York",), "DE": ("America/New_York",), "DC": ("America/New_York",),
    "FL": ("America/New_York", "America/Chicago"), "GA": ("America/New_York",), "HI": ("Pacific/Honolulu",),
    "ID": ("America/Boise", "America/Los_Angeles"), "IL": ("America/Chicago",),
    "IN": ("America/Indiana/Indianapolis", "America/Chicago"), "IA": ("America/Chicago",),
    "KS": ("America/Chicago", "America/Denver"), "KY": ("America/New_York", "America/Chicago"),
    "LA": ("America/Chicago",), "ME": ("America/New_York",), "MD": ("America/New_York",),
    "MA": ("America/New_York",), "MI": ("America/Detroit", "America/Menominee"), "MN": ("America/Chicago",),
    "MS": ("America/Chicago",), "MO": ("America/Chicago",), "MT": ("America/Denver",),
    "NE": ("America/Chicago", "America/Denver"), "NV": ("America/Los_Angeles",), "NH": ("America/New_York",),
    "NJ": ("America/New_York",), "NM": ("America/Denver",), "NY": ("America/New_York",),
    "NC": ("America/New_York",), "ND": ("America/Chicago", "America/Denver"), "OH": ("America/New_York",),
    "OK": ("America/Chicago",), "OR": ("America/Los_Angeles", "America/Boise"), "PA": ("America/New_York",),
    "RI": ("America/New_York",), "SC": ("America/New_York",), "SD": ("America/Chicago", "America/Denver"),
    "TN": ("America/Chicago", "America/New_York"), "TX": ("America/Chicago", "America/Denver"),
    "UT": ("America/Denver",), "VT": ("America/New_York",), "VA": ("America/New_York",),
    "WA": ("America/Los_Angeles",), "WV": ("America/New_York",), "WI": ("America/Chicago",),
    "WY": ("America/Denver",), "PR": ("America/Puerto_Rico",),
}  # fmt: skip


@dataclass(frozen=True)
class StateRule:
    """When a state allows marketing texts (telephone solicitation), local time. `None` for a day
    means none that day. `source` is the law it comes from."""

    weekdays: tuple[int, int]
    saturday: tuple[int, int] | None
    sunday: tuple[int, int] | None
    holidays: bool  # False: none on the state's legal holidays
    source: str


FEDERAL_WINDOW = (8, 21)
FEDERAL_SOURCE = "47 U.S.C. § 227; 47 CFR § 64.1200(c)(1) (TCPA): 8 am–9 pm at the called party's location"


def _every_day(start: int, end: int, source: str, *, holidays: bool = True) -> StateRule:
    return StateRule((start, end), (start, end), (start, end), holidays, source)


# Stricter than the federal window for marketing. Compiled 1 Dec 2026 from the statutes named and
# the state-by-state compilations of calling-hour laws (dropcowboy.com/state-compliance, Nov 2025;
# clickpointsoftware.com telemarketing hours by state, Jul 2025). Laws change: review yearly with
# counsel. Where a rule is ambiguous we apply the stricter reading (a held offer costs nothing).
STATE_RULES: dict[str, StateRule] = {
    "FL": _every_day(8, 20, "Fla. Stat. § 501.616(6)(a) (Florida Telephone Solicitation Act, SB 1120 of 2021)"),
    "OK": _every_day(8, 20, "Okla. Stat. tit. 15, § 775C.4 (Oklahoma Telephone Solicitation Act of 2022)"),
    "MD": _every_day(8, 20, "Md. Code, Com. Law § 14-4503 (Stop the Spam Calls Act of 2023)"),
    "WA": _every_day(8, 20, "RCW 80.36.390(3); RCW 19.158.110 (Washington, as amended 2022)"),
    "CT": _every_day(9, 20, "Conn. Gen. Stat. § 42-288a (as amended by Public Act 23-98)"),
    "MA": _every_day(8, 20, "940 CMR 19.00; Mass. Gen. Laws ch. 159C (per the compilations above)"),
    "KY": _every_day(10, 21, "KRS 367.46955 (Kentucky telemarketing; per the compilations above)"),
    "MI": _every_day(9, 21, "Mich. Comp. Laws § 445.111b (per the compilations above)"),
    "MN": _every_day(9, 21, "Minn. Stat. § 325E.27 (per the compilations above)"),
    "NV": _every_day(9, 20, "Nev. Rev. Stat. § 228.590 (per the compilations above)"),
    "NM": _every_day(9, 21, "N.M. Stat. § 57-12-22 (per the compilations above)"),
    "TX": StateRule(
        (9, 21),
        (9, 21),
        (12, 21),
        True,
        "Tex. Bus. & Com. Code § 301.051: weekdays and Saturday 9 am–9 pm, Sunday noon–9 pm",
    ),
    "AL": StateRule(
        (8, 20),
        (8, 20),
        None,
        False,
        "Alabama telephone solicitation rules (per the compilations above): 8 am–8 pm, no Sundays or state holidays",
    ),
    "LA": StateRule(
        (8, 20),
        (8, 20),
        None,
        False,
        "Louisiana PSC Do-Not-Call rules, La. R.S. 45:844.11 et seq.: 8 am–8 pm, no Sundays or state holidays",
    ),
    "MS": StateRule((8, 20), (8, 20), None, True, "Miss. Code Ann. § 77-3-725: 8 am–8 pm, none on Sunday"),
    "RI": StateRule(
        (9, 18),
        (10, 17),
        None,
        False,
        "R.I. Gen. Laws §§ 5-61-2(9), 5-61-3.6: weekdays 9–6, Saturday 10–5, no Sundays or holidays",
    ),
    "UT": StateRule(
        (8, 21),
        (8, 21),
        None,
        False,
        "Utah Code § 13-25a-103 (per the compilations above): no Sundays or legal holidays",
    ),
    "SD": StateRule((9, 21), None, None, True, "SDCL 37-30-28: automated dialing systems weekdays 9 am–9 pm only"),
}  # fmt: skip


def _state_code(raw: str) -> str:
    """A US state code from what an address holds ("CA", "ca", "California"), or ""."""
    text = " ".join((raw or "").split())
    if text.upper() in _STATE_CODES:
        return text.upper()
    return US_STATES.get(text.title(), "")


def window_for_state(state: str) -> tuple[int, int]:
    """Every message's window in a state: SMS_QUIET_HOURS, narrowed by SMS_QUIET_HOURS_BY_STATE."""
    return tuple(settings.SMS_QUIET_HOURS_BY_STATE.get(state, settings.SMS_QUIET_HOURS))


def _is_holiday(state: str, day: dt.date) -> bool:
    try:
        return day in holidays.US(subdiv=state, years=day.year)
    except NotImplementedError:  # a subdivision the library does not know
        return day in holidays.US(years=day.year)


def federal_window() -> tuple[int, int]:
    """Marketing's federal window; SMS_MARKETING_WINDOW exists so a test can send at any hour."""
    return tuple(getattr(settings, "SMS_MARKETING_WINDOW", FEDERAL_WINDOW))


def _marketing_window(state: str, day: dt.date) -> tuple[int, int] | None:
    """The window a state allows marketing on `day` (local date), or None for none that day."""
    rule = STATE_RULES.get(state)
    if rule is None:
        return federal_window()
    if not rule.holidays and _is_holiday(state, day):
        return None
    weekday = day.weekday()
    return rule.sunday if weekday == 6 else rule.saturday if weekday == 5 else rule.weekdays


def _window_on(day: dt.date, states: set[str], marketing: bool) -> tuple[int, int] | None:
    """The narrowest window every applicable rule allows on `day` (None: none that day)."""
    start, end = settings.SMS_QUIET_HOURS
    for state in states or {""}:
        s_start, s_end = window_for_state(state)
        start, end = max(start, s_start), min(end, s_end)
        if marketing:
            window = _marketing_window(state, day) if state else federal_window()
            if window is None:
                return None
            start, end = max(start, window[0]), min(end, window[1])
    return (start, end) if start < end else None


def _next_allowed_in_zone(at: dt.datetime, zone: ZoneInfo, states: set[str], marketing: bool) -> dt.datetime:
    local = at.astimezone(zone)
    for offset in range(15):  # two weeks covers any run of Sundays and holidays
        day = local.date() + dt.timedelta(days=offset)
        window = _window_on(day, states, marketing)
        if window is None:
            continue
        start_hour, end_hour = window
        # combine() with the zone gets DST right: 8:00 local is 8:00 local on the changeover days.
        start = dt.datetime.combine(day, dt.time(start_hour), tzinfo=zone)
        end = dt.datetime.combine(day, dt.time(end_hour), tzinfo=zone) if end_hour < 24 else None
        if offset == 0 and start <= local and (end is None or local < end):
            return at
        if local < start:
            return start.astimezone(dt.UTC)
    return at + dt.timedelta(days=15)


@dataclass(frozen=True)
class Recipient:
    """Where a text lands, as far as we know: the number's area code, the patient's address, the
    location of the visit the text is about."""

    zones: tuple[str, ...]
    states: frozenset[str]


def recipient(phone: str, *, address_state: str = "", location_zone: str | None = None) -> Recipient:
    """The stricter of the patient's address/location and the number's area code (issue 17): the
    zones and states of all of them. With none known, the clinic's zone."""
    zones, state = recipient_region(phone)
    all_zones = list(zones)
    states = {state} if state else set()
    home = _state_code(address_state)
    if home:
        states.add(home)
        all_zones += list(STATE_ZONES.get(home, ()))
    if location_zone:
        all_zones.append(location_zone)
    if not all_zones:
        all_zones = [settings.CLINIC_TIME_ZONE]
    return Recipient(zones=tuple(dict.fromkeys(all_zones)), states=frozenset(states))


def next_allowed_time(
    phone: str,
    at: dt.datetime,
    fallback_tz: str | None = None,
    *,
    address_state: str = "",
    marketing: bool = False,
) -> dt.datetime:
    """`at` itself when a message may go out then, otherwise the next moment it may, in every zone
    the recipient may be in. `fallback_tz` is the zone of the visit the text is about (or None);
    marketing also follows the state-rules table."""
    where = recipient(phone, address_state=address_state, location_zone=fallback_tz)
    candidate = at
    for _ in range(8):  # converges in one or two rounds; bounded for odd zone mixes
        moved = candidate
        for name in where.zones:
            moved = max(moved, _next_allowed_in_zone(moved, ZoneInfo(name), set(where.states), marketing))
        if moved == candidate:
            return candidate
        candidate = moved
    return candidate


def next_allowed_for_message(row, now: dt.datetime) -> dt.datetime:
    """For an outbox row: the patient's address and the visit's location join the area code;
    marketing rows follow the state rules. A row with no visit and no address on file also waits
    for the clinic's own zone (the patient most likely lives near the clinic)."""
    patient = row.patient
    address_state = getattr(patient, "state", "") if patient is not None else ""
    location_zone = row.appointment.location.time_zone if row.appointment is not None else None
    if location_zone is None and not _state_code(address_state) and patient is not None:
        location_zone = settings.CLINIC_TIME_ZONE
    return next_allowed_time(
        row.to_phone,
        now,
        location_zone,
        address_state=address_state,
        marketing=row.purpose == "marketing",
    )


def in_quiet_hours(phone: str, at: dt.datetime, fallback_tz: str | None = None) -> bool:
    return next_allowed_time(phone, at, fallback_tz) != at
