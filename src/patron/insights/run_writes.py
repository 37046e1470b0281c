"""Writes of a run that every engine shares: the run's record, its scores in bulk, its
diagnoses (:mod:`patron.insights.services` on DuckDB or the database,
:mod:`patron.insights.spark_store` on Spark)."""

from __future__ import annotations

import datetime as dt
import io
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction

from patron import __version__
from patron.customers.models import Customer
from patron.ingest.indexes import indexes_rebuilt_if_cheaper, statistics_refreshed
from patron.insights.models import AnalysisRun, CustomerScore, RunStatus

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from patron.analytics.report import AnalysisSettings

STAGE = "patron_stage_scores"
# (column, SQLite type, PostgreSQL type); money is staged in whole cents
_STAGE_COLUMNS = (
    ("customer_ext", "TEXT", "text"),
    ("recency_days", "INTEGER", "integer"),
    ("frequency", "INTEGER", "integer"),
    ("monetary", "INTEGER", "bigint"),
    ("r_score", "INTEGER", "smallint"),
    ("f_score", "INTEGER", "smallint"),
    ("m_score", "INTEGER", "smallint"),
    ("segment", "TEXT", "text"),
    ("value_tier", "TEXT", "text"),
    ("profit_group", "TEXT", "text"),
    ("revenue", "INTEGER", "bigint"),
    ("margin", "INTEGER", "bigint"),
    ("cost_to_serve", "INTEGER", "bigint"),
    ("profit", "INTEGER", "bigint"),
    ("p_alive", "REAL", "double precision"),
    ("expected_purchases", "REAL", "double precision"),
    ("clv", "INTEGER", "bigint"),
    ("value_at_risk", "INTEGER", "bigint"),
    ("risk_level", "TEXT", "text"),
    ("risk_score", "REAL", "double precision"),
    ("risk_reasons_en", "TEXT", "text"),
    ("risk_reasons_zh", "TEXT", "text"),
)
_MONEY = ("monetary", "revenue", "margin", "cost_to_serve", "profit", "clv", "value_at_risk")
_FLOATS = ("p_alive", "expected_purchases", "risk_score")
_TEXTS = ("risk_level", "risk_reasons_en", "risk_reasons_zh", "profit_group")
BATCH_ROWS = 100_000


def stage_table(customers: pd.DataFrame) -> pa.Table:
    """The scores as staged, column by column in Arrow: money in whole cents (the amounts
    are cents already, up to float noise), NaN and None as null."""
    import numpy as np
    import pyarrow as pa

    columns = {}
    for name, _lite, _pg in _STAGE_COLUMNS:
        source = "customer_id" if name == "customer_ext" else name
        values = customers[source]
        if name in _MONEY or name in _FLOATS or name == "recency_days":
            floats = values.to_numpy(dtype=np.float64, na_value=np.nan)
            missing = np.isnan(floats)
            if name in _MONEY:
                floats = np.rint(floats * 100)
            if name in _FLOATS:
                columns[name] = pa.array(floats, mask=missing)
            else:
                whole = np.where(missing, 0, floats).astype(np.int64)
                columns[name] = pa.array(whole, mask=missing)
        elif name in _TEXTS:
            texts = values.to_numpy(dtype=object)
            columns[name] = pa.array(
                [v if isinstance(v, str) else None for v in texts], type=pa.string()
            )
        elif name in ("customer_ext", "segment", "value_tier"):
            columns[name] = pa.array(values.astype(str).to_numpy(dtype=object), type=pa.string())
        else:
            columns[name] = pa.array(values.to_numpy(dtype=np.int64))
    return pa.table(columns)


def _stage_append(cursor: Any, table: pa.Table, *, postgres: bool) -> None:
    names = ", ".join(table.column_names)
    if postgres:
        import pyarrow.csv as pacsv

        buffer = io.BytesIO()
        pacsv.write_csv(
            table,
            buffer,
            write_options=pacsv.WriteOptions(include_header=False, quoting_style="needed"),
        )
        with cursor.cursor.copy(f"COPY {STAGE} ({names}) FROM STDIN WITH (FORMAT csv)") as copy:
            copy.write(buffer.getvalue())
    else:
        marks = ", ".join("?" for _ in table.column_names)
        rows = zip(*(column.to_pylist() for column in table.columns), strict=True)
        cursor.executemany(f"INSERT INTO {STAGE} ({names}) VALUES ({marks})", rows)


