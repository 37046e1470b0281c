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
(:func:`_read_parquet_fast`): DuckDB reads the file and sorts every row, in one pass, into
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

import datetime as dt
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from patron.core.errors import PatronError
from patron.ingest import cleaning
from patron.ingest.mapping import (
    FIELDS,
    MAX_LENGTHS,
    ColumnMapping,
    EntityKind,
    ValueKind,
    known_column_names,
    resolve_columns,
)
from patron.ingest.reading import RawBatch, open_table
from patron.ingest.reading.base import TableReader
from patron.ingest.reading.types import SourceFormat
from patron.ingest.validation import (
    DateFormatHolder,
    RowError,
    _resolve_date_format,
    _status,
    generic_status,
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
        return in_contract(con.table("patron_transactions"), has_order_id=self.has_order_id)

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


def in_contract(t: Any, *, has_order_id: bool) -> Any:
    """A table in cents (``customer_id``, ``order_date``, ``amount_cents``, ``cost_cents``,
    ``is_return``, and ``order_id`` when ``has_order_id``) as the analytics input contract."""
    columns = {
        "customer_id": t.customer_id,
        "order_date": t.order_date,
        "amount": t.amount_cents.cast("float64") / 100,
        "cost": t.cost_cents.cast("float64") / 100,
        "is_return": t.is_return,
    }
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
        backend = duckdb_backend()
        plan = _parquet_plan(backend, reader, columns, holder, tz=tz, batch_rows=batch_rows)
        if plan is not None:
            return _read_parquet_fast(
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
        out.read += result.read
        out.rejected += result.rejected
        out.cancelled += result.cancelled
        room = MAX_REPORTED_ERRORS - len(out.errors)
        if room > 0:
            out.errors.extend(result.errors[:room])
        if result.table.num_rows:
            tables.append(result.table)
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


# --- Parquet, set-based -------------------------------------------------------------------
#
# Each closed form below states when the importer's text path (the Parquet reader's
# ``_column_text`` followed by ``validate_batch``) accepts a cell and what it makes of it;
# tests/insights/test_parquet_fast.py checks them against that path. A row is *plain* when
# every mapped cell is; the other rows take the text path itself.

_SAFE_YEARS = (dt.date(1900, 1, 1), dt.date(2999, 12, 31))
_INTEGER_TYPES = frozenset(
    {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"}
)
_TIMESTAMP_TYPES = frozenset({"TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS"})
#: The date format the importer detects in the text the Parquet reader makes of the type.
_TYPE_DATE_FORMAT = {"DATE": "%Y-%m-%d", **{t: "%Y-%m-%d %H:%M:%S" for t in _TIMESTAMP_TYPES}}
# clean_text leaves a cell alone when it neither starts nor ends with whitespace or a
# spreadsheet wrapper and is no placeholder; a letter, digit or underscore at both ends
# ensures the first two. Placeholders that pass that test:
_WORD_PLACEHOLDERS = ("null", "NULL", "Null", "N/A", "n/a", "无退款申请")
_PLAIN_TEXT_RE = r"(?s)[\p{L}\p{N}_](.*[\p{L}\p{N}_])?"
_SCIENTIFIC_RE = r"[+-]?[0-9]+(?:[.,][0-9]+)?[eE][+-]?[0-9]+"  # cleaning.text._SCIENTIFIC
_PLAIN_AMOUNT_RE = r"-?[0-9]{1,9}(\.[0-9]{1,2})?"
#: Fields the set-based path reads; any other mapped field must be free text (never invalid).
_FAST_FIELDS = frozenset({"customer_id", "order_id", "ordered_at", "amount", "cost", "status"})
_MAX_STATUS_VALUES = 1000
_DAY_US = 86_400_000_000


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _in_list(column: str, values: list[str]) -> str:
    if not values:
        return "FALSE"
    return f"{column} IN ({', '.join(_literal(v) for v in values)})"


@dataclass
class _Plan:
    """SQL for the plain rows of a Parquet file and how to read the rest."""

    source: str  # read_parquet(...) with file_row_number
    columns: ColumnMapping
    date_type: str
    date_format: str
    customer_id: str  # text expressions
    order_id: str | None
    order_date: str
    amount_cents: str
    cost_cents: str
    status: str  # 'completed', 'returned' or 'cancelled'
    plain: list[str]  # conditions, all true on a plain row
    batch_rows: int
    unsafe_days: str = "FALSE"  # set once the dates are seen

    def plain_sql(self) -> str:
        return " AND ".join([*self.plain, f"NOT ({self.unsafe_days})"])


def _id_sql(
    column: str, kind: str, *, required: bool, max_length: int | None = None
) -> tuple[str, str] | None:
    """(text, plain condition) of an identifier column, None when its type is not covered.

    An id longer than the store keeps (``max_length``) is not plain: the importer's
    validation rejects it."""
    if kind == "VARCHAR":
        limit = f"length({column}) <= {int(max_length)} AND " if max_length else ""
        plain = (
            f"({limit}regexp_full_match({column}, {_literal(_PLAIN_TEXT_RE)}) AND NOT "
            f"{_in_list(column, list(_WORD_PLACEHOLDERS))} AND NOT "
            f"regexp_full_match({column}, {_literal(_SCIENTIFIC_RE)}))"
        )
        text = column
    elif kind in _INTEGER_TYPES:  # digits, perhaps a minus: never a placeholder or wrapped
        plain, text = "TRUE", f"CAST({column} AS VARCHAR)"
    else:
        return None
    if required:
        return text, f"({column} IS NOT NULL AND {plain})"
    return text, f"({column} IS NULL OR {plain})"


def _cents_sql(column: str, kind: str, *, required: bool) -> tuple[str, str] | None:
    """(integer cents, plain condition) of an amount column, None when not covered.

    The text of a double is its shortest representation, plain decimal below 1e10 and down
    to 1e-6; parse_amount rounds that decimal half away from zero. A double within 1e-6 of a
    whole number of cents, at least a cent and below 1e9, therefore gives that number of
    cents, whatever the shortest representation is; other doubles take the text path.
    """
    if kind == "DOUBLE":
        plain = (
            f"(isfinite({column}) AND abs({column}) < 1e9 AND ({column} = 0 OR "
            f"abs({column}) >= 0.005) AND abs({column} * 100 - round({column} * 100)) <= 1e-6)"
        )
        cents = f"CAST(round({column} * 100) AS BIGINT)"
    elif kind.startswith("DECIMAL"):  # exact; more than two decimals take the text path
        plain = f"(abs({column}) < 1e9 AND floor({column} * 100) = {column} * 100)"
        cents = f"CAST({column} * 100 AS BIGINT)"
    elif kind in _INTEGER_TYPES:
        plain = f"(abs(CAST({column} AS DOUBLE)) < 1e9)"
        cents = f"CAST({column} AS BIGINT) * 100"
    elif kind == "VARCHAR":
        plain = f"regexp_full_match({column}, {_literal(_PLAIN_AMOUNT_RE)})"
        cents = f"CAST(CAST({column} AS DECIMAL(18, 2)) * 100 AS BIGINT)"
    else:
        return None
    guarded = f"CASE WHEN {plain} THEN {cents} END"
    if required:
        return guarded, f"({column} IS NOT NULL AND {plain})"
    return guarded, f"({column} IS NULL OR {plain})"


def _first_batch(path: Path, column: str, batch_rows: int) -> pa.Array | None:
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as parquet:
        for batch in parquet.iter_batches(batch_size=batch_rows, columns=[column]):
            return batch.column(0)
    return None


def _parquet_plan(
    backend: Any,
    reader: TableReader,
    columns: ColumnMapping,
    holder: DateFormatHolder,
    *,
    tz: str,
    batch_rows: int,
) -> _Plan | None:
    """The SQL for the set-based path, or None when the text path must read the file."""
    import pyarrow.parquet as pq

    from patron.ingest.cleaning import clean_text
    from patron.ingest.reading.parquet import _column_text

    info = reader.info
    specs = {f.name: f for f in FIELDS[EntityKind.TRANSACTIONS]}
    for name in columns.columns:
        if name not in _FAST_FIELDS and (
            specs[name].kind is not ValueKind.TEXT or specs[name].required
        ):
            return None
    if columns.is_item_lines and "order_id" not in columns.columns:
        return None
    with pq.ParquetFile(info.path) as parquet:
        stored = list(parquet.schema_arrow.names)
    written = list(info.header)
    folded = [n.casefold() for n in stored]
    if (
        len(set(written)) != len(written)
        or len(set(folded)) != len(folded)
        or "file_row_number" in folded
    ):
        return None
    con = backend.con
    path_sql = _literal(str(info.path))
    described = con.execute(f"DESCRIBE SELECT * FROM read_parquet({path_sql})").fetchall()
    if [row[0] for row in described] != stored:
        return None
    types = {row[0]: str(row[1]) for row in described}
    stored_of = dict(zip(written, stored, strict=True))

    def col(field_name: str) -> tuple[str, str]:
        name = stored_of[columns.columns[field_name]]
        return _quote(name), types[name]

    limits = MAX_LENGTHS[EntityKind.TRANSACTIONS]
    customer = _id_sql(*col("customer_id"), required=True, max_length=limits["customer_id"])
    order = (
        _id_sql(*col("order_id"), required=False, max_length=limits["order_id"])
        if "order_id" in columns.columns
        else None
    )
    amount = _cents_sql(*col("amount"), required=True)
    cost = _cents_sql(*col("cost"), required=False) if "cost" in columns.columns else None
    date_column, date_type = col("ordered_at")
    if (
        customer is None
        or amount is None
        or ("order_id" in columns.columns and order is None)
        or ("cost" in columns.columns and cost is None)
        or date_type not in _TYPE_DATE_FORMAT
    ):
        return None
    # The date format: given, or what the importer detects in the file's first batch.
    fmt = holder.fmt
    if fmt is None:
        first = _first_batch(info.path, stored_of[columns.columns["ordered_at"]], batch_rows)
        if first is None:
            return None
        sample = clean_text(_column_text(first)).drop_null().slice(0, 2000).to_pylist()
        fmt = _resolve_date_format(sample) if sample else None
    if fmt != _TYPE_DATE_FORMAT[date_type]:
        return None
    order_date = date_column if date_type == "DATE" else f"CAST({date_column} AS DATE)"
    low, high = (_literal(d.isoformat()) for d in _SAFE_YEARS)
    plain = [
        customer[1],
        amount[1],
        f"({date_column} IS NOT NULL AND {order_date} BETWEEN DATE {low} AND DATE {high})",
    ]
    if order is not None:
        plain.append(order[1])
    if cost is not None:
        plain.append(cost[1])
    status = "'completed'"
    if "status" in columns.columns:
        status_column, status_type = col("status")
        if status_type != "VARCHAR":
            return None
        distinct = con.sql(
            f"SELECT DISTINCT {status_column} FROM read_parquet({path_sql}) "
            f"LIMIT {_MAX_STATUS_VALUES + 1}"
        ).to_arrow_table()
        if distinct.num_rows > _MAX_STATUS_VALUES:
            return None
        raw = distinct.column(0).combine_chunks().cast(pa.string())
        parsed = _status(_column_text(raw), generic_status)
        values = raw.to_pylist()
        mapped = parsed.values.to_pylist()
        good = [
            v for v, bad in zip(values, parsed.invalid, strict=True) if v is not None and not bad
        ]
        plain.append(f"({status_column} IS NULL OR {_in_list(status_column, good)})")
        returned = [v for v, m in zip(values, mapped, strict=True) if v in good and m == "returned"]
        cancelled = [
            v for v, m in zip(values, mapped, strict=True) if v in good and m == "cancelled"
        ]
        status = (
            f"CASE WHEN {_in_list(status_column, returned)} THEN 'returned' "
            f"WHEN {_in_list(status_column, cancelled)} THEN 'cancelled' ELSE 'completed' END"
        )
    return _Plan(
        source=f"read_parquet({path_sql}, file_row_number = true)",
        columns=columns,
        date_type=date_type,
        date_format=fmt,
        customer_id=customer[0],
        order_id=order[0] if order is not None else None,
        order_date=order_date,
        amount_cents=amount[0],
        cost_cents=cost[0] if cost is not None else "CAST(NULL AS BIGINT)",
        status=status,
        plain=plain,
        batch_rows=batch_rows,
    )


def _unsafe_days(days: list[dt.date], tz: str) -> list[dt.date]:
    """Days on which the importer's time-zone round trip (wall time -> UTC -> local date)
    may not give the day back: where any offset it looks up for the day differs.

    ``parse_datetime`` gives every wall time of day ``d`` the offset at its start when that
    equals the offset at its end; ``local_dates`` does the same per UTC day of the instant,
    which lies in day ``d - 1``, ``d`` or ``d + 1``. When all those offsets agree the local
    date is ``d``; other days take the text path.
    """
    from patron.ingest.cleaning.dates import _offset_of_instant, _offset_of_wall, _zone

    zone = _zone(tz)
    epoch = dt.date(1970, 1, 1)
    instant: dict[int, int] = {}

    def at(day: int) -> int:
        if day not in instant:
            instant[day] = _offset_of_instant(zone, day * _DAY_US)
        return instant[day]

    unsafe = []
    for day in days:
        d = (day - epoch).days
        offsets = {
            _offset_of_wall(zone, d * _DAY_US),
            _offset_of_wall(zone, (d + 1) * _DAY_US),
            *(at(k) for k in range(d - 1, d + 3)),
        }
        if len(offsets) > 1:
            unsafe.append(day)
    return unsafe


def _batch_bounds(path: Path, batch_rows: int) -> np.ndarray:
    """Row index where each batch of the Parquet reader starts (and the end)."""
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as parquet:
        first = parquet.schema_arrow.names[0]
        sizes = [b.num_rows for b in parquet.iter_batches(batch_size=batch_rows, columns=[first])]
    return np.concatenate(([0], np.cumsum(sizes, dtype=np.int64)))


def _rest_batches(
    path: Path, reader: TableReader, rows: np.ndarray, batch_rows: int
) -> Iterator[RawBatch]:
    """The rows at ``rows`` (sorted file row indices) as the Parquet reader gives them:
    the same batches, the same text, blank rows dropped."""
    import pyarrow.parquet as pq

    from patron.ingest.reading.parquet import _column_text

    names = reader.info.column_names
    start = 0
    with pq.ParquetFile(path) as parquet:
        for record_batch in parquet.iter_batches(batch_size=batch_rows):
            n = record_batch.num_rows
            lo, hi = np.searchsorted(rows, [start, start + n])
            if hi > lo:
                take = pa.array(rows[lo:hi] - start)
                columns = {}
                for i, key in enumerate(names):
                    column = record_batch.column(i)
                    if pa.types.is_timestamp(column.type):  # its text depends on the batch
                        columns[key] = _column_text(column).take(take)
                    else:
                        columns[key] = _column_text(column.take(take))
                batch = reader._drop_blank(rows[lo:hi] + 2, columns)
                if len(batch):
                    yield batch
            start += n


def _read_parquet_fast(
    backend: Any,
    plan: _Plan,
    out: FileTransactions,
    reader: TableReader,
    *,
    tz: str,
    skip_bad: bool,
    workers: int,
    progress: Callable[[int], None] | None,
) -> FileTransactions:
    path = out.path
    con = backend.con
    low, high = (_literal(d.isoformat()) for d in _SAFE_YEARS)
    days = [
        row[0]
        for row in con.execute(
            f"SELECT DISTINCT {plan.order_date} FROM {plan.source} "
            f"WHERE {plan.order_date} BETWEEN DATE {low} AND DATE {high}"
        ).fetchall()
    ]
    unsafe = _unsafe_days(days, tz)
    if unsafe:
        dates = ", ".join(f"DATE {_literal(d.isoformat())}" for d in unsafe)
        plan.unsafe_days = f"{plan.order_date} IN ({dates})"
    plain = plan.plain_sql()
    order_id = f"{plan.order_id} AS order_id, " if plan.order_id is not None else ""
    # One pass over the file: the plain rows, converted, into memory (the analysis then
    # groups an in-memory table, not the file again); their count from the table; the
    # file's row count from its metadata.
    con.execute(
        f"CREATE TEMP TABLE patron_plain AS SELECT {plan.customer_id} AS customer_id, "
        f"{plan.order_date} AS order_date, {order_id}{plan.amount_cents} AS amount_cents, "
        f"{plan.cost_cents} AS cost_cents, {plan.status} AS patron_status "
        f"FROM {plan.source} WHERE {plain}"
    ).fetchall()
    total = con.execute(f"SELECT count(*) FROM {plan.source}").fetchall()[0][0]
    plain_rows, cancelled = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE patron_status = 'cancelled') FROM patron_plain"
    ).fetchall()[0]
    out.read = int(plain_rows)
    out.cancelled = int(cancelled)
    out.date_format = plan.date_format
    rest = None
    if plain_rows < total:
        rows = np.asarray(
            con.sql(
                f"SELECT file_row_number FROM {plan.source} WHERE NOT ({plain}) "
                "ORDER BY file_row_number"
            )
            .to_arrow_table()
            .column(0)
            .to_numpy(),
            dtype=np.int64,
        )
        holder = DateFormatHolder(plan.date_format, explicit=True)
        tables = []
        many = len(rows) >= 500_000
        for result in _results(
            _rest_batches(path, reader, rows, plan.batch_rows),
            plan.columns,
            tz,
            holder,
            workers=workers if many else 1,
        ):
            out.read += result.read
            out.rejected += result.rejected
            out.cancelled += result.cancelled
            room = MAX_REPORTED_ERRORS - len(out.errors)
            if room > 0:
                out.errors.extend(result.errors[:room])
            if result.table.num_rows:
                tables.append(result.table)
        out.errors.sort(key=lambda e: e.line)
        if tables:
            rest = pa.concat_tables(tables)
            con.register("patron_rest", rest)
    if progress is not None:
        progress(out.read)
    if out.rejected and not skip_bad:
        raise AnalysisSourceError(
            REJECTED_ROWS.format(rejected=out.rejected, read=out.read, name=path.name),
            extra={"errors": [e.as_dict() for e in out.errors[:20]]},
        )
    out.rows = int(plain_rows) - int(cancelled) + (rest.num_rows if rest is not None else 0)
    if not out.rows:
        raise AnalysisSourceError(NO_ROWS.format(name=path.name))
    returned = "patron_status = 'returned'"
    select = (
        f"SELECT customer_id, order_date, {'order_id, ' if order_id else ''}"
        f"CASE WHEN {returned} THEN -abs(amount_cents) ELSE amount_cents END AS amount_cents, "
        f"CASE WHEN {returned} THEN -abs(cost_cents) ELSE cost_cents END AS cost_cents, "
        f"CASE WHEN {returned} THEN TRUE END AS is_return FROM patron_plain "
        "WHERE patron_status <> 'cancelled'"
    )
    if rest is not None:
        select += (
            f" UNION ALL SELECT customer_id, order_date, {'order_id, ' if order_id else ''}"
            "amount_cents, cost_cents, is_return FROM patron_rest"
        )
    con.execute(f"CREATE TEMP VIEW patron_transactions AS {select}").fetchall()
    out.duckdb = backend
    return out
