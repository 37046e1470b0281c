"""Transactions for an analysis from a file, with the importer's reading and validation.

No Django here: ``patron analyze --source FILE`` reads the file with
:func:`patron.ingest.reading.open_table`, maps its columns with
:func:`~patron.ingest.mapping.resolve_columns` and validates every batch with
:func:`~patron.ingest.validation.validate_batch`, exactly as ``patron import transactions``
does, then hands the good rows to DuckDB (in memory, through Arrow) as an Ibis table in the
input contract of :mod:`patron.analytics.summary`.

What each row becomes, as in the store after an import:

- ``order_date``: the business date of the row's time in the shop's time zone;
- ``amount`` and ``cost``: exact cents; a row with status "returned" is a return and its
  amount (and cost) are made negative, whatever sign the file used; a negative amount on a
  completed row is a return too; cancelled rows are left out;
- ``order_id``: the file's order id; without one, item lines (files with product columns)
  of one customer at one time form one order, and otherwise every row is an order.

Large files are validated on two processes (the validation is column-wise Arrow work, but
Python-bound between kernels); the first batch is validated first so that the detected date
format is the same for the whole file.

Parquet files whose columns DuckDB reads natively take a set-based path instead
(:mod:`patron.insights.parquet_fast`): DuckDB reads the file and sorts every row, in one pass, into
*plain* rows, whose cells are in a form for which the importer's result is known in closed
form (an id that starts and ends with a letter or digit and is no placeholder and no
scientific notation, an amount that is a whole number of cents, a date on a day without a
time-zone transition, a known status), and the *rest*. The rest (normally nothing) goes
through the importer's own reader conversion and :func:`validate_batch`, batch by batch as
the text path would have read it, so bad rows are reported with the same lines, columns,
values and messages, and odd but valid cells are read as an import reads them. The plain rows
never leave DuckDB: the analysis reads them through a view over the file. Anything the
closed forms do not cover (other typed fields, item lines without an order id, an explicit
date format that differs from the column's) takes the text path.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from patron.core.errors import PatronError
from patron.ingest import cleaning
from patron.ingest.mapping import (
    ColumnMapping,
    EntityKind,
    known_column_names,
    resolve_columns,
)
from patron.ingest.reading import RawBatch, open_table
from patron.ingest.reading.types import SourceFormat
from patron.ingest.validation import (
    DateFormatHolder,
    RowError,
    validate_batch,
)

__all__ = ["FileTransactions", "read_transactions_file", "time_zone"]

MAX_REPORTED_ERRORS = 1000
PARALLEL_MIN_BYTES = 4 * 1024 * 1024
REJECTED_ROWS = (
    "{rejected:,} of {read:,} rows of {name} are not valid transactions; nothing was "
    "analysed. Fix them, or use --skip-bad to analyse the good rows."
)
NO_ROWS = "{name} has no valid transaction rows."

#: Columns of the Arrow table handed to DuckDB.
ARROW_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("order_date", pa.date32()),
        ("order_id", pa.string()),
        ("amount_cents", pa.int64()),
        ("cost_cents", pa.int64()),
        ("is_return", pa.bool_()),
    ]
)


class AnalysisSourceError(PatronError):
    """The file has rows that are not valid transactions."""

    default_code = "insights.invalid_rows"


def time_zone() -> str:
    """The shop's time zone without Django settings: ``PATRON_TIME_ZONE`` or Asia/Shanghai."""
    return os.environ.get("PATRON_TIME_ZONE", "Asia/Shanghai")


@dataclass
class FileTransactions:
    """Validated transactions of a file and what reading it found.

    The good rows are either an Arrow ``table`` (the text path) or, for a Parquet file read
    set-based, a view on an in-memory DuckDB connection (``table`` then materialises it on
    demand); :meth:`ibis_table` gives them to the analysis either way.
    """

    path: Path
    table_: pa.Table | None = None
    read: int = 0
    rejected: int = 0
    cancelled: int = 0
    errors: list[RowError] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    reading: str = "orders"
    date_format: str | None = None
    encoding: str | None = None
    has_order_id: bool = True
    rows: int = 0
    duckdb: Any = field(default=None, repr=False)  # ibis DuckDB backend holding the view

    @property
    def table(self) -> pa.Table:
        """The good rows in :data:`ARROW_SCHEMA` (materialised from DuckDB when read there)."""
        if self.table_ is None:
            self.table_ = (
                self.duckdb.con.sql(
                    f"SELECT customer_id, order_date, {'order_id' if self.has_order_id else 'NULL'}"
                    " AS order_id, amount_cents, cost_cents, is_return FROM patron_transactions"
                )
                .to_arrow_table()
                .cast(ARROW_SCHEMA)
            )
        return self.table_

    def ibis_table(self) -> Any:
        """The rows as an Ibis table on an in-memory DuckDB, in the analytics input contract.

        Without an order id in the file (and no item lines) the table has no ``order_id``
        column: every row is an order, which the summary counts without a distinct count.
        """
        con = self.duckdb
        if con is None:
            con = duckdb_backend()
            con.con.register("patron_transactions", self.table_)
        return in_contract(
            con.table("patron_transactions"),
            has_order_id=self.has_order_id,
            has_cost="cost" in self.columns,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "read": self.read,
            "rejected": self.rejected,
            "cancelled": self.cancelled,
            "rows": self.rows,
            "reading": self.reading,
            "columns": self.columns,
            "date_format": self.date_format,
            "encoding": self.encoding,
            "errors": [e.as_dict() for e in self.errors[:20]],
        }


