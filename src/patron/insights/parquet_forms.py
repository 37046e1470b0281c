"""Closed forms of the set-based Parquet path: SQL saying when a typed cell is *plain*.

A cell is plain when the importer's text path (the Parquet reader's ``column_text`` followed
by ``validate_batch``) is known to accept it and what it makes of it; each form below states
why. :mod:`patron.insights.parquet_fast` builds its plan from them, and
tests/insights/test_parquet_fast.py checks them against the text path.
"""

from __future__ import annotations

import datetime as dt

from patron.ingest.cleaning.text import SCIENTIFIC_ID
from patron.ingest.mapping import Field, ValueKind

__all__ = [
    "INTEGER_TYPES",
    "SAFE_YEARS",
    "TIMESTAMP_TYPES",
    "TYPE_DATE_FORMAT",
    "cents_sql",
    "exact_id_sql",
    "id_sql",
    "in_list",
    "literal",
    "other_field_sql",
    "quick_id_plain",
    "quick_id_sql",
    "quote",
]

SAFE_YEARS = (dt.date(1900, 1, 1), dt.date(2999, 12, 31))
INTEGER_TYPES = frozenset(
    {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"}
)
TIMESTAMP_TYPES = frozenset({"TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS"})
#: The date format the importer detects in the text the Parquet reader makes of the type.
TYPE_DATE_FORMAT = {"DATE": "%Y-%m-%d", **{t: "%Y-%m-%d %H:%M:%S" for t in TIMESTAMP_TYPES}}
# clean_text leaves a cell alone when it neither starts nor ends with whitespace or a
# spreadsheet wrapper and is no placeholder; a letter, digit or underscore at both ends
# ensures the first two. Placeholders that pass that test:
_WORD_PLACEHOLDERS = ("null", "NULL", "Null", "N/A", "n/a", "无退款申请")
_PLAIN_TEXT_RE = r"(?s)[\p{L}\p{N}_](.*[\p{L}\p{N}_])?"
# The importer's pattern of Excel's scientific notation (RE2 in Arrow and DuckDB alike),
# matched whole by regexp_full_match.
_SCIENTIFIC_RE = SCIENTIFIC_ID.removeprefix("^").removesuffix("$")
_PLAIN_AMOUNT_RE = r"-?[0-9]{1,9}(\.[0-9]{1,2})?"
_MAX_INTEGER = 10**18 - 1


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def in_list(column: str, values: list[str]) -> str:
    if not values:
        return "FALSE"
    return f"{column} IN ({', '.join(literal(v) for v in values)})"


def exact_id_sql(column: str, max_length: int | None = None) -> str:
    """The plain condition of a non-null VARCHAR id, as stated: no ``*``, a letter, digit or
    underscore at both ends, no placeholder, not Excel's scientific notation, at most
    ``max_length`` characters. Two regular expressions a row: :func:`quick_id_sql` spares
    most rows them."""
    limit = f"length({column}) <= {int(max_length)} AND " if max_length else ""
    return (
        f"({limit}strpos({column}, '*') = 0 AND "
        f"regexp_full_match({column}, {literal(_PLAIN_TEXT_RE)}) AND NOT "
        f"{in_list(column, list(_WORD_PLACEHOLDERS))} AND NOT "
        f"regexp_full_match({column}, {literal(_SCIENTIFIC_RE)}))"
    )


# Letters, digits and the underscore of ASCII: one byte each in UTF-8, and within the
# \p{L}\p{N}_ of _PLAIN_TEXT_RE.
_ASCII_WORD = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
# The placeholders that start with an ASCII letter are three or four bytes long.
_ASCII_PLACEHOLDERS = [p for p in _WORD_PLACEHOLDERS if p.isascii()]
_SHORTEST_NOT_PLACEHOLDER = max(len(p) for p in _ASCII_PLACEHOLDERS) + 1


def quick_id_sql(column: str, max_length: int | None = None) -> str:
    """A condition on a non-null VARCHAR id that implies :func:`exact_id_sql`, without a
    regular expression (a fifth of its cost on ids such as ``C000123`` or ``10023``).

    True when the id is at most ``max_length`` bytes (so characters), holds no ``*``, ends
    with an ASCII letter, digit or underscore (``{column}[-1]`` is the last character;
    ``contains`` of one character in an ASCII string is true only for that ASCII
    character), and either starts with an ASCII letter or underscore (byte comparisons:
    ``'A' <= id < '['`` is a first byte from A to Z), is no ASCII placeholder and so not
    scientific notation (which starts with a sign or a digit), or starts with an ASCII
    digit and holds no ``e``/``E`` (which scientific notation needs). Each of these implies
    the matching part of the exact rule; tests/insights/test_parquet_id_rule.py checks
    ``quick OR exact`` against ``exact``."""
    limit = f"strlen({column}) <= {int(max_length)} AND " if max_length else ""
    starts_word = (
        f"(({column} >= 'A' AND {column} < '[') OR ({column} >= 'a' AND {column} < '{{') "
        f"OR ({column} >= '_' AND {column} < '`'))"
    )
    not_placeholder = (
        f"(strlen({column}) >= {_SHORTEST_NOT_PLACEHOLDER} OR NOT "
        f"{in_list(column, _ASCII_PLACEHOLDERS)})"
    )
    starts_digit = f"({column} >= '0' AND {column} < ':')"
    no_exponent = f"NOT contains({column}, 'e') AND NOT contains({column}, 'E')"
    return (
        f"({limit}contains({literal(_ASCII_WORD)}, {column}[-1]) AND "
        f"NOT contains({column}, '*') AND (({starts_word} AND {not_placeholder}) OR "
        f"({starts_digit} AND {no_exponent})))"
    )


def id_sql(
    column: str, kind: str, *, required: bool, max_length: int | None = None
) -> tuple[str, str] | None:
    """(text, plain condition) of an identifier column, None when its type is not covered.

    An id longer than the store keeps (``max_length``) is not plain: the importer's
    validation rejects it. A VARCHAR id is plain when :func:`exact_id_sql` holds, asked as
    ``quick OR exact``: DuckDB evaluates the exact rule only on the rows the quick one
    leaves."""
    if kind == "VARCHAR":
        plain = f"({quick_id_sql(column, max_length)} OR {exact_id_sql(column, max_length)})"
        text = column
    elif kind in INTEGER_TYPES:  # digits, perhaps a minus: never a placeholder or wrapped
        plain, text = "TRUE", f"CAST({column} AS VARCHAR)"
    else:
        return None
    return text, _nullable(column, plain, required=required)


def quick_id_plain(
    column: str, kind: str, *, required: bool, max_length: int | None = None
) -> str | None:
    """The condition of :func:`id_sql` with :func:`quick_id_sql` alone for a VARCHAR id: it
    implies id_sql's (a row it leaves may still be plain), and DuckDB can check it while
    it scans a Parquet file, which it does not do with the regular expressions."""
    if kind != "VARCHAR":
        found = id_sql(column, kind, required=required, max_length=max_length)
        return None if found is None else found[1]
    return _nullable(column, quick_id_sql(column, max_length), required=required)


def _nullable(column: str, plain: str, *, required: bool) -> str:
    if required:
        return f"({column} IS NOT NULL AND {plain})"
    return f"({column} IS NULL OR {plain})"


def cents_sql(column: str, kind: str, *, required: bool) -> tuple[str, str] | None:
    """(integer cents, plain condition) of an amount column, None when not covered.

    The Parquet reader's text of a double within a millionth of a cent of a whole number of
    cents is that number of cents (float noise such as ``5.551115e-17`` reads ``0``), spelled
    as the shortest representation of ``cents / 100``: a plain decimal below 1e9, which
    parse_amount reads as those cents. Other doubles take the text path.
    """
    if kind == "DOUBLE":
        plain = (
            f"(isfinite({column}) AND abs({column}) < 1e9 AND "
            f"abs({column} * 100 - round({column} * 100)) <= 1e-6)"
        )
        cents = f"CAST(round({column} * 100) AS BIGINT)"
    elif kind.startswith("DECIMAL"):  # exact; more than two decimals take the text path
        plain = f"(abs({column}) < 1e9 AND floor({column} * 100) = {column} * 100)"
        cents = f"CAST({column} * 100 AS BIGINT)"
    elif kind in INTEGER_TYPES:
        plain = f"(abs(CAST({column} AS DOUBLE)) < 1e9)"
        cents = f"CAST({column} AS BIGINT) * 100"
    elif kind == "VARCHAR":
        plain = f"regexp_full_match({column}, {literal(_PLAIN_AMOUNT_RE)})"
        cents = f"CAST(CAST({column} AS DECIMAL(18, 2)) * 100 AS BIGINT)"
    else:
        return None
    guarded = f"CASE WHEN {plain} THEN {cents} END"
    if required:
        return guarded, f"({column} IS NOT NULL AND {plain})"
    return guarded, f"({column} IS NULL OR {plain})"


def other_field_sql(column: str, kind: str, spec: Field, *, required: bool) -> str | None:
    """The plain condition of a mapped field the analysis does not read, None when its type
    or kind is not covered (the text path then reads the file)."""
    if spec.lenient and not required:  # an unreadable cell is only left out
        return "TRUE"
    if spec.kind is ValueKind.IDENTIFIER:
        found = id_sql(column, kind, required=required, max_length=spec.max_length)
        return None if found is None else found[1]
    if spec.kind is ValueKind.AMOUNT:
        money = cents_sql(column, kind, required=required)
        return None if money is None else money[1]
    if spec.kind is ValueKind.QUANTITY:  # parse_integer: up to 18 digits, an int64
        if kind in INTEGER_TYPES:
            plain = f"{column} BETWEEN {-_MAX_INTEGER} AND {_MAX_INTEGER}"
        elif kind == "VARCHAR":
            plain = f"regexp_full_match({column}, '[0-9]{{1,18}}')"
        else:
            return None
    elif spec.kind is ValueKind.TEXT:  # clean_text never fails; only the store's length can
        if spec.max_length is None or (kind in INTEGER_TYPES and spec.max_length >= 20):
            plain = "TRUE"
        elif kind == "VARCHAR":
            plain = f"length({column}) <= {int(spec.max_length)}"
        else:
            return None
    else:
        return None
    if required:
        return f"({column} IS NOT NULL AND {plain})"
    return "TRUE" if plain == "TRUE" else f"({column} IS NULL OR {plain})"
