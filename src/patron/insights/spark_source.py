"""Transactions for an analysis on Spark: a file or a directory of Parquet or CSV files.

The rows become what DuckDB's file mode makes of the same file's *plain* rows
(:mod:`patron.insights.parquet_fast`, :mod:`patron.insights.parquet_forms`): an id that
starts and ends with a letter or digit and is no placeholder and no scientific notation, an
amount that is a whole number of cents, a date (or a time, read as its date) inside the
importer's window, a known status. Returns are made negative and cancelled rows left out as
an import does. A row that is not plain is *rejected* here: DuckDB's file mode would hand it
to the importer's row-by-row validation, which does not scale out; ``--skip-bad`` analyses
the plain rows, or the file can be fixed. Only counts and at most twenty example rows
come to the driver.

A directory is read as a lake holds it: every ``*.parquet`` (or ``*.csv``) file below it,
Hive-style partition folders (``month=2024-01/``) included; local, or at a URI a Hadoop file
system serves (``s3a://``, ``hdfs://``..., :mod:`patron.insights.lake_paths`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from patron.ingest.mapping import MAX_LENGTHS, EntityKind, resolve_columns
from patron.ingest.rows import CANCELLED, COMPLETED, RETURNED
from patron.insights.file_rows import NO_ROWS, REJECTED_ROWS, AnalysisSourceError, time_zone
from patron.insights.lake_paths import LakeSource, describe_source, source_name
from patron.insights.parquet_forms import SAFE_YEARS

__all__ = [
    "CONTRACT_COLUMNS",
    "SparkTransactions",
    "read_contract_transactions",
    "read_spark_transactions",
]

_PLAIN_TEXT_RE = r"(?s)^[\p{L}\p{N}_](.*[\p{L}\p{N}_])?$"
_WORD_PLACEHOLDERS = ("null", "NULL", "Null", "N/A", "n/a", "无退款申请")
_PLAIN_AMOUNT_RE = r"^-?[0-9]{1,9}(\.[0-9]{1,2})?$"
_ISO_DATE_RE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}:[0-9]{2})?$"
_MAX_STATUS_VALUES = 1000


@dataclass
class SparkTransactions:
    """The plain rows of ``path`` (a local path or a URI) as a Spark DataFrame in the analytics
    contract (cents)."""

    path: str | Path
    frame: Any  # pyspark DataFrame: customer_id, order_date, [order_id], amount_cents, ...
    has_order_id: bool
    has_cost: bool
    read: int = 0
    rejected: int = 0
    cancelled: int = 0
    rows: int = 0
    columns: dict[str, str] = field(default_factory=dict)
    examples: list[dict[str, Any]] = field(default_factory=list)
    cached: Any = None  # the persisted rows ``frame`` reads; freed by :meth:`release`

    def release(self) -> None:
        """Free the rows Spark keeps for the analysis (memory and local disk)."""
        if self.cached is not None:
            self.cached.unpersist()
            self.cached = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "read": self.read + self.rejected,
            "rejected": self.rejected,
            "cancelled": self.cancelled,
            "rows": self.rows,
            "method": "spark",
            "columns": self.columns,
            "errors": self.examples[:20],
        }


def _load(spark: Any, source: LakeSource) -> Any:
    reader = spark.read
    if source.format == "csv":
        reader = reader.option("header", "true").option("inferSchema", "false")
        if source.is_dir:
            reader = reader.option("pathGlobFilter", "*.csv").option("recursiveFileLookup", "true")
        return reader.option("encoding", "UTF-8").csv(source.location)
    if source.is_dir:
        reader = reader.option("pathGlobFilter", "*.parquet")
    return reader.parquet(source.location)


def _id(column: Any, dtype: Any, *, required: bool, max_length: int | None) -> tuple[Any, Any]:
    """(text, plain condition) of an identifier column (parquet_forms.id_sql's rule)."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    if isinstance(dtype, T.StringType):
        plain = (
            (F.instr(column, "*") == 0)
            & column.rlike(_PLAIN_TEXT_RE)
            & ~column.isin(*_WORD_PLACEHOLDERS)
            & ~column.rlike(r"^[+-]?[0-9]+(\.[0-9]+)?[eE][+-]?[0-9]+$")
        )
        if max_length:
            plain = plain & (F.length(column) <= int(max_length))
        text = column
    elif isinstance(dtype, T.IntegralType):
        plain, text = F.lit(True), column.cast("string")
    else:
        plain, text = F.lit(False), column.cast("string")
    if required:
        return text, column.isNotNull() & plain
    return text, column.isNull() | plain


def _cents(column: Any, dtype: Any, *, required: bool) -> tuple[Any, Any]:
    """(integer cents, plain condition) of an amount column (parquet_forms.cents_sql)."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    if isinstance(dtype, (T.DoubleType, T.FloatType)):
        x = column.cast("double")
        plain = ~F.isnan(x) & (F.abs(x) < 1e9) & (F.abs(x * 100 - F.round(x * 100)) <= 1e-6)
        cents = F.round(x * 100).cast("long")
    elif isinstance(dtype, T.DecimalType):
        plain = (F.abs(column) < 1e9) & (F.floor(column * 100) == column * 100)
        cents = (column * 100).cast("long")
    elif isinstance(dtype, T.IntegralType):
        plain = F.abs(column.cast("double")) < 1e9
        cents = column.cast("long") * 100
    elif isinstance(dtype, T.StringType):
        plain = column.rlike(_PLAIN_AMOUNT_RE)
        cents = (column.cast("decimal(18,2)") * 100).cast("long")
    else:
        plain, cents = F.lit(False), F.lit(None).cast("long")
    guarded = F.when(plain, cents)
    if required:
        return guarded, column.isNotNull() & plain
    return guarded, column.isNull() | plain


def _date(column: Any, dtype: Any) -> tuple[Any, Any]:
    """(business date, plain condition): a date as it is, a time as its date (a naive time
    is the shop's local time, as DuckDB's file mode reads it; an instant is dated in the
    shop's time zone), ISO text likewise."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    if isinstance(dtype, T.DateType):
        day = column
    elif isinstance(dtype, T.TimestampNTZType):
        day = F.to_date(column)
    elif isinstance(dtype, T.TimestampType):  # an instant: its date in the shop's time zone
        day = F.to_date(F.from_utc_timestamp(column, time_zone()))
    elif isinstance(dtype, T.StringType):
        day = F.when(column.rlike(_ISO_DATE_RE), F.to_date(F.substring(column, 1, 10)))
    else:
        day = F.lit(None).cast("date")
    low, high = _window(time_zone())
    return day, day.isNotNull() & day.between(F.lit(low), F.lit(high))


def _window(tz: str) -> tuple[dt.date, dt.date]:
    """The days inside the importer's window of order dates, as the set-based path's."""
    from zoneinfo import ZoneInfo

    from patron.ingest.cleaning.dates import order_date_window

    zone = ZoneInfo(tz)
    first, last = order_date_window(tz)
    low = max(SAFE_YEARS[0], first.astimezone(zone).date() + dt.timedelta(days=1))
    high = min(SAFE_YEARS[1], last.astimezone(zone).date() - dt.timedelta(days=1))
    return low, high


def _status(raw: Any, column: Any, dtype: Any) -> tuple[Any, Any]:
    """(status code, plain condition) from the distinct values of the status column (few)."""
    import pyarrow as pa
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    from patron.ingest.reading.parquet import column_text
    from patron.ingest.validation import generic_status, parse_status

    if not isinstance(dtype, T.StringType):
        return F.lit(COMPLETED), F.lit(False)
    distinct = [r[0] for r in raw.select(column).distinct().limit(_MAX_STATUS_VALUES + 1).collect()]
    if len(distinct) > _MAX_STATUS_VALUES:
        return F.lit(COMPLETED), F.lit(False)
    values = pa.array(distinct, pa.string())
    parsed = parse_status(column_text(values), generic_status)
    mapped = parsed.values.to_pylist()
    good = [v for v, bad in zip(distinct, parsed.invalid, strict=True) if v is not None and not bad]
    returned = [v for v, m in zip(distinct, mapped, strict=True) if v in good and m == RETURNED]
    cancelled = [v for v, m in zip(distinct, mapped, strict=True) if v in good and m == CANCELLED]
    code = (
        F.when(column.isin(*returned) if returned else F.lit(False), F.lit(RETURNED))
        .when(column.isin(*cancelled) if cancelled else F.lit(False), F.lit(CANCELLED))
        .otherwise(F.lit(COMPLETED))
    )
    return code, column.isNull() | (column.isin(*good) if good else F.lit(False))


def read_spark_transactions(
    spark: Any,
    path: str | Path,
    *,
    mapping: Mapping[str, str] | None = None,
    skip_bad: bool = False,
) -> SparkTransactions:
    """Read ``path`` on Spark into the analytics contract; counts come to the driver, rows
    stay in Spark.

    Raises
    ------
    IngestError
        A required column is missing.
    AnalysisSourceError
        Some rows are not plain (and ``skip_bad`` is off), or no row is.
    """
    from pyspark.sql import functions as F

    raw = _load(spark, describe_source(spark, path))
    types = {f.name: f.dataType for f in raw.schema.fields}
    columns = resolve_columns(list(types), EntityKind.TRANSACTIONS, mapping)
    limits = MAX_LENGTHS[EntityKind.TRANSACTIONS]

    def col(name: str) -> tuple[Any, Any]:
        source = columns.columns[name]
        return F.col(f"`{source}`"), types[source]

    customer, customer_ok = _id(
        *col("customer_id"), required=True, max_length=limits["customer_id"]
    )
    amount, amount_ok = _cents(*col("amount"), required=True)
    day, day_ok = _date(*col("ordered_at"))
    plain = customer_ok & amount_ok & day_ok
    selected = {"customer_id": customer, "order_date": day}
    has_order_id = "order_id" in columns.columns
    if has_order_id:
        order, order_ok = _id(*col("order_id"), required=False, max_length=limits["order_id"])
        plain = plain & order_ok
        selected["order_id"] = order
    elif columns.is_item_lines:  # lines of one customer at one time are one order
        at, _type = col("ordered_at")
        selected["order_id"] = F.concat_ws("\x1f", customer, at.cast("string"))
        has_order_id = True
    has_cost = "cost" in columns.columns
    if has_cost:
        cost, cost_ok = _cents(*col("cost"), required=False)
        plain = plain & cost_ok
    else:
        cost = F.lit(None).cast("long")
    status = F.lit(COMPLETED)
    if "status" in columns.columns:
        status, status_ok = _status(raw, *col("status"))
        plain = plain & status_ok
    marked = raw.withColumn("__patron_plain", F.coalesce(plain, F.lit(False)))
    marked = marked.withColumn("__patron_status", status)
    names = ["customer_id", "order_date", *(["order_id"] if has_order_id else [])]
    # The rows as the analysis reads them, with their plain mark and status, kept by Spark
    # (memory, then local disk) and spread over the shuffle partitions by customer: the
    # counts below read the source once and fill it, and every later step (the last day,
    # the KPIs, the customer summary, the prediction inputs, the repeat purchases by day)
    # reads it instead of parsing the files again; the steps that group by customer (and by
    # customer and day) find the rows already partitioned that way and shuffle nothing.
    parts = int(spark.conf.get("spark.sql.shuffle.partitions"))
    kept_columns = (
        marked.select(
            *(selected[n].alias(n) for n in names),
            amount.alias("amount_cents"),
            cost.alias("cost_cents"),
            "__patron_plain",
            "__patron_status",
        )
        .repartition(parts, "customer_id")
        .persist()
    )
    counts = kept_columns.agg(
        F.count(F.lit(1)).alias("total"),
        F.sum(F.col("__patron_plain").cast("long")).alias("plain"),
        F.sum(
            (F.col("__patron_plain") & (F.col("__patron_status") == CANCELLED)).cast("long")
        ).alias("cancelled"),
    ).collect()[0]
    total, plain_rows, cancelled = (int(counts[k] or 0) for k in ("total", "plain", "cancelled"))
    out = SparkTransactions(
        path=path,
        frame=None,
        has_order_id=has_order_id,
        has_cost=has_cost,
        read=plain_rows,
        rejected=total - plain_rows,
        cancelled=cancelled,
        columns=dict(columns.columns),
        cached=kept_columns,
    )
    try:
        if out.rejected:
            bad = marked.filter(~F.col("__patron_plain")).drop("__patron_plain", "__patron_status")
            out.examples = [
                {"line": None, "column": "", "value": None, "message": str(row.asDict())}
                for row in bad.limit(20).collect()
            ]
            if not skip_bad:
                raise AnalysisSourceError(
                    REJECTED_ROWS.format(rejected=out.rejected, read=total, name=source_name(path))
                    + " (on Spark, only rows in the plain forms of the Parquet fast path are read)",
                    extra={"errors": out.examples},
                )
        out.rows = plain_rows - cancelled
        if not out.rows:
            raise AnalysisSourceError(NO_ROWS.format(name=source_name(path)))
    except AnalysisSourceError:
        out.release()
        raise
    returned = F.col("__patron_status") == RETURNED
    kept = kept_columns.filter(F.col("__patron_plain") & (F.col("__patron_status") != CANCELLED))
    amount, cost = F.col("amount_cents"), F.col("cost_cents")
    out.frame = kept.select(
        *names,
        F.when(returned, -F.abs(amount)).otherwise(amount).alias("amount_cents"),
        F.when(returned, -F.abs(cost)).otherwise(cost).alias("cost_cents"),
        F.when(returned, F.lit(True)).alias("is_return"),
    )
    return out


#: The columns of a data set already in the analytics contract, in cents (a stored run's copy).
CONTRACT_COLUMNS = ("customer_id", "order_date", "amount_cents", "cost_cents", "is_return")


def read_contract_transactions(spark: Any, path: str | Path) -> SparkTransactions:
    """A Parquet data set that Patron wrote in the analytics contract, in cents
    (:data:`CONTRACT_COLUMNS`; one row per order, ``is_return`` never null): the store's
    orders of a stored run (:mod:`patron.insights.spark_store`), valid already, so read as
    they are. Kept by Spark and partitioned by customer as :func:`read_spark_transactions`
    keeps a file's rows.

    Raises
    ------
    AnalysisSourceError
        The data set has no row.
    """
    parts = int(spark.conf.get("spark.sql.shuffle.partitions"))
    kept = (
        _load(spark, LakeSource(str(path), "parquet", Path(path).is_dir()))
        .select(*CONTRACT_COLUMNS)
        .repartition(parts, "customer_id")
        .persist()
    )
    rows = kept.count()
    if not rows:
        kept.unpersist()
        raise AnalysisSourceError(NO_ROWS.format(name=source_name(path)))
    return SparkTransactions(
        path=path,
        frame=kept,
        has_order_id=False,
        has_cost=True,
        read=rows,
        rows=rows,
        columns={name: name for name in CONTRACT_COLUMNS},
        cached=kept,
    )
