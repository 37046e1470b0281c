"""Dates and times: format detection, parsing to UTC or calendar dates, local business dates."""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from patron.ingest.cleaning._arrow import ArrayLike, _mask
from patron.ingest.cleaning._dialect import (
    _compile_format,
    _normalise_date_text,
    _parse_wall,
    _Wall,
)
from patron.ingest.cleaning.parsed import Parsed, ParsedDatetime
from patron.ingest.errors import IngestError, IngestErrorCode
from patron.ingest.i18n import django_setting, gettext, gettext_noop

_DAY_US = 86_400_000_000
_EPOCH = datetime(1970, 1, 1)
_EPOCH_UTC = datetime(1970, 1, 1, tzinfo=UTC)


def format_has_time(fmt: str) -> bool:
    """Whether a date format carries a time of day (``%H``, ``%M``…)."""
    return _compile_format(fmt).has_time


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise IngestError(
            gettext("Unknown time zone %(zone)s; use a name such as 'Asia/Shanghai'.")
            % {"zone": repr(tz)},
            code=IngestErrorCode.UNKNOWN_TIMEZONE,
            extra={"tz": tz},
        ) from None


def _offset_of_wall(zone: ZoneInfo, micros: int) -> int:
    """UTC offset (µs) of a wall-clock time in ``zone`` (fold=0, like ``datetime``)."""
    try:
        wall = _EPOCH + timedelta(microseconds=micros)
    except OverflowError:
        wall = datetime.max
    offset = wall.replace(tzinfo=zone).utcoffset() or timedelta(0)
    return offset // timedelta(microseconds=1)


def _offset_of_instant(zone: ZoneInfo, micros: int) -> int:
    """UTC offset (µs) in ``zone`` at a UTC instant."""
    try:
        instant = _EPOCH_UTC + timedelta(microseconds=micros)
    except OverflowError:
        instant = datetime.max.replace(tzinfo=UTC) - timedelta(days=1)
    offset = instant.astimezone(zone).utcoffset() or timedelta(0)
    return offset // timedelta(microseconds=1)


@functools.lru_cache(maxsize=1 << 16)
def _day_offsets(zone: ZoneInfo, day: int, wall: bool) -> tuple[int, int]:
    """The UTC offsets at the start and the end of a day (a file's batches share their days:
    each is looked up once per import, not once per batch)."""
    offset_of = _offset_of_wall if wall else _offset_of_instant
    return offset_of(zone, day * _DAY_US), offset_of(zone, (day + 1) * _DAY_US)


