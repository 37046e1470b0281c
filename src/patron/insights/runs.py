"""Analysis runs end to end: from a file (no database) or from the store (kept as a run).

``analyze_file`` is what ``patron analyze --source`` calls: the importer's reading and
validation, DuckDB in memory, :func:`patron.analytics.report.analyze_transactions`. It never
touches Django. A stored run (the app database read through Ibis, kept with its scores) is
:func:`patron.insights.services.analysis_run_create`, which calls the predictions here: this
module never imports the services, so the two are no circle.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from patron.analytics.report import (
    AnalysisSettings,
    ValueAnalysis,
    analyze_transactions,
    default_as_of,
)

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pandas as pd

    from patron.analytics.kpis import Cohorts
    from patron.insights.sources import FileTransactions

Step = Callable[[str], None]


@dataclass(frozen=True)
class FileAnalysis:
    source: FileTransactions
    analysis: ValueAnalysis


def analyze_file(
    path: str | Path,
    *,
    as_of: dt.date | None = None,
    settings: AnalysisSettings | None = None,
    mapping: Mapping[str, str] | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
    date_format: str | None = None,
    skip_bad: bool = False,
    step: Step | None = None,
    progress: Callable[[int], None] | None = None,
) -> FileAnalysis:
    """Read, validate and analyse a transaction file; nothing is stored.

    Raises
    ------
    IngestError, AnalysisSourceError
        The file cannot be read or has invalid rows (see :mod:`patron.insights.sources`).
    ValueError
        No transaction on or before ``as_of``.
    """
    from patron.insights.sources import read_transactions_file

    if step is not None:
        step("Reading and validating")
    source = read_transactions_file(
        path,
        mapping=mapping,
        encoding=encoding,
        delimiter=delimiter,
        sheet=sheet,
        date_format=date_format,
        skip_bad=skip_bad,
        progress=progress,
    )
    table = source.ibis_table()
    settings = settings or AnalysisSettings()
    as_of = as_of or default_as_of(table, step=step)
    kpis, inputs = kpis_and_inputs(table, as_of=as_of, settings=settings, step=step)
    analysis = analyze_transactions(table, as_of=as_of, settings=settings, step=step, kpis=kpis)
    if step is not None:
        step("Predicting value")
    predictions, predictive = predict_customers(inputs, analysis)
    attach_predictions(analysis, predictions, predictive)
    return FileAnalysis(source=source, analysis=analysis)


def kpis_and_inputs(
    transactions: ir.Table,
    *,
    as_of: dt.date,
    settings: AnalysisSettings,
    step: Step | None = None,
    materialize: bool = True,
) -> tuple[tuple[pd.DataFrame, Cohorts] | None, pd.DataFrame]:
    """The monthly KPIs and cohorts (None without ``settings.kpis``) and the predictions'
    inputs, from one table of purchase days materialised in the engine: grouping the rows by
    customer and day is the largest part of each (10M rows: ~3 s a grouping).

    Without KPIs the inputs group the rows on their own, on a lighter table (no neighbours);
    ``materialize`` is theirs then (see
    :func:`~patron.insights.prediction_inputs.predictive_inputs`).
    """
    from patron.analytics.kpis import kpis_and_cohorts, purchase_days
    from patron.insights.prediction_inputs import predictive_inputs

    if not settings.kpis:
        return None, predictive_inputs(transactions, as_of=as_of, materialize=materialize)
    if step is not None:
        step("Monthly KPIs")
    with purchase_days(transactions, as_of=as_of).cache() as days:
        kpis = kpis_and_cohorts(
            transactions, as_of=as_of, lost_after_days=settings.lost_after_days, days=days
        )
        return kpis, predictive_inputs(transactions, as_of=as_of, days=days)


def attach_predictions(
    analysis: ValueAnalysis, predictions: pd.DataFrame | None, predictive: dict[str, Any]
) -> None:
    """Put the predictions beside the customers of ``analysis`` (all missing when the
    prediction was skipped) and their figures under ``figures["predictive"]``, so that the
    files written from it (customers.csv, the workbook) carry them."""
    import numpy as np

    from patron.analytics.predictive import PREDICTION_COLUMNS

    customers = analysis.customers
    for name in PREDICTION_COLUMNS:
        if predictions is not None:
            customers[name] = predictions[name].to_numpy()
        elif name.startswith("risk_level") or name.startswith("risk_reasons"):
            customers[name] = None
        else:
            customers[name] = np.nan
    analysis.figures["predictive"] = predictive


def _margin_rate(analysis: ValueAnalysis) -> tuple[float, str]:
    """The margin rate of the CLV: the setting, else the data's margin share, else 1."""
    import numpy as np

    rate = analysis.settings.profit.default_margin_rate
    if rate is not None:
        return float(rate), "setting"
    customers = analysis.customers
    margin = customers["margin"].to_numpy(dtype=np.float64, na_value=np.nan)
    revenue = customers["revenue"].to_numpy(dtype=np.float64, na_value=np.nan)
    known = np.isfinite(margin) & np.isfinite(revenue)
    total = float(revenue[known].sum())
    if known.any() and total > 0:
        return float(np.clip(margin[known].sum() / total, 0.0, 1.0)), "data"
    return 1.0, "revenue"


