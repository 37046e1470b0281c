"""Writes: an analysis run of the store, with its per-customer scores written in bulk."""

from __future__ import annotations

import datetime as dt
import io
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction

from patron import __version__
from patron.core.errors import PatronError
from patron.core.models import SystemSetting
from patron.customers.models import Customer
from patron.ingest.indexes import indexes_rebuilt_if_cheaper
from patron.insights.models import AnalysisRun, CustomerScore, RunStatus
from patron.insights.selectors import ANALYSIS_SETTINGS_KEY, analysis_settings_get, contact_counts
from patron.jobs.heartbeat import run_heartbeat

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from patron.analytics.report import AnalysisSettings, ValueAnalysis

NO_ORDERS = "There are no orders to analyse; import transactions first."
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


class AnalysisError(PatronError):
    default_code = "insights.analysis_failed"


def _stage_table(customers: pd.DataFrame) -> pa.Table:
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


def _write_scores(run: AnalysisRun, customers: pd.DataFrame) -> int:
    """Stage the scores in a temporary table, then one INSERT ... SELECT joins the customers."""
    postgres = connection.vendor == "postgresql"
    types = ", ".join(f"{n} {pg if postgres else lite}" for n, lite, pg in _STAGE_COLUMNS)
    score = connection.ops.quote_name(CustomerScore._meta.db_table)
    customer = connection.ops.quote_name(Customer._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
        cursor.execute(f"CREATE TEMPORARY TABLE {STAGE} ({types})")
        try:
            for start in range(0, len(customers), BATCH_ROWS):
                table = _stage_table(customers.iloc[start : start + BATCH_ROWS])
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
            with indexes_rebuilt_if_cheaper(CustomerScore, adding=len(customers)):
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
    return written


def _store_diagnoses(run: AnalysisRun) -> None:
    """Every tier's and segment's diagnosis, stored with the run (after its scores)."""
    from patron.insights.diagnosis import diagnoses_compute
    from patron.insights.models import RunDiagnosis

    rows = [
        RunDiagnosis(run=run, kind=kind, code=code, data=data)
        for kind, code, data in diagnoses_compute(run=run)
    ]
    with transaction.atomic():
        RunDiagnosis.objects.bulk_create(rows)


def analysis_run_create(
    *,
    as_of: dt.date | None = None,
    settings: AnalysisSettings | None = None,
    step: Callable[[str], None] | None = None,
) -> tuple[AnalysisRun, ValueAnalysis]:
    """Analyse the store as of a date and keep the run and every customer's scores.

    The run is recorded as "running" first; its scores and figures are written in one
    transaction, and a failure leaves the run marked "failed" with the error.

    Raises
    ------
    AnalysisError
        There are no orders on or before ``as_of``.
    """
    from patron.insights.engine import analysis_transactions

    run_stale_fail()
    settings = settings or analysis_settings_get()
    started = time.perf_counter()
    if step is not None:
        step("Reading the orders")
    transactions = analysis_transactions(as_of=as_of)
    try:
        from patron.analytics.report import default_as_of

        as_of = as_of or default_as_of(transactions)
    except ValueError:
        raise AnalysisError(NO_ORDERS) from None
    run = AnalysisRun(as_of=as_of, settings=settings.as_dict(), code_version=__version__)
    run.full_clean()
    run.save()
    with run_heartbeat(run.pk):  # a run whose process dies is failed by run_stale_fail
        return _run_make(run, transactions, settings, step=step, started=started)


def _run_make(
    run: AnalysisRun,
    transactions: Any,
    settings: AnalysisSettings,
    *,
    step: Callable[[str], None] | None,
    started: float,
) -> tuple[AnalysisRun, ValueAnalysis]:
    from patron.analytics.report import analyze_transactions
    from patron.insights.engine import release
    from patron.insights.prediction_inputs import predictive_inputs
    from patron.insights.runs import attach_predictions, predict_customers

    as_of = run.as_of
    try:
        try:
            analysis = analyze_transactions(
                transactions,
                as_of=as_of,
                settings=settings,
                contacts=contact_counts(as_of=as_of),
                step=step,
            )
        except ValueError as error:
            raise AnalysisError(str(error)) from None
        if step is not None:
            step("Predicting value")
        inputs = predictive_inputs(transactions, as_of=analysis.as_of)
        # The orders' copy and the engine's memory go before the models and the scores: the
        # run's peak was the churn reasons of a million customers beside the orders.
        release(transactions)
        predictions, predictive = predict_customers(inputs, analysis)
        del inputs
        analysis.figures["predictive"] = predictive
        if step is not None:
            step("Storing scores")
        with transaction.atomic():
            # beside the customers, so the files written from the run carry them too
            attach_predictions(analysis, predictions, predictive)
            written = _write_scores(run, analysis.customers)
            run.customers = written
            run.figures = analysis.figures
            run.status = RunStatus.COMPLETED
            run.duration = round(time.perf_counter() - started, 3)
            run.save(update_fields=["customers", "figures", "status", "duration"])
        if step is not None:
            step("Diagnosing segments")
        _store_diagnoses(run)
    except BaseException as error:
        AnalysisRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED,
            error=f"{type(error).__name__}: {error}"[:2000],
            duration=round(time.perf_counter() - started, 3),
        )
        raise
    return run, analysis


RUN_INTERRUPTED = (
    "interrupted: the process making this run stopped before it finished ({why}); "
    "run the analysis again"
)


def run_stale_fail() -> int:
    """Fail the runs left "running" by a process that is gone (``patron analyze`` killed, a
    worker killed, a machine gone); returns how many. A run's maker beats while it works
    (:func:`patron.jobs.heartbeat.run_heartbeat`): a run is failed when its beat has lapsed
    (PATRON_JOB_HEARTBEAT_TIMEOUT), or at once when it beat from this machine and its
    process is no more. Cheap when nothing runs: called where runs are listed or started."""
    from django.utils import timezone

    from patron.jobs.heartbeat import beat_process_gone, run_beat, timeout_seconds

    cutoff = timezone.now() - dt.timedelta(seconds=timeout_seconds())
    failed = 0
    for run in AnalysisRun.objects.filter(status=RunStatus.RUNNING).only("pk", "created_at"):
        beat = run_beat(run.pk)
        if beat is None and run.created_at < cutoff:
            why = f"no sign of life for {timeout_seconds():.0f} s"
        elif beat is not None and beat_process_gone(beat):
            why = f"its process {beat['pid']} on {beat['host']} is gone"
        else:
            continue
        failed += AnalysisRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
            status=RunStatus.FAILED, error=RUN_INTERRUPTED.format(why=why)
        )
    return failed


def analysis_settings_save(*, settings: AnalysisSettings) -> None:
    """Keep ``settings`` for every later run of the store (runs already made keep theirs)."""
    SystemSetting.objects.update_or_create(
        key=ANALYSIS_SETTINGS_KEY, defaults={"value": settings.as_dict()}
    )
