"""Parquet, set-based: the rows DuckDB can validate in closed form, without the text path.

The closed forms (:mod:`patron.insights.parquet_forms`) state when the importer's text path
(the Parquet reader's ``column_text`` followed by ``validate_batch``) accepts a cell and what
it makes of it; tests/insights/test_parquet_fast.py checks them against that path. A row is
*plain* when every mapped cell is; the other rows take the text path itself (see
:mod:`patron.insights.sources`, whose :func:`~patron.insights.sources.read_transactions_file`
calls :func:`parquet_plan` and :func:`read_parquet_fast`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa

from patron.ingest.amount_check import amount_doubt, amount_in_doubt
from patron.ingest.cleaning.transition_days import unsafe_days
from patron.ingest.date_columns import DATE_SAMPLE, detect_column_date_format
from patron.ingest.errors import IngestError
from patron.ingest.mapping import (
    FIELDS,
    MAX_LENGTHS,
    ColumnMapping,
    EntityKind,
)
from patron.ingest.reading.base import TableReader
from patron.ingest.rows import CANCELLED, COMPLETED, RETURNED, signed_sql
from patron.ingest.validation import DateFormatHolder, generic_status, parse_status
from patron.insights.file_rows import (
    NO_ROWS,
    REJECTED_ROWS,
    AnalysisSourceError,
    FileTransactions,
    tally,
    validated_batches,
)
from patron.insights.parquet_forms import (
    SAFE_YEARS,
    TYPE_DATE_FORMAT,
    cents_sql,
    id_sql,
    in_list,
    literal,
    other_field_sql,
    quick_id_plain,
    quote,
)
from patron.insights.parquet_rest import fraction_shown, rest_batches


def _safe_days(tz: str) -> tuple[str, str]:
    """The days whose rows are plain: strictly inside the importer's plausible window for
    order dates (``order_date_window``) and :data:`SAFE_YEARS`; the days at its edges and
    beyond take the text path, which rejects what falls outside, exactly."""
    from patron.ingest.cleaning.dates import order_date_window

    zone = ZoneInfo(tz)
    first, last = order_date_window(tz)
    low = max(SAFE_YEARS[0], first.astimezone(zone).date() + dt.timedelta(days=1))
    high = min(SAFE_YEARS[1], last.astimezone(zone).date() - dt.timedelta(days=1))
    return literal(low.isoformat()), literal(high.isoformat())


_NO_COST = "CAST(NULL AS BIGINT)"
_COMPLETED = f"'{COMPLETED}'"
_FAST_FIELDS = frozenset({"customer_id", "order_id", "ordered_at", "amount", "cost", "status"})
_MAX_STATUS_VALUES = 1000


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
    quick_ids: str = "TRUE"  # implies the ids' conditions of plain, without a regex
    unsafe_days: str = "FALSE"  # set once the dates are seen
    quick_ids_at: tuple[int, ...] = ()  # where plain has the ids' conditions

    def plain_sql(self) -> str:
        return " AND ".join([*self.plain, f"NOT ({self.unsafe_days})"])

    def quick_sql(self) -> str:
        """A condition that implies :meth:`plain_sql`: the ids' conditions of plain replaced
        by :attr:`quick_ids` (see :func:`read_parquet_fast`)."""
        kept = [c for i, c in enumerate(self.plain) if i not in self.quick_ids_at]
        return " AND ".join([self.quick_ids, *kept, f"NOT ({self.unsafe_days})"])


def _detected_format(first: pa.Array) -> str | None:
    """The date format validate_batch detects in the text of the first batch's date column.

    Detection reads the first :data:`DATE_SAMPLE` cells that are not empty (and the whole
    column only when they read two ways, which ISO text never does): without fractions of a
    second, a typed cell's text does not depend on its batch, so only those cells are
    spelled (strftime over a whole batch of timestamps was most of the plan's time)."""
    from patron.ingest.reading.parquet import column_text

    if not fraction_shown(first):
        sample = first.drop_null().slice(0, DATE_SAMPLE)
        try:
            return detect_column_date_format(column_text(sample))
        except IngestError:
            pass  # asked of the whole column below, as validate_batch asks it
    return detect_column_date_format(column_text(first))


def _first_batch(path: Path, column: str, batch_rows: int) -> pa.Array | None:
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as parquet:
        for batch in parquet.iter_batches(batch_size=batch_rows, columns=[column]):
            return batch.column(0)
    return None


def parquet_plan(
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

    from patron.ingest.reading.parquet import column_text

    info = reader.info
    if columns.customer_key is not None:  # customers derived from other fields
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
    path_sql = literal(str(info.path))
    described = con.execute(f"DESCRIBE SELECT * FROM read_parquet({path_sql})").fetchall()
    if [row[0] for row in described] != stored:
        return None
    types = {row[0]: str(row[1]) for row in described}
    stored_of = dict(zip(written, stored, strict=True))

    def col(field_name: str) -> tuple[str, str]:
        name = stored_of[columns.columns[field_name]]
        return quote(name), types[name]

    limits = MAX_LENGTHS[EntityKind.TRANSACTIONS]
    customer = id_sql(*col("customer_id"), required=True, max_length=limits["customer_id"])
    order = (
        id_sql(*col("order_id"), required=False, max_length=limits["order_id"])
        if "order_id" in columns.columns
        else None
    )
    quick_ids = [
        quick_id_plain(*col("customer_id"), required=True, max_length=limits["customer_id"])
    ]
    if order is not None:
        quick_ids.append(
            quick_id_plain(*col("order_id"), required=False, max_length=limits["order_id"])
        )
    amount = cents_sql(*col("amount"), required=True)
    cost = cents_sql(*col("cost"), required=False) if "cost" in columns.columns else None
    date_column, date_type = col("ordered_at")
    if (
        customer is None
        or amount is None
        or ("order_id" in columns.columns and order is None)
        or ("cost" in columns.columns and cost is None)
        or date_type not in TYPE_DATE_FORMAT
    ):
        return None
    # The date format: given, or what the importer detects in the file's first batch.
    fmt = holder.fmt
    if fmt is None:
        first = _first_batch(info.path, stored_of[columns.columns["ordered_at"]], batch_rows)
        if first is None:
            return None
        fmt = _detected_format(first)
    if fmt != TYPE_DATE_FORMAT[date_type]:
        return None
    # The other mapped fields (item lines' sku and quantity, store, ...): not read by the
    # analysis, but validated as the import validates them, so a row the import would
    # reject is not plain.
    extra = []
    for spec in FIELDS[EntityKind.TRANSACTIONS]:
        if spec.name in _FAST_FIELDS or spec.name not in columns.columns:
            continue
        condition = other_field_sql(*col(spec.name), spec, required=columns.is_required(spec))
        if condition is None:
            return None
        extra.append(condition)
    if amount_in_doubt(columns, written):  # as the text path asks of the first batch
        first_rows = next(reader.batches(), None)
        doubt = amount_doubt(columns, first_rows.columns) if first_rows is not None else None
        if doubt is not None:
            raise doubt
    order_date = date_column if date_type == "DATE" else f"CAST({date_column} AS DATE)"
    low, high = _safe_days(tz)
    plain = [
        customer[1],
        amount[1],
        f"({date_column} IS NOT NULL AND {order_date} BETWEEN DATE {low} AND DATE {high})",
    ]
    quick_ids_at = [0]
    if order is not None:
        quick_ids_at.append(len(plain))
        plain.append(order[1])
    if cost is not None:
        plain.append(cost[1])
    plain.extend(c for c in extra if c != "TRUE")
    status = _COMPLETED
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
        parsed = parse_status(column_text(raw), generic_status)
        values = raw.to_pylist()
        mapped = parsed.values.to_pylist()
        good = [
            v for v, bad in zip(values, parsed.invalid, strict=True) if v is not None and not bad
        ]
        plain.append(f"({status_column} IS NULL OR {in_list(status_column, good)})")
        returned = [v for v, m in zip(values, mapped, strict=True) if v in good and m == RETURNED]
        cancelled = [v for v, m in zip(values, mapped, strict=True) if v in good and m == CANCELLED]
        status = (
            f"CASE WHEN {in_list(status_column, returned)} THEN '{RETURNED}' "
            f"WHEN {in_list(status_column, cancelled)} THEN '{CANCELLED}' ELSE '{COMPLETED}' END"
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
        cost_cents=cost[0] if cost is not None else _NO_COST,
        status=status,
        plain=plain,
        batch_rows=batch_rows,
        quick_ids=" AND ".join(c for c in quick_ids if c is not None),
        quick_ids_at=tuple(quick_ids_at),
    )


_QUICK_SAMPLE = 100_000


def _quick_first(con: Any, plan: _Plan) -> bool:
    """Whether the quick ids cover at least 99% of the file's first rows: then most rows
    are read by the first pass alone; otherwise one pass asks the plain condition."""
    if plan.quick_ids == "TRUE":
        return False
    left = con.execute(
        f"SELECT count(*) FILTER (WHERE ({plan.quick_ids}) IS NOT TRUE), count(*) FROM "
        f"(SELECT * FROM {plan.source} LIMIT {_QUICK_SAMPLE})"
    ).fetchall()[0]
    return bool(left[1]) and left[0] * 100 <= left[1]


def read_parquet_fast(
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
    low, high = _safe_days(tz)
    days = [
        row[0]
        for row in con.execute(
            f"SELECT DISTINCT {plan.order_date} FROM {plan.source} "
            f"WHERE {plan.order_date} BETWEEN DATE {low} AND DATE {high}"
        ).fetchall()
    ]
    unsafe = unsafe_days(days, tz)
    if unsafe:
        dates = ", ".join(f"DATE {literal(d.isoformat())}" for d in unsafe)
        plan.unsafe_days = f"{plan.order_date} IN ({dates})"
    plain = plan.plain_sql()
    order_id = f"{plan.order_id} AS order_id, " if plan.order_id is not None else ""
    # A column that is the same on every row (no cost column: null; no status column:
    # completed) is not stored, only stated in the view.
    cost = "cost_cents" if plan.cost_cents != _NO_COST else _NO_COST
    status = "patron_status" if plan.status != _COMPLETED else _COMPLETED
    stored = "".join(
        f", {expression} AS {name}"
        for expression, name in ((plan.cost_cents, cost), (plan.status, status))
        if name != expression
    )
    # One pass over the file: the plain rows, converted, into memory (the analysis then
    # groups an in-memory table, not the file again); their count from the table; the
    # file's row count from its metadata. When the ids of the file's first rows are nearly
    # all quick ones (quick_id_sql), the pass asks the quick condition, which DuckDB checks
    # while it scans, and a second pass adds the rows it left that are plain all the same
    # (none, on most files): together exactly the plain rows, as the quick condition
    # implies the plain one.
    columns = (
        f"{plan.customer_id} AS customer_id, {plan.order_date} AS order_date, "
        f"{order_id}{plan.amount_cents} AS amount_cents{stored}"
    )
    quick = _quick_first(con, plan)
    con.execute(
        f"CREATE TEMP TABLE patron_plain AS SELECT {columns} FROM {plan.source} "
        f"WHERE {plan.quick_sql() if quick else plain}"
    ).fetchall()
    total = con.execute(f"SELECT count(*) FROM {plan.source}").fetchall()[0][0]
    if quick and con.execute("SELECT count(*) FROM patron_plain").fetchall()[0][0] < total:
        con.execute(
            f"INSERT INTO patron_plain SELECT {columns} FROM {plan.source} "
            f"WHERE ({plan.quick_sql()}) IS NOT TRUE AND {plain}"
        ).fetchall()
    plain_rows, cancelled = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE {status} = '{CANCELLED}') FROM patron_plain"
    ).fetchall()[0]
    out.read = int(plain_rows)
    out.cancelled = int(cancelled)
    out.date_format = plan.date_format
    out.method = "set-based"
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
        out.rows_by_batch = len(rows)
        holder = DateFormatHolder(plan.date_format, explicit=True)
        tables: list[pa.Table] = []
        many = len(rows) >= 500_000
        for result in validated_batches(
            rest_batches(path, reader, rows, plan.batch_rows),
            plan.columns,
            tz,
            holder,
            workers=workers if many else 1,
        ):
            tally(out, result, tables)
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
    returned = f"{status} = '{RETURNED}'"
    select = (
        f"SELECT customer_id, order_date, {'order_id, ' if order_id else ''}"
        f"{signed_sql('amount_cents', returned)} AS amount_cents, "
        f"{signed_sql(cost, returned)} AS cost_cents, "
        f"CASE WHEN {returned} THEN TRUE END AS is_return FROM patron_plain "
        f"WHERE {status} <> '{CANCELLED}'"
    )
    if rest is not None:
        select += (
            f" UNION ALL SELECT customer_id, order_date, {'order_id, ' if order_id else ''}"
            "amount_cents, cost_cents, is_return FROM patron_rest"
        )
    con.execute(f"CREATE TEMP VIEW patron_transactions AS {select}").fetchall()
    out.duckdb = backend
    return out
