"""Import a file: read, map, validate, stage, merge, report. One path for CLI, API and web.

All-or-nothing by default: one bad row and the transaction is rolled back, so nothing is
half-imported. With ``skip_bad`` the good rows go in and the rejects are written to a CSV.
"""

from __future__ import annotations

import csv
import functools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.conf import settings
from django.db import transaction

from patron.ingest import cleaning
from patron.ingest.customers import CustomerUpserter, ProductUpserter
from patron.ingest.errors import IngestError
from patron.ingest.formats import (
    GENERIC,
    Preset,
    detect_preset,
    load_presets,
    preset_by_name,
    trailer_pattern,
)
from patron.ingest.mapping import ColumnMapping, EntityKind, known_column_names, resolve_columns
from patron.ingest.pipeline import (
    FillDown,
    Prepare,
    ReadSummary,
    TrailerCut,
    process,
    read_in_background,
)
from patron.ingest.reading import RawBatch, TableReader, open_table
from patron.ingest.validation import DateFormatHolder, RowError, generic_status, row_keys
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
    preset: str | None = None  # a preset's name, "generic" to turn detection off, None: detect
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
    preset: str = GENERIC
    preset_label: dict[str, str] = field(default_factory=dict)
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
    forced = preset_by_name(options.preset) if options.preset else None
    known = [*known_column_names(kind)]
    for candidate in [forced] if forced else load_presets():
        if candidate.kind is kind:
            known += candidate.known_columns()
    reader = open_table(
        path,
        encoding=options.encoding,
        delimiter=options.delimiter,
        sheet=options.sheet,
        known_columns=known,
        batch_rows=options.batch_rows,
    )
    header = reader.info.header
    preset = None if options.preset == GENERIC else forced or detect_preset(header, kind)
    overrides = {**(preset.mapping(header) if preset else {}), **options.mapping}
    try:
        # A preset's own table decides; generic synonyms would add columns it leaves out on
        # purpose (宝贝标题 in an order file is a title list, not a product).
        mapping = resolve_columns(header, kind, overrides, synonyms=preset is None)
    except IngestError as error:
        raise _with_closest_preset(error, header, kind) from None
    if preset is not None and options.source == DEFAULT_SOURCE:
        options = replace(options, source=preset.platform)
    report = ImportReport(
        kind=str(kind),
        path=str(path),
        encoding=reader.info.encoding,
        delimiter=reader.info.delimiter,
        columns=dict(mapping.columns),
        ignored_columns=list(mapping.unmapped) if kind is EntityKind.TRANSACTIONS else [],
        preset=preset.name if preset else GENERIC,
        preset_label=dict(preset.label) if preset else {},
    )
    return _run(report, mapping, options, progress, reader=reader, preset=preset)


