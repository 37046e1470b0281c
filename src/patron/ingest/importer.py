"""Import a file: read, map, validate, stage, merge, report. One path for CLI, API and web.

All-or-nothing by default: one bad row and the transaction is rolled back, so nothing is
half-imported. With ``skip_bad`` the good rows go in and the rejects are written to a CSV.
"""

from __future__ import annotations

import csv
import functools
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.conf import settings
from django.db import transaction

from patron.ingest import cleaning
from patron.ingest.customers import CustomerUpserter, ProductUpserter
from patron.ingest.mapping import ColumnMapping, EntityKind, known_column_names, resolve_columns
from patron.ingest.pipeline import Prepare, ReadSummary, process, read_in_background
from patron.ingest.reading import RawBatch, TableReader, open_table
from patron.ingest.validation import DateFormatHolder, RowError, row_keys
from patron.ingest.writers import STAGE_COLUMN_NAMES, TransactionStage, cents, utc_text
from patron.sales.models import DEFAULT_SOURCE

MAX_REPORTED_ERRORS = 1000
ROW_KEY_FIELDS = (
    "customer_id",
    "ordered_at",
    "amount",
    "cost",
    "store",
    "channel",
    "status",
    "original_order_id",
)


@dataclass(frozen=True)
class ImportOptions:
    mapping: Mapping[str, str] = field(default_factory=dict)
    date_format: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    skip_bad: bool = False
    rejects: Path | None = None
    source: str = DEFAULT_SOURCE
    batch_rows: int = 50_000


@dataclass
class ImportReport:
    kind: str
    path: str
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)
    committed: bool = False
    reading: str = ""  # "orders" (one row, one order) or "order lines"
    customers_created: int = 0
    products_created: int = 0
    lines: int = 0
    encoding: str | None = None
    delimiter: str | None = None
    date_format: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["errors"] = [e.as_dict() for e in self.errors]
        return data


ProgressCallback = Callable[[int], None]


