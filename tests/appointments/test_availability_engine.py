"""The pure availability engine: no database here."""

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from appointments.availability import (
    AvailabilitySearch,
    ProviderInput,
    RoomInput,
    ServiceInput,
    WeeklyWindow,
    bookable_slots,
    local_instant,
)

LA = ZoneInfo("America/Los_Angeles")
MONDAY = dt.date(2026, 11, 30)


def at(day, hh, mm=0, tz=LA):
    return local_instant(day, dt.time(hh, mm), tz)


def every_day(starts=dt.time(9), ends=dt.time(17)):
    return tuple(WeeklyWindow(d, starts, ends) for d in range(7))


def local_starts(slots, tz=LA):
    return [s.starts_at.astimezone(tz).strftime("%H:%M") for s in slots]


def slots_for(day, *, service=None, providers=None, tz=LA, **kw):
    return bookable_slots(
        service=service or ServiceInput(duration_minutes=30),
        providers=providers or [ProviderInput(1, every_day())],
        tz=tz,
        start_date=day,
        end_date=kw.pop("end_date", day),
        **kw,
    )


def test_a_plain_day_offers_every_step_that_fits_in_working_hours():
    slots = slots_for(MONDAY)

    assert local_starts(slots)[0] == "09:00"
    assert local_starts(slots)[-1] == "16:30"
    assert len(slots) == 31  # 09:00 … 16:30 every 15 minutes
    assert all(s.ends_at - s.starts_at == dt.timedelta(minutes=30) for s in slots)
    assert slots[0].starts_at.tzinfo == dt.UTC
    assert slots[0].starts_at == dt.datetime(2026, 11, 30, 17, 0, tzinfo=dt.UTC)


def test_buffers_are_held_on_both_sides_and_back_to_back_is_allowed():
    service = ServiceInput(duration_minutes=30, buffer_before_minutes=15, buffer_after_minutes=15)
    # Someone else's held range (their visit plus buffers): 11:00–12:00.
    provider = ProviderInput(1, every_day(), busy=((at(MONDAY, 11), at(MONDAY, 12)),))

    starts = local_starts(slots_for(MONDAY, service=service, providers=[provider]))

    assert starts[0] == "09:15"  # the before-buffer needs 09:00–09:15 inside working hours
    assert "10:15" in starts  # held 10:00–11:00 ends exactly where the busy range begins
    assert "10:30" not in starts and "11:00" not in starts and "11:45" not in starts
    assert "12:15" in starts  # held 12:00–13:00 begins exactly where the busy range ends
    assert starts[-1] == "16:15"  # the after-buffer must end by 17:00


def test_time_off_removes_the_slots_it_touches():
    provider = ProviderInput(1, every_day(), time_off=((at(MONDAY, 12), at(MONDAY, 14)),))

    starts = local_starts(slots_for(MONDAY, providers=[provider]))

    assert "11:30" in starts and "14:00" in starts
    assert not [s for s in starts if "11:45" <= s < "14:00"]


def test_closure_days_have_no_slots():
    slots = slots_for(MONDAY, end_date=MONDAY + dt.timedelta(days=2), closures={MONDAY + dt.timedelta(days=1)})

    days = {s.starts_at.astimezone(LA).date() for s in slots}
    assert days == {MONDAY, MONDAY + dt.timedelta(days=2)}


def test_opening_hours_narrow_the_working_hours_and_a_day_without_them_is_closed():
    opening = {0: [(dt.time(10), dt.time(16))]}  # Mondays only

    slots = slots_for(MONDAY, end_date=MONDAY + dt.timedelta(days=1), opening_hours=opening)

    assert {s.starts_at.astimezone(LA).date() for s in slots} == {MONDAY}
    assert local_starts(slots)[0] == "10:00" and local_starts(slots)[-1] == "15:30"


def test_nothing_before_not_before():
    slots = slots_for(MONDAY, not_before=at(MONDAY, 13, 5))

    assert local_starts(slots)[0] == "13:15"