def _with_closest_preset(
    error: IngestError, header: Sequence[str], kind: EntityKind
) -> IngestError:
    """Add the preset the file is closest to, so a nearly-recognised export says so."""
    scored = [(p.score(header), p) for p in load_presets() if p.kind is kind]
    scored = [item for item in scored if item[0] > 0]
    if not scored:
        return error
    score, closest = max(scored, key=lambda item: item[0])
    message = (
        f"{error.message} Closest known export: {closest.label.get('en', closest.name)} "
        f"({score} of its columns found); try --preset {closest.name}."
    )
    return IngestError(message, code=error.code, extra={**error.extra, "closest": closest.name})


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
    preset: Preset | None = None,
) -> ImportReport:
    started = time.perf_counter()
    kind = mapping.kind
    header = tuple(reader.info.column_names) if reader is not None else ()
    date_format = DateFormatHolder(options.date_format, explicit=options.date_format is not None)
    rejects = _RejectsWriter(options.rejects, header) if options.rejects else None
    summary = ReadSummary()
    prepare = _preparer(kind, mapping, preset)
    status_of = preset.status_of if preset is not None else generic_status
    if reader is not None:
        results = read_in_background(
            reader,
            mapping,
            tz=settings.TIME_ZONE,
            date_format=date_format,
            prepare=prepare,
            summary=summary,
            status_of=status_of,
            trailers=TrailerCut(trailer_pattern(preset.trailers if preset else ())),
            fill_down=_fill_down(mapping, preset),
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
            sink = _make_sink(kind, mapping, options, preset)
            for result in results:
                report.read += result.read
                report.skipped += result.skipped
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
            report.skipped += summary.skipped
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


_ORDER_LEVEL_FIELDS = (
    "customer_id",
    "ordered_at",
    "amount",
    "cost",
    "store",
    "channel",
    "status",
    "refund",
    "paid_at",
    "original_order_id",
)


def _fill_down(mapping: ColumnMapping, preset: Preset | None) -> FillDown | None:
    if preset is None or not preset.fill_down or not mapping.has("order_id"):
        return None
    columns = [mapping.columns[f] for f in _ORDER_LEVEL_FIELDS if mapping.has(f)]
    return FillDown(mapping.columns["order_id"], columns)


def _preparer(kind: EntityKind, mapping: ColumnMapping, preset: Preset | None) -> Prepare:
    """The pure step that turns validated columns into what the sink writes."""
    if kind is EntityKind.TRANSACTIONS:
        return functools.partial(_stage_prepare, item_lines=mapping.is_item_lines, preset=preset)
    return _records_prepare


def _stage_prepare(
    columns: dict[str, pa.Array], lines: np.ndarray, *, item_lines: bool, preset: Preset | None
) -> pa.Table:
    return stage_table(columns, lines, item_lines=item_lines, preset=preset)


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
    def __init__(
        self, mapping: ColumnMapping, options: ImportOptions, preset: Preset | None = None
    ) -> None:
        self.mapping = mapping
        self.options = options
        self.item_lines = mapping.is_item_lines
        self.reading = "order lines" if self.item_lines else "orders"
        self.stage = TransactionStage(
            stage_columns(mapping, preset=preset),
            order_total_repeated=bool(preset and preset.order_total_repeated),
        )
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


def stage_columns(mapping: ColumnMapping, *, preset: Preset | None = None) -> tuple[str, ...]:
    """The stage columns a file with this mapping fills."""
    columns = ["line", "customer_ext", "ordered_at", "ordered_on", "amount_cents"]
    if mapping.has("order_id") or mapping.is_item_lines:
        columns.append("order_key")
    else:
        columns.append("row_key")
    if mapping.is_item_lines:
        columns.append("sku")
        if mapping.has("unit_price") and mapping.has("quantity"):
            columns.append("line_amount_cents")
    columns += [c for f, c in _OPTIONAL_STAGE_COLUMNS.items() if mapping.has(f)]
    if mapping.has("status"):
        columns.append("raw_status")
    if preset is not None:  # statuses come from the preset's rules even without a column
        columns += ["status", "raw_status"]
    if mapping.has("refund"):  # refunds become returns linked to their order
        columns += ["status", "original_key"]
    return tuple(dict.fromkeys(columns))


def stage_table(
    columns: dict[str, pa.Array],
    lines: np.ndarray,
    *,
    item_lines: bool,
    preset: Preset | None = None,
) -> pa.Table:
    """Validated typed columns -> the staging table's columns.

    Refunds become return rows (``<order>-refund``, negative, linked to the order); an
    amount net of refunds (Taobao) is grossed up first so the two net out to what was kept.
    """
    n = len(lines)
    nulls = pa.nulls(n, pa.string())
    amount = columns["amount"]
    raw_status = pc.fill_null(columns.get("raw_status", nulls), "")
    status = columns.get("status")
    status = (
        pc.fill_null(status, "completed")
        if status is not None
        else pa.array(["completed"] * n, pa.string())
    )
    if preset is not None:
        status = _preset_statuses(status, raw_status, columns, preset)
    if preset is not None and preset.refund_row_statuses:
        refund_rows = pc.is_in(raw_status, pa.array(list(preset.refund_row_statuses)))
        amount = pc.if_else(refund_rows, pa.scalar(0, amount.type), amount)
    # A return is stored with a negative amount, whatever sign the file used.
    is_return = pc.equal(status, "returned")
    amount = pc.if_else(is_return, pc.negate(pc.abs(amount)), amount)
    cost = columns.get("cost")
    if cost is not None:
        cost = pc.if_else(is_return, pc.negate(pc.abs(cost)), cost)
    refund = columns.get("refund")
    if refund is not None:
        refund = pc.fill_null(pc.abs(refund), pa.scalar(0, amount.type))
        if preset is not None and preset.amount_net_of_refund:
            amount = pc.add(amount, refund)
        fully = pc.and_(pc.greater(refund, 0), pc.greater_equal(refund, amount))
        fully = pc.and_(fully, pc.is_in(status, pa.array(["completed", "open"])))
        status = pc.if_else(fully, "refunded", status)
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
    ordered_at = columns["ordered_at"]
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
        "raw_status": raw_status,
        "original_key": columns.get("original_order_id", nulls),
        "sku": sku if sku is not None else nulls,
        "product_name": columns.get("product_name", nulls),
        "category": columns.get("category", nulls),
        "quantity": pc.cast(quantity, pa.float64())
        if quantity is not None
        else pa.nulls(n, pa.float64()),
        "line_amount_cents": _line_cents(columns.get("unit_price"), quantity, n),
    }
    table = pa.table({name: data[name] for name in STAGE_COLUMN_NAMES})
    if refund is None or order_key is nulls:
        return table
    refunded = pc.greater(refund, 0)
    if not pc.any(refunded).as_py():
        return table
    returns = table.filter(refunded)
    k = returns.num_rows
    keys = returns["order_key"].combine_chunks()
    replace_columns = {
        "order_key": pc.binary_join_element_wise(keys, pa.scalar("-refund"), ""),
        "amount_cents": pc.negate(cents(refund.filter(refunded))),
        "cost_cents": pa.nulls(k, pa.int64()),
        "status": pa.array(["returned"] * k, pa.string()),
        "raw_status": pa.array([""] * k, pa.string()),
        "original_key": keys,
    }
    for name, values in replace_columns.items():
        returns = returns.set_column(returns.schema.get_field_index(name), name, values)
    return pa.concat_tables([table, returns])


