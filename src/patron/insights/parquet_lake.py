"""A directory of Parquet files (a data lake's folder) for DuckDB's file mode.

The files are read together (``read_parquet('DIR/**/*.parquet', hive_partitioning)``) under
the rule of the Spark engine (:mod:`patron.insights.spark_source`): the plain forms of the
set-based Parquet path (:mod:`patron.insights.parquet_forms`) are read, returns made
negative and cancelled rows left out; a row outside them is rejected (``--skip-bad``
analyses the rest). So ``patron analyze --source DIR`` gives the same rows on DuckDB and on
Spark.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pyarrow as pa

from patron.ingest.mapping import MAX_LENGTHS, EntityKind, resolve_columns
from patron.ingest.rows import CANCELLED, COMPLETED, RETURNED, signed_sql
from patron.insights.file_rows import (
    NO_ROWS,
    REJECTED_ROWS,
    AnalysisSourceError,
    FileTransactions,
    duckdb_backend,
    time_zone,
)
from patron.insights.parquet_forms import cents_sql, id_sql, in_list, literal, quote

__all__ = ["read_parquet_directory"]


def read_parquet_directory(
    path: Path, *, mapping: Mapping[str, str] | None = None, skip_bad: bool = False
) -> FileTransactions:
    """The plain rows of every Parquet file under ``path``, as a view on in-memory DuckDB.

    Raises
    ------
    IngestError
        A required column is missing.
    AnalysisSourceError
        Some rows are not plain (and ``skip_bad`` is off), or no row is.
    """
    from patron.ingest.reading.parquet import column_text
    from patron.ingest.validation import generic_status, parse_status

    backend = duckdb_backend()
    con = backend.con
    glob = literal(str(path / "**" / "*.parquet"))
    source = f"read_parquet({glob}, hive_partitioning = true, union_by_name = true)"
    described = con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
    types = {row[0]: str(row[1]) for row in described}
    columns = resolve_columns(list(types), EntityKind.TRANSACTIONS, mapping)
    limits = MAX_LENGTHS[EntityKind.TRANSACTIONS]

    def col(name: str) -> tuple[str, str]:
        column = columns.columns[name]
        return quote(column), types[column]

    def covered(found: tuple[str, str] | None) -> tuple[str, str]:
        return found if found is not None else ("NULL", "FALSE")

    customer = covered(id_sql(*col("customer_id"), required=True, max_length=limits["customer_id"]))
    amount = covered(cents_sql(*col("amount"), required=True))
    date_column, date_type = col("ordered_at")
    if date_type == "DATE":
        day = date_column
    elif date_type.startswith("TIMESTAMP WITH TIME ZONE"):
        day = f"CAST(timezone({literal(time_zone())}, {date_column}) AS DATE)"
    elif date_type.startswith("TIMESTAMP"):
        day = f"CAST({date_column} AS DATE)"
    else:
        day = "CAST(NULL AS DATE)"
    from patron.insights.parquet_fast import _safe_days

    low, high = _safe_days(time_zone())
    plain = [customer[1], amount[1], f"({day} BETWEEN DATE {low} AND DATE {high})"]
    order = None
    if "order_id" in columns.columns:
        order = covered(id_sql(*col("order_id"), required=False, max_length=limits["order_id"]))
        plain.append(order[1])
    elif columns.is_item_lines:
        order = (f"{customer[0]} || chr(31) || CAST({date_column} AS VARCHAR)", "TRUE")
    cost = ("CAST(NULL AS BIGINT)", "TRUE")
    if "cost" in columns.columns:
        cost = covered(cents_sql(*col("cost"), required=False))
        plain.append(cost[1])
    status = f"'{COMPLETED}'"
    if "status" in columns.columns:
        status_column, status_type = col("status")
        if status_type != "VARCHAR":
            plain.append("FALSE")
        else:
            distinct = con.sql(f"SELECT DISTINCT {status_column} FROM {source}").to_arrow_table()
            raw = distinct.column(0).combine_chunks().cast(pa.string())
            parsed = parse_status(column_text(raw), generic_status)
            values, mapped = raw.to_pylist(), parsed.values.to_pylist()
            good = [v for v, bad in zip(values, parsed.invalid, strict=True) if v and not bad]
            returned = [
                v for v, m in zip(values, mapped, strict=True) if v in good and m == RETURNED
            ]
            cancelled = [
                v for v, m in zip(values, mapped, strict=True) if v in good and m == CANCELLED
            ]
            plain.append(f"({status_column} IS NULL OR {in_list(status_column, good)})")
            status = (
                f"CASE WHEN {in_list(status_column, returned)} THEN '{RETURNED}' "
                f"WHEN {in_list(status_column, cancelled)} THEN '{CANCELLED}' "
                f"ELSE '{COMPLETED}' END"
            )
    condition = " AND ".join(f"coalesce({p}, FALSE)" for p in plain)
    order_sql = f"{order[0]} AS order_id, " if order is not None else ""
    con.execute(
        f"CREATE TEMP TABLE patron_plain AS SELECT {customer[0]} AS customer_id, "
        f"{day} AS order_date, {order_sql}{amount[0]} AS amount_cents, "
        f"{cost[0]} AS cost_cents, {status} AS patron_status FROM {source} WHERE {condition}"
    ).fetchall()
    total = int(con.execute(f"SELECT count(*) FROM {source}").fetchall()[0][0])
    plain_rows, cancelled_rows = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE patron_status = '{CANCELLED}') FROM patron_plain"
    ).fetchall()[0]
    out = FileTransactions(
        path=path,
        columns=dict(columns.columns),
        reading="order lines" if columns.is_item_lines else "orders",
        has_order_id=order is not None,
        read=int(plain_rows),
        rejected=total - int(plain_rows),
        cancelled=int(cancelled_rows),
        method="set-based",
    )
    if out.rejected and not skip_bad:
        raise AnalysisSourceError(
            REJECTED_ROWS.format(rejected=out.rejected, read=total, name=path.name)
            + " (in a directory, only rows in the plain forms of the Parquet fast path are read)"
        )
    out.rows = int(plain_rows) - int(cancelled_rows)
    if not out.rows:
        raise AnalysisSourceError(NO_ROWS.format(name=path.name))
    returned_sql = f"patron_status = '{RETURNED}'"
    con.execute(
        "CREATE TEMP VIEW patron_transactions AS SELECT customer_id, order_date, "
        f"{'order_id, ' if order is not None else ''}"
        f"{signed_sql('amount_cents', returned_sql)} AS amount_cents, "
        f"{signed_sql('cost_cents', returned_sql)} AS cost_cents, "
        f"CASE WHEN {returned_sql} THEN TRUE END AS is_return FROM patron_plain "
        f"WHERE patron_status <> '{CANCELLED}'"
    ).fetchall()
    out.duckdb = backend
    return out
