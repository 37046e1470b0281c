"""Which file column feeds which Patron field: the synonyms of ``fields.toml``, plus --map.

The fields and their synonyms are data (:mod:`patron.ingest.fields`); a column is matched after
``normalise_header`` folds width, case, spaces, wrappers and units.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from patron.ingest.cleaning import normalise_header
from patron.ingest.errors import IngestError, IngestErrorCode
from patron.ingest.fields import (
    FIELDS,
    ITEM_LINE_FIELDS,
    MAX_LENGTHS,
    EntityKind,
    Field,
    ValueKind,
    known_column_names,
)
from patron.ingest.i18n import gettext

__all__ = [
    "FIELDS",
    "FIELD_ALIASES",
    "ITEM_LINE_FIELDS",
    "MAX_LENGTHS",
    "ColumnMapping",
    "CustomerKey",
    "EntityKind",
    "Field",
    "ValueKind",
    "known_column_names",
    "parse_map_options",
    "resolve_columns",
]


#: Words a person types in ``--map`` for a field, beside its name (``--map date=下单时间``).
FIELD_ALIASES: dict[EntityKind, dict[str, str]] = {
    EntityKind.TRANSACTIONS: {"date": "ordered_at", "customer": "customer_id", "order": "order_id"},
    EntityKind.CUSTOMERS: {"customer": "external_id", "customer_id": "external_id"},
}


@dataclass(frozen=True)
class CustomerKey:
    """How the rows of an export without a buyer id name their customer (a preset's
    ``[customer_key]``): per row, the first of ``sources`` that has a value and is not
    masked; else, with ``otherwise="order"``, one unidentified buyer per order
    (``order_prefix`` + the order id), or with ``otherwise="reject"`` an error for the row.
    A phone becomes ``tel-`` + a hash of its normalised digits, so the same number links
    orders and customer records across files without showing the number in the id."""

    sources: tuple[str, ...]
    otherwise: str = "reject"
    order_prefix: str = ""


@dataclass(frozen=True)
class ColumnMapping:
    kind: EntityKind
    columns: dict[str, str]  # field name -> file column
    unmapped: tuple[str, ...]  # file columns no field took
    # Fields a row must fill; None: the fields' own ``required`` flags.
    required: frozenset[str] | None = None
    # field -> several file columns read as one, joined by a space (First Name + Last Name).
    combined: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    customer_key: CustomerKey | None = None
    # Fields whose column was named (--map, a preset), not found by a synonym.
    explicit: frozenset[str] = frozenset()

    def has(self, field: str) -> bool:
        return field in self.columns

    def is_required(self, spec: Field) -> bool:
        return spec.required if self.required is None else spec.name in self.required

    @property
    def is_item_lines(self) -> bool:
        return self.kind is EntityKind.TRANSACTIONS and any(
            f in self.columns for f in ITEM_LINE_FIELDS
        )


def parse_map_options(options: Iterable[str]) -> dict[str, str]:
    """``["customer_id=会员卡号", ...]`` -> ``{"customer_id": "会员卡号"}``."""
    mapping: dict[str, str] = {}
    for option in options:
        field, sep, column = option.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise IngestError(
                gettext("--map expects field=column, got %(option)s") % {"option": repr(option)},
                code=IngestErrorCode.BAD_MAPPING,
            )
        mapping[field.strip()] = column.strip()
    return mapping


def resolve_columns(
    header: Iterable[str],
    kind: EntityKind,
    overrides: Mapping[str, str] | None = None,
    *,
    synonyms: bool = True,
    require: bool = True,
    required: Collection[str] | None = None,
) -> ColumnMapping:
    """Match file columns to fields: explicit ``overrides`` first, then synonyms, in field order.

    With ``require=False`` a mapping without some required field is returned as it is (for a
    person to complete it) instead of raising. ``required`` names the required fields when
    they are not the fields' own flags (a preset that derives the customer, or a file of
    order lines).

    Raises
    ------
    IngestError
        An override names an unknown field or column, or (``require``) a required field has
        no column; the message lists the columns found and the ``--map`` that would fix it.
    """
    header = list(header)
    fields = FIELDS[kind]
    field_names = {f.name for f in fields}
    by_normal: dict[str, str] = {}
    for column in header:
        by_normal.setdefault(normalise_header(column), column)
    columns: dict[str, str] = {}
    aliases = FIELD_ALIASES.get(kind, {})
    for field_name, column in (overrides or {}).items():
        if field_name not in field_names and field_name.strip().casefold() in aliases:
            field_name = aliases[field_name.strip().casefold()]
        if field_name not in field_names:
            raise IngestError(
                gettext("--map names an unknown field %(field)s; fields for %(kind)s: %(fields)s")
                % {
                    "field": repr(field_name),
                    "kind": kind,
                    "fields": ", ".join(sorted(field_names)),
                },
                code=IngestErrorCode.BAD_MAPPING,
            )
        if column not in header:
            found = by_normal.get(normalise_header(column))
            if found is None:
                raise IngestError(
                    gettext(
                        "--map %(field)s=%(column)s: the file has no column %(quoted)s; "
                        "columns found: %(columns)s"
                    )
                    % {
                        "field": field_name,
                        "column": column,
                        "quoted": repr(column),
                        "columns": ", ".join(header),
                    },
                    code=IngestErrorCode.BAD_MAPPING,
                )
            column = found
        columns[field_name] = column
    explicit = set(columns)
    taken = set(columns.values())
    for field in fields if synonyms else ():
        if field.name in columns:
            continue
        for synonym in (field.name, *field.synonyms):
            column = by_normal.get(normalise_header(synonym))
            if column is not None and column not in taken:
                columns[field.name] = column
                taken.add(column)
                break
    required_names = (
        frozenset(f.name for f in fields if f.required) if required is None else frozenset(required)
    )
    missing = [f for f in fields if f.name in required_names and f.name not in columns]
    if missing and require:
        names = ", ".join(f.name for f in missing)
        example = " ".join(f"--map {f.name}=COLUMN" for f in missing)
        raise IngestError(
            gettext(
                "No column for required field(s) %(fields)s in this %(kind)s file. "
                "Columns found: %(columns)s. Name the column(s) with %(example)s."
            )
            % {
                "fields": names,
                "kind": kind,
                "columns": ", ".join(header) or gettext("(none)"),
                "example": example,
            },
            code=IngestErrorCode.MISSING_COLUMN,
            extra={"missing": [f.name for f in missing], "columns": header},
        )
    unmapped = tuple(c for c in header if c not in taken)
    return ColumnMapping(
        kind=kind,
        columns=columns,
        unmapped=unmapped,
        required=None if required is None else required_names,
        explicit=frozenset(explicit),
    )
