"""Personal fields: phones, e-mail addresses, gender and consent flags."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from patron.ingest.cleaning._arrow import (
    _NULL_TEXT,
    ArrayLike,
    _as_text,
    _mask,
    _nfkc,
    _null_where,
)
from patron.ingest.cleaning.parsed import Parsed, ParsedPhone
from patron.ingest.cleaning.text import clean_text

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


# A masked id or account: runs of asterisks (1******6198, **博(156******89)) or Douyin's
# ciphertext (##…, $$…).
_MASKED_ID = r"\*{2,}|^(?:##|\$\$)"
PHONE_KEY_PREFIX = "tel-"


def is_masked(values: ArrayLike) -> np.ndarray:
    """Which cells (as :func:`clean_text` leaves them) are masked ids or accounts
    (``1******6198``, ``**博(156******89)``, ``##密文``): such a cell hides who it was and
    must never name or match a customer. A column without ``*``, ``##`` or ``$$`` costs one
    substring scan."""
    text = _as_text(values)
    suspect = pc.or_(
        pc.match_substring(text, "*"),
        pc.or_(pc.starts_with(text, "##"), pc.starts_with(text, "$$")),
    )
    if not pc.any(suspect).as_py():
        return np.zeros(len(text), dtype=bool)
    return _mask(pc.match_substring_regex(text, pattern=_MASKED_ID))


def phone_keys(phones: ArrayLike) -> pa.Array:
    """A customer id made from a normalised phone: ``tel-`` and the first 16 hex digits of
    its BLAKE2b hash, so one number gives one customer in every file without the id showing
    the number. Null stays null; one hash per distinct phone."""
    text = clean_text(phones)
    distinct = [p for p in pc.unique(text).to_pylist() if p is not None]
    keys = [
        PHONE_KEY_PREFIX + hashlib.blake2b(p.encode(), digest_size=8).hexdigest() for p in distinct
    ]
    index = pc.index_in(text, value_set=pa.array(distinct, pa.string()))
    return pc.take(pa.array(keys, pa.string()), index)


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