def _line_cents(unit_price: pa.Array | None, quantity: pa.Array | None, n: int) -> pa.Array:
    """A line's amount from its unit price and quantity, when the file gives both."""
    if unit_price is None or quantity is None:
        return pa.nulls(n, pa.int64())
    price = cents(unit_price)
    return pc.cast(
        pc.round(pc.multiply(pc.cast(price, pa.float64()), pc.cast(quantity, pa.float64()))),
        pa.int64(),
    )


def _preset_statuses(
    status: pa.Array, raw_status: pa.Array, columns: dict[str, pa.Array], preset: Preset
) -> pa.Array:
    """A preset's rules on top of its status table: unpaid when not paid, another status
    for the same text once paid (Taobao's 交易关闭 after payment is a refund)."""
    paid_field = preset.unpaid_when_blank
    if paid_field is None or paid_field not in columns:
        return status
    paid = pc.is_valid(columns[paid_field])
    for text, when_paid in preset.statuses_when_paid.items():
        status = pc.if_else(pc.and_(paid, pc.equal(raw_status, text)), when_paid, status)
    unpaid = pc.and_(pc.invert(paid), pc.is_in(status, pa.array(["completed", "open"])))
    return pc.if_else(unpaid, "unpaid", status)


def _make_sink(  # type: ignore[no-untyped-def]
    kind: EntityKind, mapping: ColumnMapping, options: ImportOptions, preset: Preset | None
):
    if kind is EntityKind.TRANSACTIONS:
        return _TransactionSink(mapping, options, preset)
    if kind is EntityKind.CUSTOMERS:
        return CustomerUpserter(mapping, source=options.source)
    return ProductUpserter(mapping)
