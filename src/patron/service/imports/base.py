"""What both service imports share: reading a file with the importer's readers, column
names, row errors by line and column, the report, and all-or-nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from patron.customers.models import Customer
from patron.ingest import cleaning
from patron.ingest.reading import open_table
from patron.service.errors import ServiceError, ServiceErrorCode

MISSING = gettext_noop("a value is required here")
UNKNOWN_CUSTOMER = gettext_noop("no customer with this id: import the customers first")
DATE_EXPECTED = gettext_noop("expected a date and time such as 2024-01-31 14:05")
UNKNOWN_VALUE = gettext_noop("unknown value: expected one of %(choices)s")
MISSING_COLUMN = gettext_noop(
    "%(file)s has no column for %(field)s: expected one of %(names)s (or name it with --map)"
)
ROWS_REJECTED = gettext_noop(
    "%(count)s row(s) of %(file)s are wrong; nothing was imported. Correct them, or use "
    "--skip-bad to import the good rows."
)

CUSTOMER_ID_NAMES: tuple[str, ...] = (
    "customer_id",
    "customer id",
    "customer",
    "客户编号",
    "客户id",
    "会员id",
    "会员编号",
    "会员卡号",
    "用户id",
    "external data",
)


@dataclass(frozen=True)
class RowError:
    """A rejected cell: its file line, column, value and what was expected (the importer's
    report shape: ``patron import`` prints the same fields)."""

    line: int
    column: str
    value: str | None
    message: str
    code: str = "row.invalid_value"

    def as_dict(self) -> dict[str, object]:
        return {
            "line": self.line,
            "column": self.column,
            "value": self.value,
            "message": self.message,
            "code": self.code,
        }


@dataclass
class ServiceImportReport:
    file: str
    rows: int = 0
    imported: int = 0
    errors: list[RowError] = field(default_factory=list)
    drivers: tuple[str, ...] = ()

    @property
    def rejected(self) -> int:
        return len({e.line for e in self.errors})

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "rows": self.rows,
            "imported": self.imported,
            "rejected": self.rejected,
            "drivers": list(self.drivers),
            "errors": [e.as_dict() for e in self.errors],
        }


@dataclass
class Table:
    lines: np.ndarray
    columns: dict[str, pa.Array]  # by the file's column names
    names: dict[str, str]  # field -> file column
    errors: list[RowError]


def read_table(path: Path, wanted: dict[str, tuple[str, ...]]) -> Table:
    known = [name for names in wanted.values() for name in names]
    reader = open_table(path, known_columns=known)
    lines, chunks = [], []
    for batch in reader.batches():
        lines.append(batch.lines)
        chunks.append(batch.columns)
    column_names = reader.info.column_names
    columns = {
        name: pa.concat_arrays([c[name] for c in chunks]) if chunks else pa.array([], pa.string())
        for name in column_names
    }
    folded = {cleaning.normalise_header(name): name for name in column_names}
    names = {}
    for field_name, synonyms in wanted.items():
        for synonym in synonyms:
            if cleaning.normalise_header(synonym) in folded:
                names[field_name] = folded[cleaning.normalise_header(synonym)]
                break
    errors = [RowError(p.line, "", None, p.message, "row.shape") for p in reader.problems]
    all_lines = np.concatenate(lines) if lines else np.zeros(0, dtype=np.int64)
    return Table(all_lines, columns, names, errors)


def require_columns(
    table: Table, path: Path, fields: Sequence[str], wanted: dict[str, Any]
) -> None:
    for name in fields:
        if name not in table.names:
            raise ServiceError(
                _(MISSING_COLUMN)
                % {"file": path.name, "field": name, "names": ", ".join(wanted[name][:6])},
                code=ServiceErrorCode.IMPORT_MISSING_COLUMN,
                extra={"field": name},
            )


def text_column(table: Table, field_name: str) -> list[str | None]:
    column = table.names.get(field_name)
    if column is None:
        return [None] * len(table.lines)
    return cleaning.clean_text(table.columns[column]).to_pylist()


def row_error(
    errors: list[RowError],
    at: int,
    column: str,
    value: Any,
    message: str,
    code: str = "row.invalid_value",
    **params: Any,
) -> None:
    text = _(message) % params if params else _(message)
    errors.append(RowError(int(at), column, None if value is None else str(value), text, code))


def customers_column(table: Table, errors: list[RowError]) -> list[Customer | None]:
    column = table.names["customer_id"]
    ids = cleaning.parse_identifier(table.columns[column])
    raw = table.columns[column].to_pylist()
    values = ids.values.to_pylist()
    found = {
        c.external_id: c for c in Customer.objects.filter(external_id__in=set(values) - {None})
    }
    out: list[Customer | None] = []
    for line, value, cell in zip(table.lines, values, raw, strict=True):
        if value is None:
            row_error(errors, line, column, cell, MISSING, "row.missing_value")
            out.append(None)
        elif value not in found:
            row_error(errors, line, column, value, UNKNOWN_CUSTOMER)
            out.append(None)
        else:
            out.append(found[value])
    return out


def times_column(
    table: Table, field_name: str, errors: list[RowError], *, required: bool
) -> list[Any]:
    column = table.names.get(field_name)
    if column is None:
        return [None] * len(table.lines)
    raw = table.columns[column]
    parsed = cleaning.parse_datetime(raw, fmt=None, tz=settings.TIME_ZONE)
    values = parsed.values.to_pylist()
    invalid = np.asarray(parsed.invalid)
    for i, (line, cell) in enumerate(zip(table.lines, raw.to_pylist(), strict=True)):
        if invalid[i]:
            row_error(errors, line, column, cell, DATE_EXPECTED)
            values[i] = None
        elif values[i] is None and required:
            row_error(errors, line, column, cell, MISSING, "row.missing_value")
    return values


def finish(report: ServiceImportReport, path: Path, skip_bad: bool) -> None:
    report.errors.sort(key=lambda e: (e.line, e.column))
    if report.errors and not skip_bad:
        raise ServiceError(
            _(ROWS_REJECTED) % {"count": report.rejected, "file": path.name},
            code=ServiceErrorCode.IMPORT_ROWS_REJECTED,
            extra=report.as_dict(),
        )