def stage_batches(customers: pd.DataFrame) -> Iterator[pa.Table]:
    """The customers of a run (with their predictions) as staged, :data:`BATCH_ROWS` at a time."""
    for start in range(0, len(customers), BATCH_ROWS):
        yield stage_table(customers.iloc[start : start + BATCH_ROWS])


def write_scores(run: AnalysisRun, batches: Iterable[pa.Table], *, rows: int) -> int:
    """Stage the scores (``batches`` of :func:`stage_table`, ``rows`` in all) in a temporary
    table, then one INSERT ... SELECT joins the customers; returns the rows written."""
    postgres = connection.vendor == "postgresql"
    types = ", ".join(f"{n} {pg if postgres else lite}" for n, lite, pg in _STAGE_COLUMNS)
    score = connection.ops.quote_name(CustomerScore._meta.db_table)
    customer = connection.ops.quote_name(Customer._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
        cursor.execute(f"CREATE TEMPORARY TABLE {STAGE} ({types})")
        try:
            for table in batches:
                _stage_append(cursor, table, postgres=postgres)
            money = (
                (lambda c: f"CAST(s.{c} AS numeric) / 100")
                if postgres
                else (lambda c: f"s.{c} / 100.0")
            )
            # A dozen indexes grown row by row cost most of the write (3.2 s of 3.4 s for
            # 100k scores on PostgreSQL); built from sorted rows after the insert they cost
            # a fraction. Only when the run's scores at least double the table (the first
            # run, or after old runs were deleted), as the importer does for orders.
            if postgres:  # the builds sort in memory, for this transaction only
                cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
                # temporary tables are never analysed automatically: without a row count
                # the join to the customers is planned blind
                cursor.execute(f"ANALYZE {STAGE}")
            with indexes_rebuilt_if_cheaper(CustomerScore, adding=rows) as rebuilt:
                cursor.execute(
                    f"""INSERT INTO {score} (run_id, customer_id, recency_days, frequency, monetary,
                            r_score, f_score, m_score, segment, value_tier, profit_group,
                            revenue, margin,
                            cost_to_serve, profit, p_alive, expected_purchases, clv, value_at_risk,
                            risk_level, risk_score, risk_reasons_en, risk_reasons_zh)
                        SELECT %s, c.id, s.recency_days, s.frequency, {money("monetary")},
                            s.r_score, s.f_score, s.m_score, s.segment, s.value_tier,
                            s.profit_group,
                            {money("revenue")}, {money("margin")}, {money("cost_to_serve")},
                            {money("profit")}, s.p_alive, s.expected_purchases, {money("clv")},
                            {money("value_at_risk")}, s.risk_level, s.risk_score,
                            s.risk_reasons_en, s.risk_reasons_zh
                        FROM {STAGE} s JOIN {customer} c ON c.external_id = s.customer_ext""",
                    [run.pk],
                )
                written = int(cursor.rowcount)
        finally:
            cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
    if not rebuilt:  # (a rebuild refreshed them) a run id the statistics have not seen
        statistics_refreshed(CustomerScore)
    return written


def store_diagnoses(run: AnalysisRun) -> None:
    """Every tier's and segment's diagnosis, stored with the run (after its scores)."""
    from patron.insights.diagnosis import diagnoses_compute
    from patron.insights.models import RunDiagnosis

    rows = [
        RunDiagnosis(run=run, kind=kind, code=code, data=data)
        for kind, code, data in diagnoses_compute(run=run)
    ]
    with transaction.atomic():
        RunDiagnosis.objects.bulk_create(rows)


def run_start(*, as_of: dt.date, settings: AnalysisSettings) -> AnalysisRun:
    """A new run of the store as of ``as_of``, recorded as "running"."""
    run = AnalysisRun(as_of=as_of, settings=settings.as_dict(), code_version=__version__)
    run.full_clean()
    run.save()
    return run


@contextmanager
def run_failed_on_error(run: AnalysisRun, *, started: float) -> Iterator[None]:
    """Mark ``run`` failed, with the error and the time taken, when the block raises."""
    try:
        yield
    except BaseException as error:
        AnalysisRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED,
            error=f"{type(error).__name__}: {error}"[:2000],
            duration=round(time.perf_counter() - started, 3),
        )
        raise


def run_complete(run: AnalysisRun, *, customers: int, figures: Any, started: float) -> None:
    """Record ``run`` completed with its customers and figures (in the scores' transaction)."""
    run.customers = customers
    run.figures = figures
    run.status = RunStatus.COMPLETED
    run.duration = round(time.perf_counter() - started, 3)
    run.save(update_fields=["customers", "figures", "status", "duration"])
