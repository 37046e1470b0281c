"""Money amounts (rounded to cents) and integer counts."""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc

from patron.ingest.cleaning._arrow import _NULL_TEXT, ArrayLike, _mask, _nfkc, _null_where
from patron.ingest.cleaning.parsed import Parsed
from patron.ingest.cleaning.text import clean_text

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
    # Arrow's integer cast refuses a leading '+': keep only a minus sign.
    sign = pc.if_else(pc.equal(pc.struct_field(parts, "sign"), "-"), "-", "")
    canonical = pc.binary_join_element_wise(sign, digits, "")
    result = pc.cast(canonical, pa.int64())
    return Parsed(result, _mask(pc.and_(pc.is_valid(text), pc.is_null(result))))