def predict_customers(
    inputs: pd.DataFrame, analysis: ValueAnalysis
) -> tuple[pd.DataFrame | None, dict[str, Any]]:
    """Predictive value per customer of ``analysis`` and the figures of the run.

    ``inputs`` is :func:`~patron.insights.prediction_inputs.predictive_inputs` of the run's
    transactions: read before, so that
    the caller can free the transactions before the models run.

    Returns the predictions aligned row by row with ``analysis.customers`` (missing for a
    customer with returns only), and ``figures["predictive"]``: the fitted parameters, the
    predicted value (sum of CLV) and the value at risk (CLV of the high-risk customers). A fit
    that fails gives no predictions and ``{"skipped": True, "reason": ...}``.
    """
    import numpy as np

    from patron.analytics.predictive import (
        PredictionError,
        PredictiveSettings,
        predict_value,
    )
    from patron.analytics.purchase_models import p_alive_grid

    rate, basis = _margin_rate(analysis)
    from patron.insights.prediction_inputs import choose_model

    choice = choose_model(inputs, as_of=analysis.as_of)
    try:
        prediction = predict_value(
            inputs["purchase_days"].to_numpy(),
            inputs["first_purchase"].to_numpy(),
            inputs["last_purchase"].to_numpy(),
            analysis.as_of,
            inputs["repeat_monetary"].to_numpy(),
            average_spend=inputs["average_spend"].to_numpy(),
            settings=PredictiveSettings(margin_rate=rate),
            purchase_model=choice["chosen"],
        )
    except (PredictionError, ValueError) as error:
        return None, {"skipped": True, "reason": str(error), "model_choice": choice}
    aligned = _aligned(prediction.customers, inputs["customer_id"], analysis.customers)
    grid = p_alive_grid(
        analysis.customers["frequency"].to_numpy(dtype=np.float64, na_value=np.nan),
        analysis.customers["recency_days"].to_numpy(dtype=np.float64, na_value=np.nan),
        aligned["p_alive"].to_numpy(dtype=np.float64, na_value=np.nan),
    )
    clv = prediction.customers["clv"].to_numpy(dtype=np.float64)
    level = prediction.customers["risk_level"].to_numpy()
    levels = {name: int((level == name).sum()) for name in ("high", "medium", "low")}
    figures = {
        "skipped": False,
        "params": prediction.params,
        "model_choice": choice,
        "p_alive_grid": grid.as_dict(),
        "margin_rate": rate,
        "margin_basis": basis,
        "predicted_value": round(float(clv.sum()), 2),
        "value_at_risk": round(float(clv[level == "high"].sum()), 2),
        "value_at_risk_total": round(
            float(prediction.customers["value_at_risk"].to_numpy(dtype=np.float64).sum()), 2
        ),
        "risk_levels": levels,
        "customers": len(inputs),
    }
    return aligned, figures


def _aligned(predicted: pd.DataFrame, ids: pd.Series, customers: pd.DataFrame) -> pd.DataFrame:
    """``predicted`` (one row per ``ids``) row by row with ``customers``; a customer without a
    prediction (returns only) gets missing values. An index lookup, not a merge: a merge of a
    million rows copies every column twice, at the run's peak of memory."""
    import numpy as np
    import pandas as pd

    from patron.analytics.predictive import PREDICTION_COLUMNS

    position = pd.Index(ids.to_numpy()).get_indexer(customers["customer_id"].to_numpy())
    found = position >= 0
    take = np.where(found, position, 0)
    columns = {}
    for name in PREDICTION_COLUMNS:
        values = predicted[name].to_numpy()
        if found.all():
            columns[name] = values[take]
        elif values.dtype.kind in "fiu":  # missing as NaN, as a merge gives
            columns[name] = np.where(found, values[take].astype(np.float64), np.nan)
        else:  # text: missing as None
            column = values[take].astype(object)
            column[~found] = None
            columns[name] = column
    return pd.DataFrame(columns, copy=False)


def run_summary(analysis: ValueAnalysis) -> dict[str, Any]:
    """The headline figures for ``--json`` output and the console."""
    f = analysis.figures
    keys = (
        "as_of",
        "customers",
        "orders",
        "revenue",
        "profit",
        "value_basis",
        "top20_revenue_share",
        "gini",
        "concentration_statement",
        "tiers",
        "segments",
    )
    return {k: f.get(k) for k in keys}
