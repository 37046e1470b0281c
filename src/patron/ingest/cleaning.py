"""Whole-column cleaning and parsing of imported cells (pure: no Django, no I/O).

Every parser takes a column of text (a ``pa.Array``, ``pa.ChunkedArray`` or a sequence of
``str | None``) and returns a :class:`Parsed` of the same length: typed ``values`` (null where
the input was null, a placeholder such as ``-``, or invalid) and an ``invalid`` mask (a non-null
cell that could not be parsed; null cells are never invalid, the caller decides whether a field
is required). The work is done by Arrow kernels and NumPy, never a Python object per cell.

Decisions worth knowing:

- Amounts round half away from zero to cents (``12.345`` -> ``12.35``, ``-12.345`` ->
  ``-12.35``, like ``decimal.ROUND_HALF_UP``); scientific notation (``1e5``) is invalid, because
  in an export it means Excel damage, not a price. Thousands separators must sit every three
  digits (``1,234.50``); ``12,34`` (a decimal comma) is invalid rather than read as 1234.
- Dates use a small strptime dialect (see :func:`parse_datetime`) and are validated strictly:
  ``2024-02-30`` is invalid (Arrow's own ``strptime`` would roll it over to 1 March).
- Naive local times become UTC with :mod:`zoneinfo` (fold=0 for repeated or skipped wall times,
  as ``datetime`` does), computed once per distinct day and per value only on transition days.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TypeAlias
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from patron.ingest.errors import IngestError, IngestErrorCode

ArrayLike: TypeAlias = pa.Array | pa.ChunkedArray | Sequence[str | None]

_NULL_TEXT = pa.scalar(None, pa.string())


@dataclass(frozen=True)
class Parsed:
    """A parsed column: typed ``values`` and the ``invalid`` mask (non-null but unparseable)."""

    values: pa.Array
    invalid: np.ndarray


@dataclass(frozen=True)
class ParsedDatetime(Parsed):
    """Parsed timestamps, with the format used and whether the cells carried a time of day.

    ``has_time`` is False for a date-only format and also when every valid cell is at local
    midnight (a date column exported as ``2024-01-31 00:00:00``): item lines are then grouped
    into purchases per day.
    """

    fmt: str | None
    has_time: bool


@dataclass(frozen=True)
class ParsedPhone(Parsed):
    """Normalised phone numbers; ``masked`` flags cells kept as written (``138****5678``)."""

    masked: np.ndarray


# --------------------------------------------------------------------------- text


def _as_text(values: ArrayLike) -> pa.Array:
    """One contiguous ``pa.string()`` array from whatever column the caller has."""
    if isinstance(values, pa.ChunkedArray):
        values = (
            values.combine_chunks()
            if values.num_chunks
            else pa.array([], values.type if values.type != pa.null() else pa.string())
        )
    if not isinstance(values, pa.Array):
        return pa.array(list(values), pa.string())
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    if values.type != pa.string():
        values = pc.cast(values, pa.string())
    return values


def _mask(condition: pa.Array) -> np.ndarray:
    """A boolean Arrow array as a NumPy mask, null counted as False."""
    return np.asarray(pc.fill_null(condition, False).to_numpy(zero_copy_only=False), dtype=bool)


def _null_where(condition: pa.Array, values: pa.Array) -> pa.Array:
    if not pc.any(condition).as_py():
        return values
    return pc.if_else(condition, pa.scalar(None, values.type), values)


def _nfkc(values: pa.Array) -> pa.Array:
    """Fold full width to half width (``１２３．４５`` -> ``123.45``), skipped for pure ASCII."""
    if pc.all(pc.string_is_ascii(values)).as_py() is False:
        return pc.utf8_normalize(values, form="NFKC")
    return values


_WRAPPER_START = ("=", '"', "`", "'")
# ="123" (Taobao), "…" (surrounding quotes, also "\t6917…" from Douyin), `SUCCESS (WeChat Pay
# merchant bills) and a leading apostrophe (Excel's text prefix).
_UNWRAP_QUOTED = r'(?s)^=?"(.*)"$'
_UNWRAP_PREFIX = r"(?s)^[`'](.*)$"
_PLACEHOLDERS = pa.array(
    ["", "-", "--", "—", "——", "/", "null", "NULL", "Null", "N/A", "n/a", "#N/A"], pa.string()
)
_WRAPPER_RE = re.compile(r'(?s)^=?"(.*)"$')


def strip_wrappers(text: str) -> str:
    """Strip spreadsheet wrappers and surrounding whitespace from one cell or header name."""
    text = text.strip().lstrip("\ufeff").strip()
    match = _WRAPPER_RE.match(text)
    if match:
        text = match.group(1).strip()
    if text[:1] in ("`", "'"):
        text = text[1:].strip()
    return text


def clean_text(values: ArrayLike) -> pa.Array:
    """Strip wrappers and whitespace; placeholders (``-``, ``/``, ``——``, ``N/A``…) and ``''``
    become null."""
    text = pc.utf8_trim_whitespace(_as_text(values))
    starts = functools.reduce(pc.or_, (pc.starts_with(text, pattern=p) for p in _WRAPPER_START))
    if pc.any(starts).as_py():
        text = pc.utf8_trim_whitespace(
            pc.replace_substring_regex(text, pattern=_UNWRAP_QUOTED, replacement=r"\1")
        )
        text = pc.utf8_trim_whitespace(
            pc.replace_substring_regex(text, pattern=_UNWRAP_PREFIX, replacement=r"\1")
        )
    return _null_where(pc.is_in(text, value_set=_PLACEHOLDERS), text)


_UNIT_RE = re.compile(r"\s*[(\[]\s*(?:元|¥|\$|rmb|cny|yuan|人民币|万元|件|个|pcs|%)\s*[)\]]$")


def normalise_header(name: str) -> str:
    """Fold a header name for matching: ``' 实付金额（元）'`` -> ``'实付金额'``, ``'Total '`` ->
    ``'total'``."""
    text = strip_wrappers(unicodedata.normalize("NFKC", name))
    text = " ".join(text.split()).casefold()
    return _UNIT_RE.sub("", text).strip()


# --------------------------------------------------------------------------- identifiers, numbers

_SCIENTIFIC = r"^[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+$"


def parse_identifier(values: ArrayLike) -> Parsed:
    """Ids as text, leading zeros kept; Excel's scientific notation (``4.00123E+27``) is invalid
    (the digits are lost)."""
    text = clean_text(values)
    bad = pc.match_substring_regex(text, pattern=_SCIENTIFIC)
    return Parsed(_null_where(bad, text), _mask(bad))


_CURRENCY = r"(?:¥|\$|(?i:rmb|cny))"
_AMOUNT = (
    r"^(?P<s1>[+-]?)\s*" + _CURRENCY + r"?\s*(?P<s2>[+-]?)\s*"
    r"(?P<int>\d{1,3}(?:,\d{3}){1,4}|\d{1,14})(?:\.(?P<frac>\d+))?"
    r"\s*(?:元|" + _CURRENCY + r")?$"
)
_AMOUNT_WORK = pa.decimal128(26, 12)
_AMOUNT_TYPE = pa.decimal128(14, 2)
_AMOUNT_LIMIT = pa.scalar(Decimal(10**12), _AMOUNT_WORK)


def parse_amount(values: ArrayLike) -> Parsed:
    """Money -> ``decimal128(14, 2)``: ``178.8``, ``-0.01``, ``¥28.16``, ``￥0.12``, ``0元``,
    ``1,234.50``, ``１２３．４５``, ``+5``; rounded half away from zero to cents."""
    text = _nfkc(clean_text(values))
    parts = pc.extract_regex(text, pattern=_AMOUNT)
    s1, s2 = pc.struct_field(parts, "s1"), pc.struct_field(parts, "s2")
    ok = pc.and_(pc.is_valid(parts), pc.or_(pc.equal(s1, ""), pc.equal(s2, "")))
    sign = pc.binary_join_element_wise(s1, s2, "")
    integer = pc.replace_substring(pc.struct_field(parts, "int"), pattern=",", replacement="")
    frac = pc.utf8_slice_codeunits(pc.struct_field(parts, "frac"), 0, 12)
    frac = pc.if_else(pc.equal(frac, ""), "0", frac)
    canonical = pc.binary_join_element_wise(
        pc.binary_join_element_wise(sign, integer, ""), frac, "."
    )
    canonical = pc.if_else(ok, canonical, _NULL_TEXT)
    exact = pc.cast(canonical, _AMOUNT_WORK)
    rounded = pc.round(exact, ndigits=2, round_mode="half_towards_infinity")
    too_big = pc.greater_equal(pc.abs(rounded), _AMOUNT_LIMIT)
    rounded = _null_where(too_big, rounded)
    result = pc.cast(rounded, _AMOUNT_TYPE)
    return Parsed(result, _mask(pc.and_(pc.is_valid(text), pc.is_null(result))))


_INTEGER = r"^(?P<sign>[+-]?)(?P<int>\d{1,3}(?:,\d{3}){1,5}|\d{1,18})(?:\.0*)?$"


def parse_integer(values: ArrayLike) -> Parsed:
    """Counts such as quantities -> ``int64``: ``1``, ``２``, ``1.0``, ``1,200``; ``1.5`` is
    invalid."""
    text = _nfkc(clean_text(values))
    parts = pc.extract_regex(text, pattern=_INTEGER)
    digits = pc.replace_substring(pc.struct_field(parts, "int"), pattern=",", replacement="")
    canonical = pc.binary_join_element_wise(pc.struct_field(parts, "sign"), digits, "")
    result = pc.cast(canonical, pa.int64())
    return Parsed(result, _mask(pc.and_(pc.is_valid(text), pc.is_null(result))))


# --------------------------------------------------------------------------- dates and times

_DAY_US = 86_400_000_000
_EPOCH = datetime(1970, 1, 1)
_EPOCH_UTC = datetime(1970, 1, 1, tzinfo=UTC)
_MONTHS = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
]  # fmt: skip
_MONTH_NAMES = [
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december",
]  # fmt: skip
_NUMERIC = {"Y": 4, "y": 2, "m": 2, "d": 2, "H": 2, "I": 2, "M": 2, "S": 2}
_DIRECTIVES = {
    "p": r"(?P<p>(?i:am|pm)|上午|下午)",
    "z": r" ?(?P<z>Z|[+-]\d{2}(?::?\d{2})?)",
    "b": r"(?P<b>(?i:" + "|".join(_MONTH_NAMES + _MONTHS) + "))",
    "f": r"(?P<f>\d{1,9})",
}
_TIME_FIELDS = frozenset("HIMSfp")
_REGEX_SPECIAL = set(r"\.^$|?*+()[]{}")


@dataclass(frozen=True)
class _DateFormat:
    fmt: str
    pattern: str
    fields: frozenset[str]

    @property
    def has_time(self) -> bool:
        return bool(self.fields & _TIME_FIELDS)


def format_has_time(fmt: str) -> bool:
    """Whether a date format carries a time of day (``%H``, ``%M``…)."""
    return _compile_format(fmt).has_time


@functools.lru_cache(maxsize=128)
def _compile_format(fmt: str) -> _DateFormat:
    """Translate a strptime-style format into an RE2 pattern with named groups.

    The dialect: ``%Y %y %m %d %H %I %M %S %f %p %z %b %B %%`` and literal text. Numbers take one
    or two digits (``2016/5/23 2:02``) unless they touch another number (``%Y%m%d``); ``%S`` may
    carry a fraction (``12.345``); ``%z`` accepts ``Z``, ``+01``, ``+0100`` and ``+01:00``, with
    or without a space before it; ``%p`` accepts AM/PM and 上午/下午. Without ``%z``, the time
    of day may be missing (the cell is read as midnight).
    """
    fmt = " ".join(fmt.split())
    tokens: list[str] = []
    i = 0
    while i < len(fmt):
        if fmt[i] == "%":
            if i + 1 >= len(fmt):
                raise _bad_format(fmt, "it ends with a lone '%'")
            tokens.append("%" + fmt[i + 1])
            i += 2
        else:
            tokens.append(fmt[i])
            i += 1
    # The time of day may be missing (a midnight cell of an Excel datetime column reads as a
    # date): from the space or 'T' before %H/%I to the end is optional, unless %z follows.
    times = [k for k, t in enumerate(tokens) if t in ("%H", "%I")]
    optional_from = (
        times[0] - 1
        if times and times[0] > 0 and tokens[times[0] - 1] in (" ", "T") and "%z" not in tokens
        else None
    )
    fields: list[str] = []
    out: list[str] = ["^"]
    for k, token in enumerate(tokens):
        if k == optional_from:
            out.append("(?:")
        if not token.startswith("%") or token == "%%":
            if token == " " and tokens[k + 1 : k + 2] == ["%z"]:
                continue  # %z brings its own optional space
            char = token[-1]
            out.append("\\" + char if char in _REGEX_SPECIAL else char)
            continue
        code = "b" if token[1] == "B" else token[1]
        if code in _NUMERIC:
            touching = any(
                0 <= j < len(tokens) and tokens[j][:1] == "%" and tokens[j][1:] in _NUMERIC
                for j in (k - 1, k + 1)
            )
            width = _NUMERIC[code]
            digits = f"\\d{{{width}}}" if touching or width == 4 else f"\\d{{1,{width}}}"
            out.append(f"(?P<{code}>{digits})")
            if code == "S" and "%f" not in tokens:
                out.append(r"(?:[.,](?P<f>\d{1,9}))?")
                fields.append("f")
        elif code in _DIRECTIVES:
            out.append(_DIRECTIVES[code])
        else:
            raise _bad_format(fmt, f"'%{code}' is not supported")
        fields.append(code)
    out.append(")?$" if optional_from is not None else "$")
    if len(set(fields)) != len(fields):
        raise _bad_format(fmt, "a field appears twice")
    have = set(fields)
    if not (have & {"Y", "y"} and have & {"m", "b"} and "d" in have) or ("I" in have) != (
        "p" in have
    ):
        raise _bad_format(fmt, "it needs a year, a month and a day (and %p with %I)")
    return _DateFormat(fmt, "".join(out), frozenset(have))


def _bad_format(fmt: str, why: str) -> IngestError:
    return IngestError(
        f"The date format {fmt!r} cannot be used: {why}.",
        code=IngestErrorCode.INVALID_DATE_FORMAT,
        extra={"format": fmt},
    )


def _normalise_date_text(values: ArrayLike) -> pa.Array:
    text = _nfkc(clean_text(values))
    odd_space = pc.match_substring_regex(text, pattern=r"\s\s|[^\S ]")
    if pc.any(odd_space).as_py():
        text = pc.replace_substring_regex(text, pattern=r"\s+", replacement=" ")
    return text


def _to_int(text: pa.Array, default: int) -> np.ndarray:
    """Digit strings (null or ``''`` for an absent optional group) as int64, ``default`` else."""
    number = pc.cast(pc.if_else(pc.equal(text, ""), _NULL_TEXT, text), pa.int64())
    return np.asarray(pc.fill_null(number, default).to_numpy(zero_copy_only=False), np.int64)


def _field(parts: pa.Array, name: str, fields: frozenset[str], default: int) -> np.ndarray:
    if name not in fields:
        return np.full(len(parts), default, dtype=np.int64)
    return _to_int(pc.struct_field(parts, name), default)


def _days_from_civil(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of proleptic Gregorian dates (H. Hinnant's algorithm)."""
    y = y - (m <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    doy = (153 * (m + np.where(m > 2, -3, 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    days: np.ndarray = era * 146_097 + doe - 719_468
    return days


_DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], np.int64)


@dataclass(frozen=True)
class _Wall:
    micros: np.ndarray  # wall-clock microseconds since 1970-01-01 as written
    valid: np.ndarray
    offset: np.ndarray | None  # explicit UTC offset in microseconds (formats with %z)


def _parse_wall(text: pa.Array, spec: _DateFormat) -> _Wall:
    parts = pc.extract_regex(text, pattern=spec.pattern)
    valid = _mask(pc.is_valid(parts))
    f = spec.fields
    if "Y" in f:
        year = _field(parts, "Y", f, 1970)
    else:
        short = _field(parts, "y", f, 70)
        year = np.where(short < 69, 2000 + short, 1900 + short)
    if "b" in f:
        names = pc.utf8_lower(pc.struct_field(parts, "b"))
        lookup = pa.array(_MONTH_NAMES + _MONTHS)
        index = pc.fill_null(pc.index_in(names, value_set=lookup), 0).to_numpy()
        month = np.asarray(index, np.int64) % 12 + 1
    else:
        month = _field(parts, "m", f, 1)
    day = _field(parts, "d", f, 1)
    hour = _field(parts, "H", f, 0)
    if "I" in f:
        hour12 = _field(parts, "I", f, 12)
        meridian = pc.utf8_lower(pc.struct_field(parts, "p"))
        pm = _mask(pc.is_in(meridian, value_set=pa.array(["pm", "下午"])))
        valid &= (hour12 >= 1) & (hour12 <= 12)
        hour = hour12 % 12 + np.where(pm, 12, 0)
    minute = _field(parts, "M", f, 0)
    second = _field(parts, "S", f, 0)
    micro = np.zeros(len(text), np.int64)
    if "f" in f:
        frac = pc.utf8_rpad(
            pc.utf8_slice_codeunits(pc.struct_field(parts, "f"), 0, 6), width=6, padding="0"
        )
        micro = _to_int(frac, 0)
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_index = np.clip(month, 1, 12) - 1
    month_days = _DAYS_IN_MONTH[month_index] + ((month == 2) & leap)
    valid &= (year >= 1) & (year <= 9999) & (month >= 1) & (month <= 12)
    valid &= (day >= 1) & (day <= month_days) & (hour < 24) & (minute < 60) & (second < 60)
    days = _days_from_civil(year, np.clip(month, 1, 12), day)
    micros = (((days * 24 + hour) * 60 + minute) * 60 + second) * 1_000_000 + micro
    offset = None
    if "z" in f:
        zone = pc.extract_regex(
            pc.struct_field(parts, "z"), pattern=r"^(?P<s>[+-]?)(?P<h>\d{0,2}):?(?P<m>\d{0,2})$"
        )
        zf = frozenset({"h", "m"})
        hours, mins = _field(zone, "h", zf, 0), _field(zone, "m", zf, 0)
        sign = np.where(_mask(pc.equal(pc.struct_field(zone, "s"), "-")), -1, 1)
        valid &= (hours <= 18) & (mins < 60)
        offset = sign * (hours * 60 + mins) * 60_000_000
    return _Wall(micros, valid, offset)


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise IngestError(
            f"Unknown time zone {tz!r}; use a name such as 'Asia/Shanghai'.",
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
    unique_days, inverse = np.unique(days[valid], return_inverse=True)
    start = np.array([offset_of(zone, int(d) * _DAY_US) for d in unique_days], np.int64)
    end = np.array([offset_of(zone, (int(d) + 1) * _DAY_US) for d in unique_days], np.int64)
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
                f"Dates such as {examples[0]!r} can be read day first or month first. "
                f"Pass --date-format '{day_first}' (day first) or "
                f"--date-format '{month_first}' (month first).",
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


# --------------------------------------------------------------------------- people

_SEPARATORS = r"[\s\-().]"
_MASKED = r"^(?:\+?[\d\s\-()]*\*[\d\s\-()*]*|##.*|\$\$.*)$"


def normalise_phone(values: ArrayLike) -> ParsedPhone:
    """Phones: a Chinese mobile becomes its 11 digits (``+86 138-1234-5678`` ->
    ``13812345678``), another number written with ``+``/``00`` becomes ``+<digits>``, a landline
    with its area code (``010-12345678``) its digits; masked ones (``186******05``, Douyin's
    ``##…``) are kept as written and flagged in ``masked``."""
    text = _nfkc(clean_text(values))
    masked = pc.match_substring_regex(text, pattern=_MASKED)
    digits = pc.replace_substring_regex(text, pattern=_SEPARATORS, replacement="")
    mobile = pc.extract_regex(digits, pattern=r"^(?:(?:\+|00)?86)?(?P<n>1[3-9]\d{9})$")
    foreign = pc.extract_regex(digits, pattern=r"^(?:\+|00)(?P<n>[1-9]\d{6,14})$")
    landline = pc.extract_regex(digits, pattern=r"^(?P<n>0[1-9]\d{8,10})$")
    result = pc.coalesce(
        pc.if_else(masked, text, _NULL_TEXT),
        pc.struct_field(mobile, "n"),
        pc.binary_join_element_wise("+", pc.struct_field(foreign, "n"), ""),
        pc.struct_field(landline, "n"),
    )
    invalid = _mask(pc.and_(pc.is_valid(text), pc.is_null(result)))
    return ParsedPhone(result, invalid, _mask(masked))


def mask_phone(phone: str) -> str:
    """Show a phone to roles that need not see it: ``13812345678`` -> ``138****5678``."""
    if "*" in phone or len(phone) < 7:
        return phone if "*" in phone else "*" * len(phone)
    head = 3 + phone.startswith("+")
    return phone[:head] + "*" * (len(phone) - head - 4) + phone[-4:]


def _lookup(values: ArrayLike, mapping: Mapping[str, str]) -> Parsed:
    text = pc.utf8_lower(_nfkc(clean_text(values)))
    folded = {key.casefold(): value for key, value in mapping.items()}
    index = pc.index_in(text, value_set=pa.array(list(folded), pa.string()))
    result = pc.take(pa.array(list(folded.values()), pa.string()), index)
    return Parsed(result, _mask(pc.and_(pc.is_valid(text), pc.is_null(index))))


_GENDERS = {
    **dict.fromkeys(["男", "男性", "先生", "m", "male", "man"], "m"),
    **dict.fromkeys(["女", "女性", "女士", "f", "female", "woman"], "f"),
    **dict.fromkeys(
        ["保密", "其他", "其它", "未知", "不详", "u", "unknown", "other", "x", "secret"], "u"
    ),
}


def parse_gender(values: ArrayLike, *, numeric_code: Mapping[str, str] | None = None) -> Parsed:
    """Gender -> ``'f'``/``'m'``/``'u'``; digits only through ``numeric_code`` (a POS template's
    ``{"0": "f", "1": "m", "2": "u"}``), because 0/1 mean different things in different
    systems."""
    return _lookup(values, {**_GENDERS, **(numeric_code or {})})


_BOOLEANS = {
    **dict.fromkeys(["yes", "y", "true", "t", "1", "是", "同意", "已同意", "on"], "1"),
    **dict.fromkeys(["no", "n", "false", "f", "0", "否", "不同意", "未同意", "拒绝", "off"], "0"),
}


def parse_bool(values: ArrayLike) -> Parsed:
    """Consent flags -> ``bool``: yes/no, true/false, 1/0, Y/N, 是/否, 同意/不同意."""
    parsed = _lookup(values, _BOOLEANS)
    return Parsed(pc.equal(parsed.values, "1"), parsed.invalid)


_EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s.]+$"


def normalise_email(values: ArrayLike) -> Parsed:
    """E-mail addresses, lower-cased and checked for a ``name@domain.tld`` shape."""
    text = pc.utf8_lower(_nfkc(clean_text(values)))
    bad = pc.invert(pc.match_substring_regex(text, pattern=_EMAIL))
    return Parsed(_null_where(bad, text), _mask(bad))
