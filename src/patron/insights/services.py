"""Writes: an analysis run of the store, with its per-customer scores written in bulk
(:mod:`patron.insights.run_writes`)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.db import transaction

from patron.core.models import SystemSetting
from patron.insights.errors import NO_ORDERS, AnalysisError
from patron.insights.models import AnalysisRun, RunStatus
from patron.insights.run_writes import (
    run_complete,
    run_failed_on_error,
    run_start,
    stage_batches,
    store_diagnoses,
    write_scores,
)
from patron.insights.selectors import ANALYSIS_SETTINGS_KEY, analysis_settings_get, contact_counts
from patron.jobs.heartbeat import run_heartbeat

if TYPE_CHECKING:
    from patron.analytics.report import AnalysisSettings, ValueAnalysis


def analysis_run_create(
    *,
    as_of: dt.date | None = None,
    settings: AnalysisSettings | None = None,
    step: Callable[[str], None] | None = None,
    engine: str | None = None,
) -> tuple[AnalysisRun, ValueAnalysis]:
    """Analyse the store as of a date and keep the run and every customer's scores.

    The run is recorded as "running" first; its scores and figures are written in one
    transaction, and a failure leaves the run marked "failed" with the error. With
    ``PATRON_ANALYSIS_ENGINE=spark`` (or ``engine="spark"``) the run is made on Spark
    (:func:`patron.insights.spark_store.spark_run_create`; the analysis it returns has no
    customer rows, they are in the run's scores).

    Raises
    ------
    AnalysisError
        There are no orders on or before ``as_of``.
    """
    from patron.insights.engine import analysis_engine, analysis_transactions

    run_stale_fail()
    settings = settings or analysis_settings_get()
    started = time.perf_counter()
    if step is not None:
        step("Reading the orders")
    if engine == "spark" or (engine is None and analysis_engine() == "spark"):
        from patron.insights.spark_store import spark_run_create

        return spark_run_create(as_of=as_of, settings=settings, step=step, started=started)
    transactions = analysis_transactions(as_of=as_of)
    try:
        from patron.analytics.report import default_as_of

        as_of = as_of or default_as_of(transactions)
    except ValueError:
        raise AnalysisError(NO_ORDERS) from None
    run = run_start(as_of=as_of, settings=settings)
    # a run whose process dies is failed by run_stale_fail
    with run_heartbeat(run.pk), run_failed_on_error(run, started=started):
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
    from patron.insights.runs import attach_predictions, kpis_and_inputs, predict_customers

    as_of = run.as_of
    try:
        kpis, inputs = kpis_and_inputs(
            transactions, as_of=as_of, settings=settings, step=step, materialize=False
        )
        analysis = analyze_transactions(
            transactions,
            as_of=as_of,
            settings=settings,
            contacts=contact_counts(as_of=as_of),
            step=step,
            kpis=kpis,
        )
    except ValueError as error:
        raise AnalysisError(str(error)) from None
    if step is not None:
        step("Predicting value")
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
        customers = analysis.customers
        written = write_scores(run, stage_batches(customers), rows=len(customers))
        run_complete(run, customers=written, figures=analysis.figures, started=started)
    if step is not None:
        step("Diagnosing segments")
    store_diagnoses(run)
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