def test_spring_forward_day_skips_the_missing_hour_and_keeps_local_hours():
    sunday = dt.date(2026, 3, 8)  # 02:00 PST → 03:00 PDT in Los Angeles
    night = ProviderInput(1, (WeeklyWindow(6, dt.time(0), dt.time(6)),))
    day = ProviderInput(2, (WeeklyWindow(6, dt.time(9), dt.time(17)),))
    service = ServiceInput(duration_minutes=60)

    night_slots = slots_for(sunday, service=service, providers=[night], step_minutes=60)
    day_slots = slots_for(sunday, service=service, providers=[day], step_minutes=60)

    assert local_starts(night_slots) == ["00:00", "01:00", "03:00", "04:00", "05:00"]  # 5 real hours
    assert day_slots[0].starts_at == dt.datetime(2026, 3, 8, 16, 0, tzinfo=dt.UTC)  # 09:00 PDT
    assert local_starts(day_slots) == [f"{h:02d}:00" for h in range(9, 17)]


def test_fall_back_day_offers_each_real_instant_once():
    sunday = dt.date(2026, 11, 1)  # 02:00 PDT → 01:00 PST
    night = ProviderInput(1, (WeeklyWindow(6, dt.time(0), dt.time(6)),))
    service = ServiceInput(duration_minutes=60)

    slots = slots_for(sunday, service=service, providers=[night], step_minutes=60)

    assert local_starts(slots) == ["00:00", "01:00", "01:00", "02:00", "03:00", "04:00", "05:00"]  # 7 real hours
    assert len({s.starts_at for s in slots}) == 7
    day = slots_for(sunday, service=service, providers=[ProviderInput(2, every_day())], step_minutes=60)
    assert day[0].starts_at == dt.datetime(2026, 11, 1, 17, 0, tzinfo=dt.UTC)  # 09:00 PST


def test_a_location_far_from_utc_uses_its_own_wall_clock():
    tokyo = ZoneInfo("Asia/Tokyo")
    slots = slots_for(MONDAY, tz=tokyo)

    assert slots[0].starts_at == dt.datetime(2026, 11, 30, 0, 0, tzinfo=dt.UTC)  # 09:00 JST
    assert local_starts(slots, tokyo)[-1] == "16:30"


def test_any_provider_offers_each_time_once_with_a_free_provider():
    busy_alice = ProviderInput(1, every_day(), busy=((at(MONDAY, 9), at(MONDAY, 12)),))
    bob = ProviderInput(2, every_day())

    anyone = slots_for(MONDAY, providers=[busy_alice, bob])
    each = slots_for(MONDAY, providers=[busy_alice, bob], any_provider=False)

    assert len({s.starts_at for s in anyone}) == len(anyone) == 31
    assert next(s for s in anyone if s.starts_at == at(MONDAY, 9)).provider_id == 2
    assert next(s for s in anyone if s.starts_at == at(MONDAY, 13)).provider_id == 1  # first in order when free
    assert len(each) == 31 + 31 - 12  # Alice loses 09:00–11:45 (12 starts)


def test_a_service_that_needs_a_room_gets_a_free_one_or_no_slot():
    service = ServiceInput(duration_minutes=30, needs_room=True)
    busy_room = RoomInput(10, busy=((at(MONDAY, 9), at(MONDAY, 17)),))
    free_room = RoomInput(11, busy=((at(MONDAY, 9), at(MONDAY, 10)),))

    only_busy = slots_for(MONDAY, service=service, rooms=[busy_room])
    two_rooms = slots_for(MONDAY, service=service, rooms=[busy_room, free_room])
    no_rooms = slots_for(MONDAY, service=service, rooms=[])

    assert only_busy == [] and no_rooms == []
    assert local_starts(two_rooms)[0] == "10:00"
    assert {s.room_id for s in two_rooms} == {11}


def test_a_window_past_midnight_offers_its_later_times_on_the_next_date():
    late = ProviderInput(1, tuple(WeeklyWindow(d, dt.time(22), dt.time(2)) for d in range(7)))
    service = ServiceInput(duration_minutes=60)
    tuesday = MONDAY + dt.timedelta(days=1)

    monday = slots_for(MONDAY, service=service, providers=[late], step_minutes=60)
    tuesday_slots = slots_for(tuesday, service=service, providers=[late], step_minutes=60)

    assert local_starts(monday) == ["00:00", "01:00", "22:00", "23:00"]  # 00:00, 01:00: Sunday night
    assert local_starts(tuesday_slots) == ["00:00", "01:00", "22:00", "23:00"]
    assert tuesday_slots[0].starts_at == at(tuesday, 0)
    closed_tuesday = slots_for(tuesday, service=service, providers=[late], step_minutes=60, closures=[tuesday])
    assert closed_tuesday == []


