"""The SLA clock counts business hours only: opening hours, weekends, holidays, time zones
and a daylight-saving change."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patron.service.sla import BusinessHours

SH = ZoneInfo("Asia/Shanghai")
UTC = dt.UTC
HOURS = BusinessHours(tz="Asia/Shanghai")  # Monday-Friday 9:00-18:00


def at(*args: int, tz: dt.tzinfo = SH) -> dt.datetime:
    return dt.datetime(*args, tzinfo=tz)


def test_within_one_day() -> None:
    # Wednesday 10:00 + 4 h = 14:00
    assert HOURS.add(at(2024, 6, 12, 10), 4) == at(2024, 6, 12, 14)


def test_rolls_over_the_evening_to_the_next_morning() -> None:
    # Wednesday 16:00 + 4 h: 2 h today, 2 h from Thursday 9:00
    assert HOURS.add(at(2024, 6, 12, 16), 4) == at(2024, 6, 13, 11)


def test_friday_evening_continues_on_monday() -> None:
    # Friday 17:00 + 3 h: 1 h on Friday, 2 h on Monday
    assert HOURS.add(at(2024, 6, 14, 17), 3) == at(2024, 6, 17, 11)


def test_opened_on_a_weekend_or_at_night_starts_at_the_next_opening() -> None:
    assert HOURS.add(at(2024, 6, 15, 13), 1) == at(2024, 6, 17, 10)  # Saturday
    assert HOURS.add(at(2024, 6, 12, 22), 1) == at(2024, 6, 13, 10)  # Wednesday night
    assert HOURS.add(at(2024, 6, 13, 7), 0) == at(2024, 6, 13, 9)  # before opening


def test_holidays_are_skipped() -> None:
    hours = BusinessHours(tz="Asia/Shanghai", holidays=frozenset({dt.date(2024, 6, 10)}))
    # Friday 17:00 + 2 h: 1 h Friday, Monday is the Dragon Boat holiday, 1 h Tuesday
    assert hours.add(at(2024, 6, 7, 17), 2) == at(2024, 6, 11, 10)


def test_times_in_another_zone_are_counted_in_the_business_zone() -> None:
    # 02:00 UTC on Wednesday is 10:00 in Shanghai: + 8 h ends 18:00 Shanghai = 10:00 UTC
    start = at(2024, 6, 12, 2, tz=UTC)
    assert HOURS.add(start, 8) == at(2024, 6, 12, 10, tz=UTC)
    # a New York evening (Tuesday 21:00 EDT) is Wednesday 09:00 in Shanghai
    ny = at(2024, 6, 11, 21, tz=ZoneInfo("America/New_York"))
    assert HOURS.add(ny, 1) == at(2024, 6, 12, 10)
    assert HOURS.between(ny, at(2024, 6, 12, 12)) == pytest.approx(3)


def test_a_business_in_a_zone_with_daylight_saving() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    hours = BusinessHours(tz="Europe/Berlin")
    # Friday 29 March 2024 17:00 + 2 h: Monday 1 April (after the clocks went forward) 10:00
    end = hours.add(at(2024, 3, 29, 17, tz=berlin), 2)
    assert end == at(2024, 4, 1, 10, tz=berlin)
    assert end.utcoffset() is None or end.astimezone(berlin).utcoffset() == dt.timedelta(hours=2)


def test_between_counts_only_open_hours() -> None:
    # Friday 16:00 to Monday 10:00: 2 h + 1 h
    assert HOURS.between(at(2024, 6, 14, 16), at(2024, 6, 17, 10)) == pytest.approx(3)
    assert HOURS.between(at(2024, 6, 17, 10), at(2024, 6, 14, 16)) == 0


def test_naive_times_and_bad_hours_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        HOURS.add(dt.datetime(2024, 6, 12, 10), 1)
    with pytest.raises(ValueError, match="start before"):
        BusinessHours(start=dt.time(18), end=dt.time(9))


@settings(max_examples=60, deadline=None)
@given(
    start=st.datetimes(
        min_value=dt.datetime(2024, 1, 1),
        max_value=dt.datetime(2026, 12, 31),
        timezones=st.sampled_from([SH, UTC, ZoneInfo("America/New_York")]),
    ),
    hours=st.floats(min_value=0, max_value=200, allow_nan=False),
)
def test_add_and_between_agree(start: dt.datetime, hours: float) -> None:
    end = HOURS.add(start, hours)
    assert end >= start
    assert HOURS.between(start, end) == pytest.approx(hours, abs=1e-6)
    local = end.astimezone(SH)
    assert local.weekday() < 5 and dt.time(9) <= local.time() <= dt.time(18)