def in_contract(t: Any, *, has_order_id: bool, has_cost: bool = True) -> Any:
    """A table in cents (``customer_id``, ``order_date``, ``amount_cents``, ``cost_cents``,
    ``is_return``, and ``order_id`` when ``has_order_id``) as the analytics input contract.

    Without ``has_cost`` (the file has no cost column) the contract's optional ``cost`` is
    left out, so the summary does not aggregate a column of nulls."""
    columns = {
        "customer_id": t.customer_id,
        "order_date": t.order_date,
        "amount": t.amount_cents.cast("float64") / 100,
        "is_return": t.is_return,
    }
    if has_cost:
        columns["cost"] = t.cost_cents.cast("float64") / 100
    if has_order_id:
        columns["order_id"] = t.order_id
    return t.select(**columns)


def duckdb_backend() -> Any:
    """An in-memory DuckDB for one analysis, its memory bounded by ``PATRON_DUCKDB_MEMORY``."""
    import ibis

    con = ibis.duckdb.connect()
    con.raw_sql("SET enable_progress_bar = false")
    # Bounds DuckDB's share of the peak (the aggregation spills beyond it).
    con.raw_sql(f"SET memory_limit = '{os.environ.get('PATRON_DUCKDB_MEMORY', '1GB')}'")
    return con


@dataclass
class _BatchOut:
    table: pa.Table
    read: int
    rejected: int
    cancelled: int
    errors: list[RowError]


def _cents(values: pa.Array) -> pa.Array:
    """decimal(14, 2) amounts -> exact integer cents."""
    scaled = pc.multiply(pc.cast(values, pa.decimal128(18, 2)), pa.scalar(100, pa.decimal128(5, 0)))
    return pc.cast(scaled, pa.int64())


def _convert(columns: dict[str, pa.Array], mapping: ColumnMapping, tz: str) -> tuple[pa.Table, int]:
    """Validated typed columns -> the analysis columns; returns the table and the cancelled."""
    n = len(columns["customer_id"])
    status = columns.get("status")
    if status is not None:
        status = pc.fill_null(status, "completed")
        keep = pc.not_equal(status, "cancelled")
        cancelled = n - pc.sum(pc.cast(keep, pa.int64())).as_py() if n else 0
        if cancelled:
            columns = {name: array.filter(keep) for name, array in columns.items()}
            status = status.filter(keep)
            n -= cancelled
        returned = pc.equal(status, "returned")
    else:
        cancelled = 0
        returned = None
    amount = _cents(columns["amount"])
    cost = _cents(columns["cost"]) if "cost" in columns else pa.nulls(n, pa.int64())
    if returned is not None:
        amount = pc.if_else(returned, pc.negate(pc.abs(amount)), amount)
        cost = pc.if_else(returned, pc.negate(pc.abs(cost)), cost)
        is_return = pc.if_else(returned, True, pa.scalar(None, pa.bool_()))
    else:
        is_return = pa.nulls(n, pa.bool_())
    ordered_at = columns["ordered_at"]
    if "order_id" in columns:
        order_id = columns["order_id"]
    elif mapping.is_item_lines:  # the lines of one customer at one time are one purchase
        order_id = pc.binary_join_element_wise(
            columns["customer_id"], pc.cast(ordered_at, pa.string()), "\x1f"
        )
    else:
        order_id = pa.nulls(n, pa.string())
    table = pa.table(
        [
            columns["customer_id"],
            cleaning.local_dates(ordered_at, tz),
            order_id,
            amount,
            cost,
            is_return,
        ],
        schema=ARROW_SCHEMA,
    )
    return table, cancelled


