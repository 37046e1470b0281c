"""Date columns as a whole: which format a column is written in, and its odd cells.

A column's format is detected once per file, from its first cells, and from every distinct
cell when those read both day first and month first; a cell in another format that reads
only one way is read in its own; a date the calendar does not have is named as such.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from patron.ingest import cleaning
from patron.ingest.errors import IngestError, IngestErrorCode

__all__ = [
    "DATE_SAMPLE",
    "detect_column_date_format",
    "no_such_day",
    "parse_dates",
    "resolve_date_format",
    "second_formats",
]


_YEAR_MONTH_DAY = re.compile(
    r"\s*(\d{4})(?:[-/.年](\d{1,2})[-/.月](\d{1,2})日?|(\d{2})(\d{2}))(?:[ T]\S.*)?\s*"
)


def no_such_day(raw: pa.Array | None, invalid: np.ndarray) -> np.ndarray:
    """Among the unreadable date cells, those written year-month-day with a month of 1-12
    and a day of 1-31 that the calendar does not have (2024-02-30, 20230431): the reader
    is told to check the day, not the format."""
    out = np.zeros(len(invalid), dtype=bool)
    if raw is None:
        return out
    for i in np.flatnonzero(invalid):
        text = raw[int(i)].as_py()
        match = _YEAR_MONTH_DAY.fullmatch(text) if isinstance(text, str) else None
        if match is None:
            continue
        year, month, day = (int(g) for g in match.groups() if g is not None)
        if 1 <= month <= 12 and 1 <= day <= 31:
            try:
                dt.date(year, month, day)
            except ValueError:
                out[i] = True
    return out


def resolve_date_format(samples: Sequence[str], prefer: str | None = None) -> str | None:
    """The format of a sample; if a few bad cells spoil it, the format most cells share.

    Dates that read both day first and month first take ``prefer`` when it is given."""
    try:
        fmt = cleaning.detect_date_format(samples)
    except IngestError as error:
        if error.code is not IngestErrorCode.AMBIGUOUS_DATE_FORMAT or prefer is None:
            raise
        day_first, month_first = error.extra["candidates"]
        return str(month_first if prefer == "month_first" else day_first)
    if fmt is not None:
        return fmt
    votes: dict[str, int] = {}
    for value in list(dict.fromkeys(samples))[:300]:
        try:
            one = cleaning.detect_date_format([value])
        except IngestError:
            continue
        if one is not None:
            votes[one] = votes.get(one, 0) + 1
    if not votes:
        return None
    best = max(votes, key=lambda k: votes[k])
    return best if votes[best] * 2 >= sum(votes.values()) else None


#: Cells whose date format is tried first; the whole column only when they are ambiguous.
DATE_SAMPLE = 2000


def detect_column_date_format(values: pa.Array, prefer: str | None = None) -> str | None:
    """The date format of a column, told from its first cells (:data:`DATE_SAMPLE`).

    When those read both day first and month first (``11/1/2000`` and nothing else), every
    distinct cell of the column is looked at before asking: ``11/30/2000`` further down
    settles it.

    Raises
    ------
    IngestError
        ``AMBIGUOUS_DATE_FORMAT`` when the whole column reads both ways too.
    """
    cleaned = cleaning.clean_text(values).drop_null()
    sample = cleaned.slice(0, DATE_SAMPLE).to_pylist()
    if not sample:
        return None
    try:
        return resolve_date_format(sample, prefer)
    except IngestError as error:
        if error.code is not IngestErrorCode.AMBIGUOUS_DATE_FORMAT or len(cleaned) <= DATE_SAMPLE:
            raise
        candidates = error.extra["candidates"]
        try:
            fmt = cleaning.detect_date_format(pc.unique(cleaned))
        except IngestError:
            raise error from None
        if fmt not in candidates:
            raise error from None
        return fmt


def second_formats(
    parsed: cleaning.Parsed,
    values: pa.Array,
    *,
    parse: Callable[[pa.Array, str], cleaning.Parsed],
    most: int = 20,
) -> cleaning.Parsed:
    """Cells that miss the file's date format but have an unambiguous one of their own (a row
    Excel re-saved as ``2016/5/23 22:02`` in an ISO file, a birthday typed ``1985/3/4`` among
    ``1990-01-02``) are read in their own format, with ``parse(values, format)``."""
    bad = pa.array(parsed.invalid)
    text = cleaning.clean_text(values).filter(bad)
    formats: dict[str, str] = {}
    for value in pc.unique(text).to_pylist()[:most]:
        try:
            fmt = cleaning.detect_date_format([value]) if value is not None else None
        except IngestError:
            fmt = None  # ambiguous on its own: stays an error
        if fmt is not None:
            formats[value] = fmt
    if not formats:
        return parsed
    result = parsed.values
    invalid = parsed.invalid.copy()
    raw = cleaning.clean_text(values)
    for fmt in set(formats.values()):
        cells = [v for v, f in formats.items() if f == fmt]
        where = np.asarray(pc.fill_null(pc.is_in(raw, pa.array(cells, pa.string())), False))
        where &= parsed.invalid
        again = parse(values, fmt)
        take = where & ~again.invalid
        result = pc.if_else(pa.array(take), again.values, result)
        invalid[take] = False
    return cleaning.Parsed(values=result, invalid=invalid)


def parse_dates(values: pa.Array) -> cleaning.Parsed:
    """Calendar dates (birthdays, registration days) in the column's most common format, and
    any cell in an unambiguous format of its own."""
    parsed = cleaning.parse_date(values, fmt=None)
    if not parsed.invalid.any():
        return parsed
    return second_formats(parsed, values, parse=lambda v, fmt: cleaning.parse_date(v, fmt=fmt))
