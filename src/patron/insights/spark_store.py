"""A stored run on Spark (``PATRON_ANALYSIS_ENGINE=spark``): the store's orders to Parquet,
the analysis on Spark, the scores back into the app database, all in batches.

1. The orders that count (:func:`patron.insights.engine.live_order_rows`: the rule of
   :func:`~patron.insights.selectors.live_orders`, the cents and return flag of DuckDB's
   copy), joined in the app database with their customer's external id, are read in one
   query (one snapshot) through ADBC and written batch by batch to a temporary Parquet data
   set in the analytics contract in cents
   (:data:`~patron.insights.spark_source.CONTRACT_COLUMNS`): no more than a row group and
   one batch of the driver's are ever held here, however many orders there are.
2. :func:`~patron.insights.spark_run.analyze_on_spark` analyses it (``PATRON_SPARK_MASTER``,
   local by default), with the service contacts and messages of the cost to serve, and Spark
   writes every customer's scores as Parquet.
3. The scores are read back with pyarrow a batch at a time and staged with the bulk path of
   DuckDB's runs (:func:`patron.insights.run_writes.write_scores`); the figures are Spark's.

The run equals a DuckDB stored run of the same store: its scores row for row, its figures
(``tests/insights/test_spark_stored_run.py``). The temporary files are removed at the end.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings as django_settings
from django.db import transaction

from patron.insights.errors import NO_ORDERS, AnalysisError
from patron.insights.models import AnalysisRun
from patron.insights.run_writes import (
    BATCH_ROWS,
    run_complete,
    run_failed_on_error,
    run_start,
    stage_table,
    store_diagnoses,
    write_scores,
)
from patron.insights.selectors import contact_counts
from patron.jobs.heartbeat import run_heartbeat

if TYPE_CHECKING:
    import pyarrow as pa

    from patron.analytics.report import AnalysisSettings, ValueAnalysis

__all__ = ["StoreCopy", "orders_to_parquet", "spark_run_create"]

#: Rows of a row group of the orders' Parquet (some 35 MB of Arrow held while it fills).
ROW_GROUP_ROWS = 1_000_000


@dataclass(frozen=True)
class StoreCopy:
    """The orders written: where, how many, and the last order date (None without)."""

    path: Path
    rows: int
    last_day: dt.date | None


def _orders_schema() -> pa.Schema:
    import pyarrow as pa

    return pa.schema(
        [
            ("customer_id", pa.string()),
            ("order_date", pa.date32()),
            ("amount_cents", pa.int64()),
            ("cost_cents", pa.int64()),
            ("is_return", pa.bool_()),
        ]
    )


def _orders_sql(as_of: dt.date | None) -> str:
    """The live orders with their customer's external id, compiled for the app database."""
    from patron.customers.models import Customer
    from patron.insights.engine import live_order_rows
    from patron.insights.selectors import store_backend

    backend = store_backend()
    try:
        rows = live_order_rows(backend, as_of)
        customer = backend.table(Customer._meta.db_table).select("id", "external_id")
        joined = rows.join(customer, rows.customer_pk == customer.id)
        return str(
            backend.compile(
                joined.select(
                    customer_id=customer.external_id,
                    order_date=rows.order_date,
                    amount_cents=rows.amount_cents,
                    cost_cents=rows.cost_cents,
                    is_return=rows.is_return,
                )
            )
        )
    finally:
        backend.disconnect()