def import_file(
    path: str | Path,
    *,
    kind: EntityKind,
    options: ImportOptions | None = None,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import ``path`` as ``kind``; returns the report (``committed`` says if anything was kept).

    Raises
    ------
    IngestError
        The file cannot be read or lacks a required column (nothing is imported).
    """
    options = options or ImportOptions()
    reader = open_table(
        path,
        encoding=options.encoding,
        delimiter=options.delimiter,
        sheet=options.sheet,
        known_columns=known_column_names(kind),
        batch_rows=options.batch_rows,
    )
    mapping = resolve_columns(reader.info.header, kind, options.mapping)
    report = ImportReport(
        kind=str(kind),
        path=str(path),
        encoding=reader.info.encoding,
        delimiter=reader.info.delimiter,
        columns=dict(mapping.columns),
        ignored_columns=list(mapping.unmapped) if kind is EntityKind.TRANSACTIONS else [],
    )
    return _run(report, mapping, options, progress, reader=reader)


def import_records(
    records: list[dict[str, Any]], *, kind: EntityKind, options: ImportOptions | None = None
) -> ImportReport:
    """Import records given as field -> value dicts (the API): same validation and writers.

    An error's ``line`` is the record's position in the list, counted from 1.
    """
    options = options or ImportOptions()
    names = list(dict.fromkeys(name for record in records for name in record))
    columns = {
        name: pa.array(
            [None if r.get(name) is None else str(r[name]) for r in records], pa.string()
        )
        for name in names
    }
    batch = RawBatch(lines=np.arange(1, len(records) + 1, dtype=np.int64), columns=columns)
    mapping = resolve_columns(names, kind, {n: n for n in names if n in _field_names(kind)})
    report = ImportReport(kind=str(kind), path="(api)", columns=dict(mapping.columns))
    return _run(report, mapping, options, None, records=batch)


def _field_names(kind: EntityKind) -> set[str]:
    from patron.ingest.mapping import FIELDS

    return {f.name for f in FIELDS[kind]}


def _run(
    report: ImportReport,
    mapping: ColumnMapping,
    options: ImportOptions,
    progress: ProgressCallback | None,
    *,
    reader: TableReader | None = None,
    records: RawBatch | None = None,
) -> ImportReport:
    started = time.perf_counter()
    kind = mapping.kind
    header = tuple(reader.info.column_names) if reader is not None else ()
    date_format = DateFormatHolder(options.date_format, explicit=options.date_format is not None)
    rejects = _RejectsWriter(options.rejects, header) if options.rejects else None
    summary = ReadSummary()
    prepare = _preparer(kind, mapping)
    if reader is not None:
        results = read_in_background(
            reader,
            mapping,
            tz=settings.TIME_ZONE,
            date_format=date_format,
            prepare=prepare,
            summary=summary,
        )
    else:
        assert records is not None
        results = process(
            iter([records]),
            mapping,
            tz=settings.TIME_ZONE,
            date_format=date_format,
            prepare=prepare,
        )
    try:
        with transaction.atomic():
            sink = _make_sink(kind, mapping, options)
            for result in results:
                report.read += result.read
                report.rejected += result.rejected
                _keep_errors(report, result.errors)
                if rejects is not None:
                    rejects.write_rows(result.reject_rows)
                if result.prepared is not None and (options.skip_bad or report.rejected == 0):
                    sink.write(result.prepared)
                if progress is not None:
                    progress(report.read)
            for problem in summary.problems:
                report.rejected += 1
                _keep_errors(report, [RowError(problem.line, "", None, problem.message)])
                if rejects is not None:
                    rejects.write_problem(problem.line, problem.message)
            report.skipped = summary.skipped
            report.date_format = summary.date_format if reader is not None else date_format.fmt
            report.reading = sink.reading
            if report.rejected and not options.skip_bad:
                sink.close()
                transaction.set_rollback(True)
            else:
                sink.finish(report)
                sink.close()
                report.committed = True
    finally:
        if rejects is not None:
            rejects.close()
    report.errors.sort(key=lambda e: e.line)
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _preparer(kind: EntityKind, mapping: ColumnMapping) -> Prepare:
    """The pure step that turns validated columns into what the sink writes."""
    if kind is EntityKind.TRANSACTIONS:
        return functools.partial(_stage_prepare, item_lines=mapping.is_item_lines)
    return _records_prepare


def _stage_prepare(
    columns: dict[str, pa.Array], lines: np.ndarray, *, item_lines: bool
) -> pa.Table:
    return stage_table(columns, lines, item_lines=item_lines)


def _records_prepare(columns: dict[str, pa.Array], lines: np.ndarray) -> list[dict[str, Any]]:
    names = list(columns)
    values = [columns[n].to_pylist() for n in names]
    return [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]


def _keep_errors(report: ImportReport, errors: list[RowError]) -> None:
    room = MAX_REPORTED_ERRORS - len(report.errors)
    if room > 0:
        report.errors.extend(errors[:room])


class _RejectsWriter:
    """Rejected rows as they were in the file, with the line and the reason, for fixing."""

    def __init__(self, path: Path, header: tuple[str, ...]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("w", encoding="utf-8-sig", newline="")
        self._writer = csv.writer(self._file)
        self._header = header
        self._writer.writerow(["line", "column", "reason", *header])

    def write_rows(self, rows: list[list[Any]]) -> None:
        self._writer.writerows(rows)

    def write_problem(self, line: int, message: str) -> None:
        self._writer.writerow([line, "", message])

    def close(self) -> None:
        self._file.close()


class _TransactionSink:
    def __init__(self, mapping: ColumnMapping, options: ImportOptions) -> None:
        self.mapping = mapping
        self.options = options
        self.item_lines = mapping.is_item_lines
        self.reading = "order lines" if self.item_lines else "orders"
        self.stage = TransactionStage(stage_columns(mapping))
        self.stage.create()

    def write(self, table: pa.Table) -> None:
        self.stage.append(table)

    def finish(self, report: ImportReport) -> None:
        counts = self.stage.merge(source=self.options.source, item_lines=self.item_lines)
        report.inserted = counts.inserted
        report.updated = counts.updated
        report.unchanged = counts.unchanged
        report.customers_created = counts.customers_created
        report.products_created = counts.products_created
        report.lines = counts.lines_written

    def close(self) -> None:
        self.stage.drop()


_OPTIONAL_STAGE_COLUMNS = {
    "store": "store",
    "channel": "channel",
    "cost": "cost_cents",
    "status": "status",
    "original_order_id": "original_key",
    "product_name": "product_name",
    "category": "category",
    "quantity": "quantity",
}


def stage_columns(mapping: ColumnMapping) -> tuple[str, ...]:
    """The stage columns a file with this mapping fills."""
    columns = ["line", "customer_ext", "ordered_at", "ordered_on", "amount_cents"]
    if mapping.has("order_id") or mapping.is_item_lines:
        columns.append("order_key")
    else:
        columns.append("row_key")
    if mapping.is_item_lines:
        columns.append("sku")
    columns += [c for f, c in _OPTIONAL_STAGE_COLUMNS.items() if mapping.has(f)]
    return tuple(columns)


def stage_table(columns: dict[str, pa.Array], lines: np.ndarray, *, item_lines: bool) -> pa.Table:
    """Validated typed columns -> the staging table's columns."""
    n = len(lines)
    nulls = pa.nulls(n, pa.string())
    ordered_at = columns["ordered_at"]
    amount = columns["amount"]
    status = columns.get("status")
    status = (
        pc.fill_null(status, "completed")
        if status is not None
        else pa.array(["completed"] * n, pa.string())
    )
    # A return is stored with a negative amount, whatever sign the file used.
    is_return = pc.equal(status, "returned")
    amount = pc.if_else(is_return, pc.negate(pc.abs(amount)), amount)
    cost = columns.get("cost")
    if cost is not None:
        cost = pc.if_else(is_return, pc.negate(pc.abs(cost)), cost)
    order_key = columns.get("order_id")
    row_key: pa.Array = nulls
    if order_key is None:
        if item_lines:
            keys = row_keys(columns, ("customer_id", "ordered_at"))
            order_key = pa.array(["g-" + k for k in keys], pa.string())
        else:
            order_key = nulls
            row_key = pa.array(["r-" + k for k in row_keys(columns, ROW_KEY_FIELDS)], pa.string())
    sku = columns.get("sku")
    if sku is None and item_lines and "product_name" in columns:
        sku = columns["product_name"]  # a product known only by its name: the name is its code
    quantity = columns.get("quantity")
    data = {
        "line": pa.array(lines, pa.int64()),
        "order_key": order_key,
        "row_key": row_key,
        "customer_ext": columns["customer_id"],
        "ordered_at": utc_text(ordered_at),
        "ordered_on": pc.cast(cleaning.local_dates(ordered_at, settings.TIME_ZONE), pa.string()),
        "store": pc.fill_null(columns.get("store", nulls), ""),
        "channel": pc.fill_null(columns.get("channel", nulls), ""),
        "amount_cents": cents(amount),
        "cost_cents": cents(cost) if cost is not None else pa.nulls(n, pa.int64()),
        "status": status,
        "original_key": columns.get("original_order_id", nulls),
        "sku": sku if sku is not None else nulls,
        "product_name": columns.get("product_name", nulls),
        "category": columns.get("category", nulls),
        "quantity": pc.cast(quantity, pa.float64())
        if quantity is not None
        else pa.nulls(n, pa.float64()),
    }
    return pa.table({name: data[name] for name in STAGE_COLUMN_NAMES})


def _make_sink(kind: EntityKind, mapping: ColumnMapping, options: ImportOptions):  # type: ignore[no-untyped-def]
    if kind is EntityKind.TRANSACTIONS:
        return _TransactionSink(mapping, options)
    if kind is EntityKind.CUSTOMERS:
        return CustomerUpserter(mapping, source=options.source)
    return ProductUpserter(mapping)
