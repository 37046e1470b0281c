"""The SLA clock: time counted in business hours only (working days, opening hours, holidays),
in the business's time zone, whatever zone the timestamps come in.

Pure Python (zoneinfo): every step is computed on UTC instants, so a clock across a daylight
saving change counts real hours. Opening hours are one window per working day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

UTC = dt.UTC
MAX_DAYS = 3660  # a target that cannot be met within ten years of working days is refused


@dataclass(frozen=True)
class BusinessHours:
    """Opening hours: ``start``-``end`` local time on ``weekdays`` (Monday = 0), not on
    ``holidays``, in ``tz``."""

    tz: str = "Asia/Shanghai"
    start: dt.time = dt.time(9, 0)
    end: dt.time = dt.time(18, 0)
    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    holidays: frozenset[dt.date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        ZoneInfo(self.tz)  # raises for an unknown zone
        if not self.start < self.end:
            raise ValueError("opening hours must start before they end")
        if not self.weekdays or not self.weekdays <= set(range(7)):
            raise ValueError("weekdays must be a non-empty set of 0 (Monday) to 6")

    def _window(self, day: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
        if day.weekday() not in self.weekdays or day in self.holidays:
            return None
        zone = ZoneInfo(self.tz)
        opens = dt.datetime.combine(day, self.start, tzinfo=zone).astimezone(UTC)
        closes = dt.datetime.combine(day, self.end, tzinfo=zone).astimezone(UTC)
        return opens, closes

    def _local_day(self, moment: dt.datetime) -> dt.date:
        if moment.tzinfo is None:
            raise ValueError("the SLA clock needs timezone-aware times")
        return moment.astimezone(ZoneInfo(self.tz)).date()

    def add(self, start: dt.datetime, hours: float) -> dt.datetime:
        """The instant (UTC) when ``hours`` business hours have passed since ``start``.

        Raises
        ------
        ValueError
            ``start`` is naive, ``hours`` is negative, or no working day comes up.
        """
        if hours < 0:
            raise ValueError("hours must not be negative")
        current = start.astimezone(UTC) if start.tzinfo else None
        if current is None:
            raise ValueError("the SLA clock needs timezone-aware times")
        remaining = dt.timedelta(hours=hours)
        day = self._local_day(start)
        for _ in range(MAX_DAYS):
            window = self._window(day)
            if window is not None:
                opens, closes = window
                current = max(current, opens)
                if current < closes:
                    available = closes - current
                    if remaining <= available:
                        return current + remaining
                    remaining -= available
                    current = closes
            day += dt.timedelta(days=1)
        raise ValueError("no working day within ten years: check the opening hours")

    def between(self, start: dt.datetime, end: dt.datetime) -> float:
        """Business hours from ``start`` to ``end`` (0 when ``end`` is not after ``start``)."""
        a, b = start.astimezone(UTC), end.astimezone(UTC)
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("the SLA clock needs timezone-aware times")
        if b <= a:
            return 0.0
        total = dt.timedelta()
        day, last = self._local_day(start), self._local_day(end)
        while day <= last:
            window = self._window(day)
            if window is not None:
                lo, hi = max(a, window[0]), min(b, window[1])
                if hi > lo:
                    total += hi - lo
            day += dt.timedelta(days=1)
        return total.total_seconds() / 3600


def business_hours_from_settings() -> BusinessHours:
    """The business's opening hours: ``PATRON_SERVICE_HOURS`` (start, end as "HH:MM",
    weekdays, holidays as ISO dates) in ``TIME_ZONE``; Monday to Friday 9:00-18:00 unset."""
    from django.conf import settings

    conf = getattr(settings, "PATRON_SERVICE_HOURS", {}) or {}
    return BusinessHours(
        tz=conf.get("tz", settings.TIME_ZONE),
        start=dt.time.fromisoformat(conf.get("start", "09:00")),
        end=dt.time.fromisoformat(conf.get("end", "18:00")),
        weekdays=frozenset(conf.get("weekdays", (0, 1, 2, 3, 4))),
        holidays=frozenset(dt.date.fromisoformat(d) for d in conf.get("holidays", ())),
    )
