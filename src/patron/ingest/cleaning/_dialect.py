"""The strptime-style date dialect: compile a format to RE2 and read wall-clock times with it."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from patron.ingest.cleaning._arrow import _NULL_TEXT, ArrayLike, _mask, _nfkc
from patron.ingest.cleaning.text import clean_text
from patron.ingest.errors import IngestError, IngestErrorCode
from patron.ingest.i18n import gettext

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
                raise _bad_format(fmt, gettext("it ends with a lone '%'"))
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
            raise _bad_format(
                fmt, gettext("%(directive)s is not supported") % {"directive": f"'%{code}'"}
            )
        fields.append(code)
    out.append(")?$" if optional_from is not None else "$")
    if len(set(fields)) != len(fields):
        raise _bad_format(fmt, gettext("a field appears twice"))
    have = set(fields)
    if not (have & {"Y", "y"} and have & {"m", "b"} and "d" in have) or ("I" in have) != (
        "p" in have
    ):
        raise _bad_format(fmt, gettext("it needs a year, a month and a day (and %p with %I)"))
    return _DateFormat(fmt, "".join(out), frozenset(have))


def _bad_format(fmt: str, why: str) -> IngestError:
    return IngestError(
        gettext("The date format %(format)s cannot be used: %(reason)s.")
        % {"format": repr(fmt), "reason": why},
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