def _distinct_days(days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(days, return_inverse=True)``, by counting when the days span a range not
    much longer than the batch (orders: a few years), which avoids sorting every value."""
    first, last = int(days.min()), int(days.max())
    span = last - first + 1
    if span > 4 * len(days) + 1024:
        return np.unique(days, return_inverse=True)
    offset = days - first
    present = np.zeros(span, bool)
    present[offset] = True
    rank = np.cumsum(present) - 1
    return np.flatnonzero(present) + first, rank[offset]


def _zone_offsets(
    micros: np.ndarray, valid: np.ndarray, zone: ZoneInfo, *, wall: bool
) -> np.ndarray:
    """The UTC offset of each value: one zoneinfo look-up per distinct day, and one per value
    only on days whose offset changes (DST transitions)."""
    offset_of = _offset_of_wall if wall else _offset_of_instant
    offsets = np.zeros(len(micros), np.int64)
    if not valid.any():
        return offsets
    days = np.floor_divide(micros, _DAY_US)
    unique_days, inverse = _distinct_days(days[valid])
    bounds = np.array([_day_offsets(zone, int(d), wall) for d in unique_days], np.int64)
    start, end = bounds[:, 0], bounds[:, 1]
    offsets[valid] = start[inverse]
    changing = unique_days[start != end]
    if len(changing):
        for i in np.nonzero(valid & np.isin(days, changing))[0]:
            offsets[i] = offset_of(zone, int(micros[i]))
    return offsets


def _detection_sample(text: pa.Array, size: int = 20_000) -> pa.Array:
    present = pc.drop_null(text)
    if len(present) > size * 4:
        present = present.take(np.linspace(0, len(present) - 1, size * 4).astype(np.int64))
    present = pc.unique(present)
    if len(present) > size:
        present = present.take(np.linspace(0, len(present) - 1, size).astype(np.int64))
    return present


_UNAMBIGUOUS = [
    f"%Y{sep}%m{sep}%d{time}"
    for sep in ("-", "/", ".")
    for time in ("", " %H:%M:%S", " %H:%M", " %H:%M:%S%z", " %H:%M%z")
] + [
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%dT%H:%M%z",
    "%Y%m%d",
    "%Y%m%d %H:%M:%S",
    "%Y%m%d%H%M%S",
    "%Y年%m月%d日",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日%H:%M:%S",
    "%Y年%m月%d日%H:%M",
]
_AMBIGUOUS = [
    (f"%d{sep}%m{sep}%Y{time}", f"%m{sep}%d{sep}%Y{time}")
    for sep in ("/", "-", ".")
    for time in ("", " %H:%M", " %H:%M:%S", " %I:%M %p", " %I:%M:%S %p")
]


def _count_parsed(text: pa.Array, fmt: str) -> int:
    return int(_parse_wall(text, _compile_format(fmt)).valid.sum())


def detect_date_format(samples: Sequence[str] | pa.Array) -> str | None:
    """The format among the supported ones that parses every sample, or None.

    Raises
    ------
    IngestError
        ``AMBIGUOUS_DATE_FORMAT`` when the samples read both day-first and month-first
        (``01/02/2024``); a day above 12 in one position settles it.
    """
    text = pc.drop_null(_normalise_date_text(samples))
    n = len(text)
    if n == 0:
        return None
    head = text.slice(0, 50)
    for fmt in _UNAMBIGUOUS:
        if _count_parsed(head, fmt) == len(head) and _count_parsed(text, fmt) == n:
            return fmt
    for day_first, month_first in _AMBIGUOUS:
        if _count_parsed(head, day_first) + _count_parsed(head, month_first) == 0:
            continue
        by_day, by_month = _count_parsed(text, day_first), _count_parsed(text, month_first)
        if by_day == n and by_month == n:
            examples = text.slice(0, 3).to_pylist()
            raise IngestError(
                gettext(
                    "Dates such as %(example)s can be read day first or month first. "
                    "Pass --date-format '%(day_first)s' (day first) or "
                    "--date-format '%(month_first)s' (month first)."
                )
                % {
                    "example": repr(examples[0]),
                    "day_first": day_first,
                    "month_first": month_first,
                },
                code=IngestErrorCode.AMBIGUOUS_DATE_FORMAT,
                extra={"candidates": [day_first, month_first], "examples": examples},
            )
        if by_day == n:
            return day_first
        if by_month == n:
            return month_first
    return None


def _choose_format(text: pa.Array) -> str | None:
    """Detect the format on a sample; if none parses all of it, the one that parses most."""
    sample = _detection_sample(text)
    fmt = detect_date_format(sample)
    if fmt is not None or len(sample) == 0:
        return fmt
    counts = [(_count_parsed(sample, f), -i, f) for i, f in enumerate(_UNAMBIGUOUS)]
    best = max(counts)
    return best[2] if best[0] > 0 else None


def _read_wall(values: ArrayLike, fmt: str | None) -> tuple[pa.Array, _Wall, str | None]:
    text = _normalise_date_text(values)
    if fmt is None:
        fmt = _choose_format(text)
    if fmt is None:
        n = len(text)
        empty = np.zeros(n, np.int64)
        return text, _Wall(empty, np.zeros(n, bool), None), None
    return text, _parse_wall(text, _compile_format(fmt)), fmt


def parse_datetime(values: ArrayLike, *, fmt: str | None, tz: str) -> ParsedDatetime:
    """Timestamps -> ``timestamp('us', tz='UTC')``; naive wall times are local to ``tz``.

    ``fmt`` is a strptime-style format (dialect below); None detects it (see
    :func:`detect_date_format`; if no format reads every sampled cell, the one that reads most
    is used and the rest are invalid). Explicit offsets (``+0100``, ``Z``) win over ``tz``.

    The dialect: ``%Y %y %m %d %H %I %M %S %f %p %z %b %B %%`` and literal text, matched after
    whitespace runs are folded to one space. Numbers take one or two digits (``2016/5/23 2:02``)
    unless they touch another number (``%Y%m%d``); ``%S`` may carry a fraction; ``%z`` takes
    ``Z``, ``+01``, ``+0100`` or ``+01:00``, with or without a space before it; ``%p`` takes
    AM/PM and 上午/下午. Without ``%z`` the time of day may be missing (read as midnight: Excel
    gives a midnight datetime cell as a date).

    Raises
    ------
    IngestError
        ``AMBIGUOUS_DATE_FORMAT``, ``INVALID_DATE_FORMAT`` or ``UNKNOWN_TIMEZONE``.
    """
    zone = _zone(tz)
    text, wall, used = _read_wall(values, fmt)
    valid = wall.valid
    if wall.offset is not None:
        offsets = wall.offset
    else:
        offsets = _zone_offsets(wall.micros, valid, zone, wall=True)
    utc = pa.array(wall.micros - offsets, pa.timestamp("us", tz="UTC"), mask=~valid)
    has_time = (
        used is not None
        and _compile_format(used).has_time
        and bool(np.any(valid & (wall.micros % _DAY_US != 0)))
    )
    invalid = _mask(pc.is_valid(text)) & ~valid
    return ParsedDatetime(utc, invalid, used, has_time)


def parse_date(values: ArrayLike, *, fmt: str | None = None) -> Parsed:
    """Calendar dates (birthdays, registration days) -> ``date32``, the date as written (a time
    of day or an offset in the cell is ignored)."""
    text, wall, _ = _read_wall(values, fmt)
    days = np.floor_divide(wall.micros, _DAY_US).astype(np.int32)
    result = pa.array(days, pa.date32(), mask=~wall.valid)
    return Parsed(result, _mask(pc.is_valid(text)) & ~wall.valid)


def local_dates(timestamps: pa.Array | pa.ChunkedArray, tz: str) -> pa.Array:
    """The business date (``date32``) of each timestamp in ``tz`` (naive ones count as UTC)."""
    zone = _zone(tz)
    if isinstance(timestamps, pa.ChunkedArray):
        timestamps = timestamps.combine_chunks()
    micros_arrow = pc.cast(pc.cast(timestamps, pa.timestamp("us", tz="UTC")), pa.int64())
    valid = _mask(pc.is_valid(micros_arrow))
    micros = np.asarray(pc.fill_null(micros_arrow, 0).to_numpy(zero_copy_only=False), np.int64)
    local = micros + _zone_offsets(micros, valid, zone, wall=False)
    days = np.floor_divide(local, _DAY_US).astype(np.int32)
    return pa.array(days, pa.date32(), mask=~valid)


# The plausible window for order times: a date outside it is a typo or a placeholder
# (9999-12-31, 0001-01-01) that would break every analysis, so the row is refused.
EARLIEST_ORDER_DATE = "1970-01-01"
FUTURE_ORDER_DAYS = 1
DATE_OUTSIDE_WINDOW = gettext_noop(
    "a date outside the plausible window for orders (%(earliest)s to %(latest)s): check the "
    "year; PATRON_ORDER_DATES_FROM and PATRON_ORDER_DATES_FUTURE_DAYS set the window"
)


def order_date_window(tz: str, *, now: datetime | None = None) -> tuple[datetime, datetime]:
    """The first and the last plausible order instant (UTC): from PATRON_ORDER_DATES_FROM
    (midnight in ``tz``; default 1970-01-01) to PATRON_ORDER_DATES_FUTURE_DAYS after now
    (default 1), from Django's settings when they are loaded."""
    earliest_text = django_setting(
        "PATRON_ORDER_DATES_FROM", os.environ.get("PATRON_ORDER_DATES_FROM", EARLIEST_ORDER_DATE)
    )
    days = int(
        str(
            django_setting(
                "PATRON_ORDER_DATES_FUTURE_DAYS",
                os.environ.get("PATRON_ORDER_DATES_FUTURE_DAYS", FUTURE_ORDER_DAYS),
            )
        )
    )
    zone = _zone(tz)
    first = datetime.fromisoformat(str(earliest_text))
    if first.tzinfo is None:
        first = first.replace(tzinfo=zone)
    last = (now or datetime.now(UTC)) + timedelta(days=days)
    return first.astimezone(UTC), last.astimezone(UTC)


def outside_window(utc: pa.Array, *, tz: str, now: datetime | None = None) -> np.ndarray:
    """Which timestamps (``timestamp('us', tz='UTC')``) fall outside :func:`order_date_window`
    (nulls are not outside)."""
    first, last = order_date_window(tz, now=now)
    micros = pc.cast(pc.cast(utc, pa.timestamp("us", tz="UTC")), pa.int64())
    low = (first - _EPOCH_UTC) // timedelta(microseconds=1)
    high = (last - _EPOCH_UTC) // timedelta(microseconds=1)
    out = pc.or_(pc.less(micros, low), pc.greater(micros, high))
    return np.asarray(pc.fill_null(out, False).to_numpy(zero_copy_only=False), dtype=bool)
