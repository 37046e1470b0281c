"""Is the column taken as the amount the money? Asked of a file's first rows, before guessing.

A grocery log with ``AMOUNT`` (the quantity) and ``SALES_PRICE`` (the money) once imported
the quantity as money without a word (revenue 1.1M instead of 107.8M). When the column the
synonyms took holds only small whole numbers while another column is named like a price or
a sales value, or when two columns could be the amount and hold different values, the import
stops and asks for ``--map amount=COLUMN``, showing example values of each. A column named
by ``--map`` or a platform preset is never second-guessed.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa
import pyarrow.compute as pc

from patron.ingest import cleaning
from patron.ingest.errors import IngestError, IngestErrorCode
from patron.ingest.fields import FIELDS
from patron.ingest.i18n import gettext
from patron.ingest.mapping import ColumnMapping

__all__ = ["amount_doubt", "amount_in_doubt"]

#: Words in a column name that say "money" (after normalise_header).
MONEY_WORDS = ("price", "sales value", "sales_value", "sales_price", "价", "金额", "售额")
#: The largest whole number a quantity column commonly holds in a grocery or retail log.
SMALL_WHOLE = 100
_EXAMPLES = 3

ASK = (
    "The column %(amount)s, taken as the amount, may not be the money: %(why)s "
    "Say which column holds the money with --map amount=COLUMN (examples: %(examples)s)."
)
QUANTITY_LIKE = (
    "it holds only small whole numbers (like a quantity), and %(other)s looks like money."
)
TWO_AMOUNTS = "%(other)s could be the amount too, and holds other values."


def _examples(values: pa.Array) -> list[str]:
    text = pc.drop_null(cleaning.clean_text(values))
    return [str(v) for v in text.slice(0, _EXAMPLES).to_pylist()]


def column_examples(mapping: ColumnMapping, columns: dict[str, pa.Array]) -> dict[str, list[str]]:
    """A few cells of each mapped column (field -> cells), as the report shows them beside the
    mapping: an amount column that holds quantities is seen at a glance."""
    return {
        field: _examples(columns[column].slice(0, 1000))
        for field, column in mapping.columns.items()
        if column in columns
    }


def _small_whole(values: pa.Array) -> bool:
    parsed = cleaning.parse_amount(values)
    amounts = pc.drop_null(parsed.values)
    if len(amounts) == 0 or parsed.invalid.any():
        return False
    whole = pc.equal(amounts, pc.floor(amounts))
    small = pc.less_equal(pc.abs(amounts), SMALL_WHOLE)
    return bool(pc.all(pc.and_(whole, small)).as_py())


def amount_in_doubt(mapping: ColumnMapping, names: Iterable[str]) -> bool:
    """Whether :func:`amount_doubt` can ask anything of a file with these column ``names``:
    only when another column is named like an amount or like money (no cell is read)."""
    column = mapping.columns.get("amount")
    if column is None or "amount" in mapping.explicit:
        return False
    taken = set(mapping.columns.values())
    synonyms = _amount_synonyms(mapping)
    for other in names:
        name = cleaning.normalise_header(other)
        if other not in taken and (name in synonyms or any(w in name for w in MONEY_WORDS)):
            return True
    return False


def _amount_synonyms(mapping: ColumnMapping) -> set[str]:
    spec = next(f for f in FIELDS[mapping.kind] if f.name == "amount")
    return {cleaning.normalise_header(s) for s in (spec.name, *spec.synonyms)}


def amount_doubt(mapping: ColumnMapping, columns: dict[str, pa.Array]) -> IngestError | None:
    """The question to ask about the amount column of a file whose first rows are ``columns``
    (file column -> cells), or None when the amount is clear."""
    column = mapping.columns.get("amount")
    if column is None or "amount" in mapping.explicit or column not in columns:
        return None
    synonyms = _amount_synonyms(mapping)
    taken = set(mapping.columns.values())
    others = [c for c in columns if c not in taken]
    amount = columns[column]
    why = None
    candidates = []
    for other in others:
        name = cleaning.normalise_header(other)
        if name in synonyms:
            parsed = cleaning.parse_amount(columns[other])
            if (
                not parsed.invalid.any()
                and not pc.all(
                    pc.fill_null(
                        pc.equal(parsed.values, cleaning.parse_amount(amount).values), True
                    )
                ).as_py()
            ):
                why = gettext(TWO_AMOUNTS) % {"other": other}
                candidates.append(other)
                break
    if why is None and _small_whole(amount):
        for other in others:
            name = cleaning.normalise_header(other)
            if any(word in name for word in MONEY_WORDS):
                parsed = cleaning.parse_amount(columns[other])
                if parsed.invalid.any() or len(pc.drop_null(parsed.values)) == 0:
                    continue
                why = gettext(QUANTITY_LIKE) % {"other": other}
                candidates.append(other)
                break
    if why is None:
        return None
    examples = "; ".join(
        f"{name} = {', '.join(_examples(columns[name]))}" for name in (column, *candidates)
    )
    return IngestError(
        gettext(ASK) % {"amount": column, "why": why, "examples": examples},
        code=IngestErrorCode.BAD_MAPPING,
        extra={"field": "amount", "column": column, "candidates": candidates},
    )
