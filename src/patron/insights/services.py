"""Writes: an analysis run of the store, with its per-customer scores written in bulk."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.db import connection, transaction

from patron import __version__
from patron.core.errors import PatronError
from patron.customers.models import Customer
from patron.insights.models import AnalysisRun, CustomerScore, RunStatus

if TYPE_CHECKING:
    import pandas as pd

    from patron.analytics.report import AnalysisSettings, ValueAnalysis

NO_ORDERS = "There are no orders to analyse; import transactions first."
STAGE = "patron_stage_scores"
# (column, SQLite type, PostgreSQL type)
_STAGE_COLUMNS = (
    ("customer_ext", "TEXT", "text"),
    ("recency_days", "INTEGER", "integer"),
    ("frequency", "INTEGER", "integer"),
    ("monetary", "TEXT", "numeric(14,2)"),
    ("r_score", "INTEGER", "smallint"),
    ("f_score", "INTEGER", "smallint"),
    ("m_score", "INTEGER", "smallint"),
    ("segment", "TEXT", "text"),
    ("value_tier", "TEXT", "text"),
    ("revenue", "TEXT", "numeric(14,2)"),
    ("margin", "TEXT", "numeric(14,2)"),
    ("cost_to_serve", "TEXT", "numeric(14,2)"),
    ("profit", "TEXT", "numeric(14,2)"),
    ("p_alive", "REAL", "double precision"),
    ("expected_purchases", "REAL", "double precision"),
    ("clv", "TEXT", "numeric(14,2)"),
    ("risk_level", "TEXT", "text"),
    ("risk_score", "REAL", "double precision"),
    ("risk_reasons_en", "TEXT", "text"),
    ("risk_reasons_zh", "TEXT", "text"),
)
_MONEY = ("monetary", "revenue", "margin", "cost_to_serve", "profit", "clv")
_FLOATS = ("p_alive", "expected_purchases", "risk_score")
_TEXTS = ("risk_level", "risk_reasons_en", "risk_reasons_zh")
BATCH_ROWS = 50_000


class AnalysisError(PatronError):
    default_code = "insights.analysis_failed"


def _money_text(values: pd.Series) -> list[str | None]:
    """Money as exact two-decimal text (None when unknown), for NUMERIC columns."""
    import numpy as np

    cents = np.rint(values.to_numpy(dtype=np.float64) * 100)
    known = ~np.isnan(cents)
    out: list[str | None] = [None] * len(cents)
    whole = np.where(known, cents, 0).astype(np.int64)
    for i in np.flatnonzero(known):
        c = int(whole[i])
        sign = "-" if c < 0 else ""
        out[i] = f"{sign}{abs(c) // 100}.{abs(c) % 100:02d}"
    return out


def _stage_rows(customers: pd.DataFrame) -> list[list[object]]:
    columns: list[list[object]] = []
    for name, _lite, _pg in _STAGE_COLUMNS:
        if name == "customer_ext":
            columns.append(customers["customer_id"].tolist())
        elif name in _MONEY:
            columns.append(_money_text(customers[name]))  # type: ignore[arg-type]
        elif name in _FLOATS:
            floats = customers[name].to_numpy(dtype="float64", na_value=float("nan"))
            columns.append([None if v != v else float(v) for v in floats.tolist()])
        elif name in _TEXTS:
            columns.append([v if isinstance(v, str) else None for v in customers[name].tolist()])
        elif name == "recency_days":
            values = customers[name]
            columns.append([None if v is None or v != v else int(v) for v in values.astype(object)])
        else:
            columns.append(customers[name].tolist())
    return [list(row) for row in zip(*columns, strict=True)]


def _with_predictions(customers: pd.DataFrame, predictions: pd.DataFrame | None) -> pd.DataFrame:
    """The scores plus the prediction columns (all missing when the prediction was skipped)."""
    import numpy as np

    from patron.analytics.predictive import PREDICTION_COLUMNS

    out = customers.copy(deep=False)
    for name in PREDICTION_COLUMNS:
        if predictions is not None:
            out[name] = predictions[name].to_numpy()
        else:
            out[name] = None if name in _TEXTS else np.nan
    return out


def _write_scores(run: AnalysisRun, customers: pd.DataFrame) -> int:
    """Stage the scores in a temporary table, then one INSERT ... SELECT joins the customers."""
    postgres = connection.vendor == "postgresql"
    names = [c[0] for c in _STAGE_COLUMNS]
    types = ", ".join(f"{n} {pg if postgres else lite}" for n, lite, pg in _STAGE_COLUMNS)
    score = connection.ops.quote_name(CustomerScore._meta.db_table)
    customer = connection.ops.quote_name(Customer._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
        cursor.execute(f"CREATE TEMPORARY TABLE {STAGE} ({types})")
        try:
            for start in range(0, len(customers), BATCH_ROWS):
                rows = _stage_rows(customers.iloc[start : start + BATCH_ROWS])
                if postgres:
                    with cursor.cursor.copy(f"COPY {STAGE} ({', '.join(names)}) FROM STDIN") as cp:
                        for row in rows:
                            cp.write_row(row)
                else:
                    marks = ", ".join("?" for _ in names)
                    cursor.executemany(
                        f"INSERT INTO {STAGE} ({', '.join(names)}) VALUES ({marks})", rows
                    )
            money = (lambda c: f"s.{c}") if postgres else (lambda c: f"CAST(s.{c} AS NUMERIC)")
            cursor.execute(
                f"""INSERT INTO {score} (run_id, customer_id, recency_days, frequency, monetary,
                        r_score, f_score, m_score, segment, value_tier, revenue, margin,
                        cost_to_serve, profit, p_alive, expected_purchases, clv, risk_level,
                        risk_score, risk_reasons_en, risk_reasons_zh)
                    SELECT %s, c.id, s.recency_days, s.frequency, {money("monetary")},
                        s.r_score, s.f_score, s.m_score, s.segment, s.value_tier,
                        {money("revenue")}, {money("margin")}, {money("cost_to_serve")},
                        {money("profit")}, s.p_alive, s.expected_purchases, {money("clv")},
                        s.risk_level, s.risk_score, s.risk_reasons_en, s.risk_reasons_zh
                    FROM {STAGE} s JOIN {customer} c ON c.external_id = s.customer_ext""",
                [run.pk],
            )
            written = int(cursor.rowcount)
        finally:
            cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
    return written


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
    from patron.analytics.report import AnalysisSettings, analyze_transactions
    from patron.insights.runs import predict_customers
    from patron.insights.selectors import store_transactions

    settings = settings or AnalysisSettings()
    started = time.perf_counter()
    transactions = store_transactions()
    try:
        from patron.analytics.report import default_as_of

        as_of = as_of or default_as_of(transactions)
    except ValueError:
        raise AnalysisError(NO_ORDERS) from None
    run = AnalysisRun(as_of=as_of, settings=settings.as_dict(), code_version=__version__)
    run.full_clean()
    run.save()
    try:
        try:
            analysis = analyze_transactions(transactions, as_of=as_of, settings=settings, step=step)
        except ValueError as error:
            raise AnalysisError(str(error)) from None
        if step is not None:
            step("Predicting value")
        predictions, predictive = predict_customers(transactions, analysis)
        analysis.figures["predictive"] = predictive
        if step is not None:
            step("Storing scores")
        with transaction.atomic():
            written = _write_scores(run, _with_predictions(analysis.customers, predictions))
            run.customers = written
            run.figures = analysis.figures
            run.status = RunStatus.COMPLETED
            run.duration = round(time.perf_counter() - started, 3)
            run.save(update_fields=["customers", "figures", "status", "duration"])
    except BaseException as error:
        AnalysisRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED,
            error=f"{type(error).__name__}: {error}"[:2000],
            duration=round(time.perf_counter() - started, 3),
        )
        raise
    return run, analysis
