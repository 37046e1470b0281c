"""The validated rows of a transaction file for an analysis: their table, batches and tally.

Shared by the text path (:mod:`patron.insights.sources`) and the Parquet fast path
(:mod:`patron.insights.parquet_fast`). What each row becomes is the import's rule
(:mod:`patron.ingest.rows`): the business date in the shop's time zone, exact cents, returns
negative, cancelled rows left out, item lines without an order id grouped by customer and time.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from patron.core.errors import PatronError
from patron.ingest.amount_check import amount_doubt
from patron.ingest.mapping import ColumnMapping
from patron.ingest.reading import RawBatch
from patron.ingest.rows import (
    CANCELLED,
    COMPLETED,
    RETURNED,
    business_dates,
    cents,
    purchase_identity,
    signed_by_status,
)
from patron.ingest.validation import DateFormatHolder, RowError, validate_batch

__all__ = [
    "ARROW_SCHEMA",
    "MAX_REPORTED_ERRORS",
    "NO_ROWS",
    "REJECTED_ROWS",
    "AnalysisSourceError",
    "BatchOut",
    "FileTransactions",
    "duckdb_backend",
    "in_contract",
    "tally",
    "time_zone",
    "validated_batches",
]

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
    #: How the rows were read and validated: "set-based" (Parquet in DuckDB, only the rows
    #: outside the closed forms through the import's batches) or "batches" (Arrow, column-wise
    #: per batch of rows).
    method: str = "batches"
    #: Rows the set-based path handed to the import's batch validation (0 on a clean file).
    rows_by_batch: int = 0
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
            "method": self.method,
            "rows_by_batch": self.rows_by_batch,
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
    """An in-memory DuckDB for one analysis, its memory bounded by ``PATRON_DUCKDB_MEMORY``.

    ``con`` is the DuckDB connection, there at once; every other attribute is the Ibis
    backend's on that connection, made on first use: reading a file set-based needs only
    the connection, and ``patron campaigns evaluate`` then never imports Ibis (~0.4 s)."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    # Bounds DuckDB's share of the peak (the aggregation spills beyond it).
    con.execute(f"SET memory_limit = '{os.environ.get('PATRON_DUCKDB_MEMORY', '1GB')}'")
    # What Ibis sets on a connection it makes (ibis.duckdb.connect), here from the start.
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET python_enable_replacements = false")
    return _IbisOnDemand(con)


class _IbisOnDemand:
    """A DuckDB connection (``con``) whose Ibis backend is made when first asked for."""

    def __init__(self, con: Any) -> None:
        self.con = con
        self._backend: Any = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "_backend":
            raise AttributeError(name)
        if self._backend is None:
            import ibis

            self._backend = ibis.duckdb.from_connection(self.con)
        return getattr(self._backend, name)


@dataclass
class BatchOut:
    table: pa.Table
    read: int
    rejected: int
    cancelled: int
    errors: list[RowError]


def _convert(columns: dict[str, pa.Array], mapping: ColumnMapping, tz: str) -> tuple[pa.Table, int]:
    """Validated typed columns -> the analysis columns; returns the table and the cancelled."""
    n = len(columns["customer_id"])
    status = columns.get("status")
    if status is not None:
        status = pc.fill_null(status, COMPLETED)
        keep = pc.not_equal(status, CANCELLED)
        cancelled = n - pc.sum(pc.cast(keep, pa.int64())).as_py() if n else 0
        if cancelled:
            columns = {name: array.filter(keep) for name, array in columns.items()}
            status = status.filter(keep)
            n -= cancelled
        returned = pc.equal(status, RETURNED)
    else:
        cancelled = 0
        returned = None
    amount = cents(columns["amount"])
    cost = cents(columns["cost"]) if "cost" in columns else pa.nulls(n, pa.int64())
    if returned is not None:
        amount = signed_by_status(amount, returned)
        cost = signed_by_status(cost, returned)
        is_return = pc.if_else(returned, True, pa.scalar(None, pa.bool_()))
    else:
        is_return = pa.nulls(n, pa.bool_())
    ordered_at = columns["ordered_at"]
    if "order_id" in columns:
        order_id = columns["order_id"]
    elif mapping.is_item_lines:  # the lines of one customer at one time are one purchase
        order_id = purchase_identity(columns["customer_id"], ordered_at)
    else:
        order_id = pa.nulls(n, pa.string())
    table = pa.table(
        [
            columns["customer_id"],
            business_dates(ordered_at, tz),
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
) -> BatchOut:
    validated = validate_batch(batch, mapping, tz=tz, date_format=date_format)
    if validated.good.any():
        table, cancelled = _convert(validated.good_columns(), mapping, tz)
    else:
        table, cancelled = ARROW_SCHEMA.empty_table(), 0
    return BatchOut(
        table=table,
        read=len(batch.lines),
        rejected=int((~validated.good).sum()),
        cancelled=cancelled,
        errors=validated.errors[:MAX_REPORTED_ERRORS],
    )


def _validate_fixed(
    batch: RawBatch, mapping: ColumnMapping, tz: str, fmt: str | None
) -> BatchOut:  # in a worker process
    return _validate(batch, mapping, tz, DateFormatHolder(fmt, explicit=True))


def validated_batches(
    batches: Iterator[RawBatch],
    mapping: ColumnMapping,
    tz: str,
    date_format: DateFormatHolder,
    *,
    workers: int,
) -> Iterator[BatchOut]:
    """The validated batches, in file order; the first one alone first (it fixes the date
    format for the file), the rest on ``workers`` processes."""
    first = next(batches, None)
    if first is None:
        return
    if (doubt := amount_doubt(mapping, first.columns)) is not None:
        raise doubt  # as the import asks: which column is the money?
    yield _validate(first, mapping, tz, date_format)  # fixes the date format for the file
    if workers <= 1:
        for batch in batches:
            yield _validate(batch, mapping, tz, date_format)
        return
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending: deque[Future[BatchOut]] = deque()
        for batch in batches:
            pending.append(pool.submit(_validate_fixed, batch, mapping, tz, date_format.fmt))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def tally(out: FileTransactions, result: BatchOut, tables: list[pa.Table]) -> None:
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
