"""The fields a file's columns can feed, per kind of file: loaded once from ``fields.toml``.

The synonyms are data (``fields.toml``, beside the platform presets; ADR 0005), so adding a
column name is an edit of a data file, not of code. The longest text a field may hold is its
model field's ``max_length``, read from the model's declaration (``stored_in``), so a limit is
never copied by hand. Reading the declaration (not ``Model._meta``) keeps this module free of
Django: ``patron analyze --source`` validates files with the same fields and limits.
"""

from __future__ import annotations

import ast
import functools
import tomllib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

__all__ = [
    "FIELDS",
    "ITEM_LINE_FIELDS",
    "MAX_LENGTHS",
    "EntityKind",
    "Field",
    "ValueKind",
    "known_column_names",
]

_DATA = Path(__file__).with_name("fields.toml")
_PATRON = Path(__file__).resolve().parents[1]


class EntityKind(StrEnum):
    CUSTOMERS = "customers"
    PRODUCTS = "products"
    TRANSACTIONS = "transactions"


class ValueKind(StrEnum):
    IDENTIFIER = "identifier"
    TEXT = "text"
    AMOUNT = "amount"
    DATETIME = "datetime"
    DATE = "date"
    QUANTITY = "quantity"
    PHONE = "phone"
    EMAIL = "email"
    GENDER = "gender"
    BOOLEAN = "boolean"
    STATUS = "status"
    TAGS = "tags"


@dataclass(frozen=True)
class Field:
    name: str
    kind: ValueKind
    synonyms: tuple[str, ...]
    required: bool = False
    help: str = ""
    # A cell that cannot be read is left out rather than rejecting its row: the field only
    # helps (a buyer's phone that names a customer when nothing else does).
    lenient: bool = False
    # The longest text the store keeps for this field (its model field's max_length).
    max_length: int | None = None


@functools.cache
def _declared_max_lengths(app: str) -> dict[tuple[str, str], int]:
    """``(model, field) -> max_length`` of the literal ``max_length=`` arguments in an app's
    ``models.py``."""
    tree = ast.parse((_PATRON / app / "models.py").read_text(encoding="utf-8"))
    lengths: dict[tuple[str, str], int] = {}
    for model in tree.body:
        if not isinstance(model, ast.ClassDef):
            continue
        for statement in model.body:
            if not (
                isinstance(statement, ast.Assign | ast.AnnAssign)
                and isinstance(statement.value, ast.Call)
            ):
                continue
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            for keyword in statement.value.keywords:
                if keyword.arg == "max_length" and isinstance(keyword.value, ast.Constant):
                    for target in targets:
                        if isinstance(target, ast.Name):
                            lengths[model.name, target.id] = int(keyword.value.value)
    return lengths


def _stored_length(stored_in: str) -> int:
    app, model, field = stored_in.split(".")
    try:
        return _declared_max_lengths(app)[model, field]
    except KeyError:
        raise LookupError(
            f"fields.toml: {stored_in} is no model field with a literal max_length"
        ) from None


def _load() -> dict[EntityKind, tuple[Field, ...]]:
    with _DATA.open("rb") as data:
        raw: dict[str, list[dict[str, Any]]] = tomllib.load(data)
    own = {(kind, f["name"]): tuple(f["synonyms"]) for kind, fields in raw.items() for f in fields}
    loaded: dict[EntityKind, tuple[Field, ...]] = {}
    for kind in EntityKind:
        fields = []
        for spec in raw[str(kind)]:
            synonyms = tuple(spec["synonyms"])
            if "synonyms_of" in spec:
                other_kind, other = spec["synonyms_of"].split(".")
                synonyms += own[other_kind, other]
            fields.append(
                Field(
                    name=spec["name"],
                    kind=ValueKind(spec["kind"]),
                    synonyms=synonyms,
                    required=spec.get("required", False),
                    help=spec.get("help", ""),
                    lenient=spec.get("lenient", False),
                    max_length=_stored_length(spec["stored_in"]) if "stored_in" in spec else None,
                )
            )
        loaded[kind] = tuple(fields)
    return loaded


FIELDS: dict[EntityKind, tuple[Field, ...]] = _load()

#: The longest text each field's column holds in the store: the models' ``max_length``. A
#: longer cell rejects its row rather than failing the import in PostgreSQL or being kept
#: whole by SQLite.
MAX_LENGTHS: dict[EntityKind, dict[str, int]] = {
    kind: {f.name: f.max_length for f in fields if f.max_length is not None}
    for kind, fields in FIELDS.items()
}

# Product columns turn a transaction file into a file of item lines (DOMAIN.md).
ITEM_LINE_FIELDS = ("sku", "product_name", "quantity")


def known_column_names(kind: EntityKind) -> tuple[str, ...]:
    """Every synonym of every field, used to find the header row after a preamble."""
    return tuple(s for field in FIELDS[kind] for s in (field.name, *field.synonyms))