def orders_to_parquet(folder: Path, *, as_of: dt.date | None = None) -> StoreCopy:
    """Write the store's live orders (up to ``as_of``) as Parquet under ``folder``, a row
    group at a time, in the analytics contract in cents."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from patron.insights.engine import query_batches

    schema = _orders_schema()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "part-00000.parquet"
    rows = 0
    last: dt.date | None = None
    pending: list[pa.RecordBatch] = []
    held = 0
    with pq.ParquetWriter(target, schema) as writer:

        def flush() -> None:
            nonlocal pending, held
            if held:
                table = pa.Table.from_batches(pending, schema=schema)
                writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
            pending, held = [], 0

        for batch in query_batches(_orders_sql(as_of), schema):
            if not batch.num_rows:
                continue
            day = pc.max(batch.column("order_date")).as_py()
            if day is not None and (last is None or day > last):
                last = day
            pending.append(batch)
            held += batch.num_rows
            rows += batch.num_rows
            if held >= ROW_GROUP_ROWS:
                flush()
        flush()
    return StoreCopy(path=folder, rows=rows, last_day=last)


def _contacts_to_parquet(path: Path, *, as_of: dt.date, settings: AnalysisSettings) -> Path | None:
    """The service contacts and messages per customer (a Parquet file), when they cost."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    profit = settings.profit
    if not (profit.per_service_contact or profit.per_message):
        return None  # the counts change nothing
    counts = contact_counts(as_of=as_of)
    if counts.empty:
        return None
    table = pa.table(
        {
            "customer_id": pa.array(counts["customer_id"].astype(str), pa.string()),
            "service_contacts": pa.array(counts["service_contacts"], pa.int64()),
            "messages": pa.array(counts["messages"], pa.int64()),
        }
    )
    pq.write_table(table, path)
    return path


def _score_batches(path: Path) -> tuple[int, Iterator[pa.Table]]:
    """The customers Spark wrote (``path``), as staged score tables of up to
    :data:`~patron.insights.run_writes.BATCH_ROWS` rows, read a batch at a time."""
    import pyarrow.dataset as ds

    dataset = ds.dataset(str(path), format="parquet")

    def tables() -> Iterator[pa.Table]:
        for batch in dataset.to_batches(batch_size=BATCH_ROWS):
            if batch.num_rows:
                yield stage_table(batch.to_pandas())

    return dataset.count_rows(), tables()


def spark_run_create(
    *,
    as_of: dt.date | None,
    settings: AnalysisSettings,
    step: Callable[[str], None] | None,
    started: float | None = None,
) -> tuple[AnalysisRun, ValueAnalysis]:
    """A stored run of the store made on Spark (see the module); the analysis returned has
    the figures, KPIs and cohorts, and no customer rows (they are the run's scores).

    Raises
    ------
    AnalysisError
        There are no orders on or before ``as_of``, the settings do not run on Spark (B2B
        RFM), or PySpark is missing.
    """
    started = time.perf_counter() if started is None else started
    base = getattr(django_settings, "PATRON_SPARK_TEMP_DIR", None)
    if base:
        Path(base).mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="patron-spark-run-", dir=base))
    try:
        copy = orders_to_parquet(folder / "orders", as_of=as_of)
        if copy.last_day is None and as_of is None:
            raise AnalysisError(NO_ORDERS)
        if as_of is None:
            assert copy.last_day is not None
            as_of = copy.last_day + dt.timedelta(days=1)
        run = run_start(as_of=as_of, settings=settings)
        # a run whose process dies is failed by run_stale_fail
        with run_heartbeat(run.pk), run_failed_on_error(run, started=started):
            return _run_make(run, copy, settings, folder=folder, step=step, started=started)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _run_make(
    run: AnalysisRun,
    copy: StoreCopy,
    settings: AnalysisSettings,
    *,
    folder: Path,
    step: Callable[[str], None] | None,
    started: float,
) -> tuple[AnalysisRun, ValueAnalysis]:
    from patron.analytics.report import NO_TRANSACTIONS
    from patron.insights.file_rows import AnalysisSourceError
    from patron.insights.spark_run import analyze_on_spark
    from patron.insights.spark_session import SparkMissing

    if not copy.rows:
        raise AnalysisError(NO_TRANSACTIONS.format(as_of=run.as_of))
    contacts = _contacts_to_parquet(folder / "contacts.parquet", as_of=run.as_of, settings=settings)
    try:
        result = analyze_on_spark(
            copy.path,
            as_of=run.as_of,
            settings=settings,
            out=folder / "out",
            step=step,
            contract=True,
            contacts=contacts,
        )
    except (ValueError, AnalysisSourceError, SparkMissing) as error:
        raise AnalysisError(str(error)) from None
    analysis = result.analysis
    assert result.customers_path is not None  # written: ``out`` was given
    if step is not None:
        step("Storing scores")
    rows, tables = _score_batches(result.customers_path)
    with transaction.atomic():
        written = write_scores(run, tables, rows=rows)
        run_complete(run, customers=written, figures=analysis.figures, started=started)
    if step is not None:
        step("Diagnosing segments")
    store_diagnoses(run)
    return run, analysis