def test_dates_with_slots_finds_the_open_days_of_a_week():
    busy_monday = ProviderInput(1, every_day(), busy=((at(MONDAY, 8), at(MONDAY, 18)),))
    search = AvailabilitySearch(
        service=ServiceInput(duration_minutes=30),
        providers=[busy_monday],
        tz=LA,
        closures=[MONDAY + dt.timedelta(days=2)],
    )

    dates = search.dates_with_slots(MONDAY, MONDAY + dt.timedelta(days=3))

    assert dates == {MONDAY + dt.timedelta(days=1), MONDAY + dt.timedelta(days=3)}


# --- properties -----------------------------------------------------------------------------

minutes = st.integers(min_value=0, max_value=24 * 60 * 3)
busy_ranges = st.lists(
    st.tuples(minutes, st.integers(min_value=5, max_value=240)).map(
        lambda t: (at(MONDAY, 0) + dt.timedelta(minutes=t[0]), at(MONDAY, 0) + dt.timedelta(minutes=t[0] + t[1]))
    ),
    max_size=12,
)


def overlaps(a, b):
    return a[0] < b[1] and b[0] < a[1]


@settings(max_examples=150, deadline=None)
@given(
    busy=busy_ranges,
    time_off=busy_ranges,
    room_busy=busy_ranges,
    duration=st.integers(min_value=5, max_value=120),
    before=st.integers(min_value=0, max_value=30),
    after=st.integers(min_value=0, max_value=30),
    step=st.sampled_from([5, 10, 15, 20, 30, 60]),
    needs_room=st.booleans(),
)
def test_no_slot_ever_overlaps_busy_time_and_every_free_grid_time_is_offered(
    busy, time_off, room_busy, duration, before, after, step, needs_room
):
    service = ServiceInput(duration, before, after, needs_room)
    provider = ProviderInput(1, every_day(), time_off=tuple(time_off), busy=tuple(busy))
    room = RoomInput(7, busy=tuple(room_busy))
    end_date = MONDAY + dt.timedelta(days=2)

    slots = bookable_slots(
        service=service,
        providers=[provider],
        rooms=[room],
        tz=LA,
        start_date=MONDAY,
        end_date=end_date,
        step_minutes=step,
    )

    held_of = lambda start: (  # noqa: E731
        start - dt.timedelta(minutes=before),
        start + dt.timedelta(minutes=duration + after),
    )
    for slot in slots:
        held = held_of(slot.starts_at)
        assert not any(overlaps(held, b) for b in [*busy, *time_off])
        if needs_room:
            assert slot.room_id == 7 and not any(overlaps(held, b) for b in room_busy)
        local_day = slot.starts_at.astimezone(LA).date()
        assert at(local_day, 9) <= held[0] and held[1] <= at(local_day, 17)

    # Completeness: a brute-force scan of the same grid finds exactly the same starts.
    expected = []
    day = MONDAY
    while day <= end_date:
        start = at(day, 9)
        while start - dt.timedelta(minutes=before) < at(day, 9):
            start += dt.timedelta(minutes=step)
        while held_of(start)[1] <= at(day, 17):
            blockers = [*busy, *time_off] + (room_busy if needs_room else [])
            if not any(overlaps(held_of(start), b) for b in blockers):
                expected.append(start)
            start += dt.timedelta(minutes=step)
        day += dt.timedelta(days=1)
    assert [s.starts_at for s in slots] == expected


@settings(max_examples=60, deadline=None)
@given(busy_a=busy_ranges, busy_b=busy_ranges)
def test_any_provider_is_the_union_of_each_providers_slots(busy_a, busy_b):
    providers = [ProviderInput(1, every_day(), busy=tuple(busy_a)), ProviderInput(2, every_day(), busy=tuple(busy_b))]
    kwargs = {
        "service": ServiceInput(45, 0, 15),
        "tz": LA,
        "start_date": MONDAY,
        "end_date": MONDAY + dt.timedelta(days=2),
    }

    anyone = bookable_slots(providers=providers, **kwargs)
    each = bookable_slots(providers=providers, any_provider=False, **kwargs)

    assert [s.starts_at for s in anyone] == sorted({s.starts_at for s in each})
    pairs = {(s.starts_at, s.provider_id) for s in each}
    assert all((s.starts_at, s.provider_id) in pairs for s in anyone)


