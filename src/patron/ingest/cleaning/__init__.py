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

from patron.ingest.cleaning._arrow import ArrayLike
from patron.ingest.cleaning.dates import (
    detect_date_format,
    format_has_time,
    local_dates,
    parse_date,
    parse_datetime,
)
from patron.ingest.cleaning.numbers import parse_amount, parse_integer
from patron.ingest.cleaning.parsed import Parsed, ParsedDatetime, ParsedPhone
from patron.ingest.cleaning.people import (
    PHONE_KEY_PREFIX,
    is_masked,
    mask_phone,
    normalise_email,
    normalise_phone,
    parse_bool,
    parse_gender,
    phone_keys,
)
from patron.ingest.cleaning.text import (
    clean_text,
    normalise_header,
    parse_identifier,
    strip_wrappers,
)

__all__ = [
    "PHONE_KEY_PREFIX",
    "ArrayLike",
    "Parsed",
    "ParsedDatetime",
    "ParsedPhone",
    "clean_text",
    "detect_date_format",
    "format_has_time",
    "is_masked",
    "local_dates",
    "mask_phone",
    "normalise_email",
    "normalise_header",
    "normalise_phone",
    "parse_amount",
    "parse_bool",
    "parse_date",
    "parse_datetime",
    "parse_gender",
    "parse_identifier",
    "parse_integer",
    "phone_keys",
    "strip_wrappers",
]
