"""Days whose business date an import may not give back unchanged (time-zone transitions).

A peer that reads dates set-based (the Parquet fast path of ``patron analyze``) takes a
typed date as its business date on every other day; on these it lets the importer's own
conversion decide.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from patron.ingest.cleaning.dates import _DAY_US, _offset_of_instant, _offset_of_wall, _zone

__all__ = ["unsafe_days"]


def unsafe_days(days: Iterable[dt.date], tz: str) -> list[dt.date]:
    """Days on which the importer's time-zone round trip (wall time -> UTC -> local date)
    may not give the day back: where any offset it looks up for the day differs.

    ``parse_datetime`` gives every wall time of day ``d`` the offset at its start when that
    equals the offset at its end; ``local_dates`` does the same per UTC day of the instant,
    which lies in day ``d - 1``, ``d`` or ``d + 1``. When all those offsets agree the local
    date is ``d``.
    """
    zone = _zone(tz)
    epoch = dt.date(1970, 1, 1)
    instant: dict[int, int] = {}

    def at(day: int) -> int:
        if day not in instant:
            instant[day] = _offset_of_instant(zone, day * _DAY_US)
        return instant[day]

    unsafe = []
    for day in days:
        d = (day - epoch).days
        offsets = {
            _offset_of_wall(zone, d * _DAY_US),
            _offset_of_wall(zone, (d + 1) * _DAY_US),
            *(at(k) for k in range(d - 1, d + 3)),
        }
        if len(offsets) > 1:
            unsafe.append(day)
    return unsafe
