"""Text cells: spreadsheet wrappers, placeholders, header folding and identifiers."""

from __future__ import annotations

import functools
import re
import unicodedata

import pyarrow as pa
import pyarrow.compute as pc

from patron.ingest.cleaning._arrow import ArrayLike, _as_text, _mask, _null_where
from patron.ingest.cleaning.parsed import Parsed

_WRAPPER_START = ("=", '"', "`", "'")
# ="123" (Taobao), "…" (surrounding quotes, also "\t6917…" from Douyin), `SUCCESS (WeChat Pay
# merchant bills) and a leading apostrophe (Excel's text prefix).
_UNWRAP_QUOTED = r'(?s)^=?"(.*)"$'
_UNWRAP_PREFIX = r"(?s)^[`'](.*)$"
_PLACEHOLDERS = pa.array(
    # Taobao writes 无退款申请 ("no refund requested") in its refund column.
    ["", "-", "--", "—", "——", "/", "null", "NULL", "Null", "N/A", "n/a", "#N/A", "无退款申请"],
    pa.string(),
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


SCIENTIFIC_ID = r"^[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+$"


def parse_identifier(values: ArrayLike) -> Parsed:
    """Ids as text, leading zeros kept; Excel's scientific notation (``4.00123E+27``) is invalid
    (the digits are lost)."""
    text = clean_text(values)
    bad = pc.match_substring_regex(text, pattern=SCIENTIFIC_ID)
    return Parsed(_null_where(bad, text), _mask(bad))