ZONES = ["America/Los_Angeles", "America/New_York", "Europe/London", "Australia/Sydney", "Asia/Kolkata"]
# Days around every 2026 DST change of those zones, plus ordinary days.
DST_DAYS = [
    dt.date(2026, 3, 8),
    dt.date(2026, 11, 1),
    dt.date(2026, 3, 29),
    dt.date(2026, 10, 25),
    dt.date(2026, 4, 5),
    dt.date(2026, 10, 4),
    dt.date(2026, 6, 15),
]


@settings(max_examples=120, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    day=st.sampled_from(DST_DAYS),
    starts_hour=st.integers(min_value=0, max_value=12),
    length_hours=st.integers(min_value=1, max_value=11),
    duration=st.sampled_from([15, 30, 45, 60, 90]),
    step=st.sampled_from([10, 15, 30, 60]),
)
def test_slots_keep_to_local_working_hours_on_any_day_in_any_zone(zone, day, starts_hour, length_hours, duration, step):
    tz = ZoneInfo(zone)
    starts, ends = dt.time(starts_hour), dt.time(starts_hour + length_hours)
    provider = ProviderInput(1, tuple(WeeklyWindow(d, starts, ends) for d in range(7)))

    slots = bookable_slots(
        service=ServiceInput(duration),
        providers=[provider],
        tz=tz,
        start_date=day - dt.timedelta(days=1),
        end_date=day + dt.timedelta(days=1),
        step_minutes=step,
    )

    starts_at = [s.starts_at for s in slots]
    assert starts_at == sorted(set(starts_at))  # sorted, each instant once
    for slot in slots:
        local_start, local_end = slot.starts_at.astimezone(tz), slot.ends_at.astimezone(tz)
        assert slot.ends_at - slot.starts_at == dt.timedelta(minutes=duration)  # real elapsed minutes
        assert local_instant(local_start.date(), starts, tz) <= slot.starts_at
        assert slot.ends_at <= local_instant(local_start.date(), ends, tz)
        assert local_end.date() == local_start.date()
        # Every offered wall time exists: converting it back gives the same instant.
        assert local_start.replace(tzinfo=None).replace(tzinfo=tz).astimezone(dt.UTC) == slot.starts_at or (
            local_start.fold == 1
        )


windows = st.lists(
    st.tuples(st.integers(min_value=0, max_value=6), st.integers(0, 23), st.sampled_from([0, 30]), st.integers(1, 14)),
    min_size=1,
    max_size=4,
).map(
    lambda items: tuple(
        WeeklyWindow(weekday, dt.time(hour, minute), dt.time((hour + length) % 24, minute))
        for weekday, hour, minute, length in items
    )
)


@settings(max_examples=120, deadline=None)
@given(
    hours_a=windows,
    hours_b=windows,
    busy=busy_ranges,
    closed=st.sets(st.integers(min_value=0, max_value=3), max_size=2),
    duration=st.sampled_from([15, 30, 60, 90]),
    not_before_minutes=st.integers(min_value=0, max_value=24 * 60 * 2),
)
def test_dates_with_slots_are_the_dates_that_slots_start_on(
    hours_a, hours_b, busy, closed, duration, not_before_minutes
):
    # Windows may run past midnight (22:00–04:00) and days may be closed: the date strip's answer
    # and the full list must still agree, date by date.
    search = AvailabilitySearch(
        service=ServiceInput(duration_minutes=duration, buffer_after_minutes=15),
        providers=[ProviderInput(1, hours_a, busy=tuple(busy)), ProviderInput(2, hours_b)],
        tz=LA,
        closures=[MONDAY + dt.timedelta(days=d) for d in closed],
        not_before=at(MONDAY, 0) + dt.timedelta(minutes=not_before_minutes),
    )
    last = MONDAY + dt.timedelta(days=3)

    slots = search.slots(MONDAY, last)

    assert search.dates_with_slots(MONDAY, last) == {s.starts_at.astimezone(LA).date() for s in slots}
    for day in (MONDAY + dt.timedelta(days=d) for d in range(4)):
        own = search.slots(day, day)
        assert own == [s for s in slots if s.starts_at.astimezone(LA).date() == day]
        assert day not in {MONDAY + dt.timedelta(days=d) for d in closed} or own == []