def _validate(
    batch: RawBatch, mapping: ColumnMapping, tz: str, date_format: DateFormatHolder
) -> _BatchOut:
    validated = validate_batch(batch, mapping, tz=tz, date_format=date_format)
    if validated.good.any():
        table, cancelled = _convert(validated.good_columns(), mapping, tz)
    else:
        table, cancelled = ARROW_SCHEMA.empty_table(), 0
    return _BatchOut(
        table=table,
        read=len(batch.lines),
        rejected=int((~validated.good).sum()),
        cancelled=cancelled,
        errors=validated.errors[:MAX_REPORTED_ERRORS],
    )


def _validate_fixed(
    batch: RawBatch, mapping: ColumnMapping, tz: str, fmt: str | None
) -> _BatchOut:  # in a worker process
    return _validate(batch, mapping, tz, DateFormatHolder(fmt, explicit=True))


def _results(
    batches: Iterator[RawBatch],
    mapping: ColumnMapping,
    tz: str,
    date_format: DateFormatHolder,
    *,
    workers: int,
) -> Iterator[_BatchOut]:
    first = next(batches, None)
    if first is None:
        return
    yield _validate(first, mapping, tz, date_format)  # fixes the date format for the file
    if workers <= 1:
        for batch in batches:
            yield _validate(batch, mapping, tz, date_format)
        return
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending: deque[Future[_BatchOut]] = deque()
        for batch in batches:
            pending.append(pool.submit(_validate_fixed, batch, mapping, tz, date_format.fmt))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def tally(out: FileTransactions, result: _BatchOut, tables: list[pa.Table]) -> None:
    """Count a validated batch into ``out`` (errors up to the reported maximum) and keep its
    good rows in ``tables``."""
    out.read += result.read
    out.rejected += result.rejected
    out.cancelled += result.cancelled
    room = MAX_REPORTED_ERRORS - len(out.errors)
    if room > 0:
        out.errors.extend(result.errors[:room])
    if result.table.num_rows:
        tables.append(result.table)


def read_transactions_file(
    path: str | Path,
    *,
    mapping: Mapping[str, str] | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
    date_format: str | None = None,
    skip_bad: bool = False,
    tz: str | None = None,
    workers: int | None = None,
    batch_rows: int = 250_000,
    progress: Callable[[int], None] | None = None,
) -> FileTransactions:
    """Read and validate a transaction file for an analysis (no database).

    Raises
    ------
    IngestError
        The file cannot be read or lacks a required column.
    AnalysisSourceError
        Some rows are invalid (and ``skip_bad`` is off), or no row is valid.
    """
    path = Path(path)
    tz = tz or time_zone()
    if workers is None:
        big = path.stat().st_size >= PARALLEL_MIN_BYTES if path.is_file() else False
        workers = min(2, os.cpu_count() or 1) if big and os.name == "posix" else 1
    reader = open_table(
        path,
        encoding=encoding,
        delimiter=delimiter,
        sheet=sheet,
        known_columns=known_column_names(EntityKind.TRANSACTIONS),
        batch_rows=batch_rows,
    )
    columns = resolve_columns(reader.info.header, EntityKind.TRANSACTIONS, mapping)
    holder = DateFormatHolder(date_format, explicit=date_format is not None)
    out = FileTransactions(
        path=path,
        columns=dict(columns.columns),
        reading="order lines" if columns.is_item_lines else "orders",
        encoding=reader.info.encoding,
        has_order_id="order_id" in columns.columns or columns.is_item_lines,
    )
    if reader.info.format is SourceFormat.PARQUET:
        from patron.insights import parquet_fast

        backend = duckdb_backend()
        plan = parquet_fast.parquet_plan(
            backend, reader, columns, holder, tz=tz, batch_rows=batch_rows
        )
        if plan is not None:
            return parquet_fast.read_parquet_fast(
                backend,
                plan,
                out,
                reader,
                tz=tz,
                skip_bad=skip_bad,
                workers=workers,
                progress=progress,
            )
    tables: list[pa.Table] = []
    for result in _results(reader.batches(), columns, tz, holder, workers=workers):
        tally(out, result, tables)
        if progress is not None:
            progress(out.read)
    for problem in reader.problems:
        out.rejected += 1
        out.errors.append(RowError(problem.line, "", None, problem.message))
    out.errors.sort(key=lambda e: e.line)
    out.date_format = holder.fmt
    if out.rejected and not skip_bad:
        raise AnalysisSourceError(
            REJECTED_ROWS.format(rejected=out.rejected, read=out.read, name=path.name),
            extra={"errors": [e.as_dict() for e in out.errors[:20]]},
        )
    if not tables:
        raise AnalysisSourceError(NO_ROWS.format(name=path.name))
    out.table_ = pa.concat_tables(tables)
    out.rows = out.table_.num_rows
    return out
