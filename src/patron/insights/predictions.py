"""How good the predictions are: the figures behind the prediction charts, as the run stored
them (pages never fit a model on view).

The analysis run (:func:`patron.insights.runs.predict_customers`) chooses its purchase model
on a holdout (the last :data:`patron.insights.prediction_inputs.HOLDOUT_DAYS` days before its
date) and keeps, in ``figures["predictive"]``: the model choice with each candidate's holdout error,
the holdout check of the model chosen (mean predicted versus actual holdout purchases by
calibration frequency, the weekly tracking curve) and the P(alive) grid by orders and days
since the last purchase. This module turns those into typed objects for the page; a run made
before they were stored shows the grid from its scores (one aggregate query) and asks for a
new run for the rest.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Avg, Case, Count, IntegerField, Q, Value, When

from patron.analytics.purchase_models import (
    FREQUENCY_BINS,
    MAX_FREQUENCY,
    MODEL_LABELS,
    RECENCY_BINS,
    PAliveGrid,
)
from patron.insights.models import AnalysisRun, CustomerScore

__all__ = [
    "MAX_FREQUENCY",
    "HoldoutCheck",
    "ModelScore",
    "holdout_check",
    "p_alive_grid",
]

Grid = PAliveGrid


def _bin(field: str, bins: tuple[tuple[str, int, int | None], ...]) -> Case:
    whens = []
    for index, (_label, low, high) in enumerate(bins):
        condition = Q(**{f"{field}__gte": low})
        if high is not None:
            condition &= Q(**{f"{field}__lte": high})
        whens.append(When(condition, then=Value(index)))
    return Case(*whens, default=Value(-1), output_field=IntegerField())


def _grid_from_scores(run: AnalysisRun) -> PAliveGrid:
    """The grid of a run made before runs stored it: one aggregate query over its scores."""
    rows = (
        CustomerScore.objects.filter(run=run, p_alive__isnull=False, recency_days__isnull=False)
        .annotate(f_bin=_bin("frequency", FREQUENCY_BINS), r_bin=_bin("recency_days", RECENCY_BINS))
        .values("f_bin", "r_bin")
        .annotate(n=Count("pk"), mean=Avg("p_alive"))
        .order_by()
    )
    mean: list[list[float | None]] = [[None] * len(RECENCY_BINS) for _ in FREQUENCY_BINS]
    count = [[0] * len(RECENCY_BINS) for _ in FREQUENCY_BINS]
    for row in rows:
        f, r = int(row["f_bin"]), int(row["r_bin"])
        if f < 0 or r < 0:
            continue
        mean[f][r] = float(row["mean"])
        count[f][r] = int(row["n"])
    return PAliveGrid(
        rows=[label for label, _l, _h in FREQUENCY_BINS],
        columns=[label for label, _l, _h in RECENCY_BINS],
        mean=mean,
        count=count,
    )


def _predictive(run: AnalysisRun) -> dict[str, Any]:
    figures = run.figures if isinstance(run.figures, dict) else {}
    predictive = figures.get("predictive")
    return predictive if isinstance(predictive, dict) else {}


def p_alive_grid(*, run: AnalysisRun) -> PAliveGrid:
    """Mean P(alive) and customer count by orders and days since the last purchase in ``run``
    (as stored with the run)."""
    stored = _predictive(run).get("p_alive_grid")
    if isinstance(stored, dict):
        return PAliveGrid.from_dict(stored)
    return _grid_from_scores(run)


@dataclass(frozen=True)
class ModelScore:
    model: str
    label: str
    mae: float
    rmse: float
    predicted_total: float
    actual_total: float
    customers: int
    chosen: bool


@dataclass(frozen=True)
class HoldoutCheck:
    """The purchase model chosen on a holdout, against what the holdout then showed."""

    chosen: str
    label: str
    scores: list[ModelScore]
    first_purchase: dt.date | None
    calibration_end: dt.date
    observation_end: dt.date
    holdout_days: int
    customers: int
    params: dict[str, float]
    penalizer: float
    mae: float
    rmse: float
    predicted_total: float
    actual_total: float
    frequency: list[int]
    frequency_customers: list[int]
    frequency_expected: list[float]
    frequency_actual: list[float]
    week_end: list[dt.date]
    tracking_expected: list[float]
    tracking_actual: list[float]
    skipped: str | None = None


def holdout_check(*, run: AnalysisRun) -> HoldoutCheck | None:
    """The model choice and holdout check ``run`` stored, or None for a run made before runs
    stored them (or whose prediction was skipped before a model was chosen)."""
    choice = _predictive(run).get("model_choice")
    if not isinstance(choice, dict) or "chosen" not in choice:
        return None
    chosen = str(choice["chosen"])
    scores = [
        ModelScore(
            model=s["model"],
            label=s["label"],
            mae=float(s["mae"]),
            rmse=float(s["rmse"]),
            predicted_total=float(s["predicted_total"]),
            actual_total=float(s["actual_total"]),
            customers=int(s["customers"]),
            chosen=s["model"] == chosen,
        )
        for s in choice.get("scores", [])
    ]
    best = next((s for s in scores if s.chosen), None)
    by = choice.get("by_frequency") or {}
    tracking = choice.get("tracking") or {}
    first = choice.get("first_purchase")
    return HoldoutCheck(
        chosen=chosen,
        label=MODEL_LABELS.get(chosen, chosen),
        scores=scores,
        first_purchase=dt.date.fromisoformat(first) if first else None,
        calibration_end=dt.date.fromisoformat(choice["calibration_end"]),
        observation_end=dt.date.fromisoformat(choice["observation_end"]),
        holdout_days=int(choice["holdout_days"]),
        customers=int(choice.get("customers", best.customers if best else 0)),
        params={k: float(v) for k, v in (choice.get("params") or {}).items()},
        penalizer=float(choice.get("penalizer", 0.0)),
        mae=best.mae if best else float("nan"),
        rmse=best.rmse if best else float("nan"),
        predicted_total=best.predicted_total if best else float("nan"),
        actual_total=best.actual_total if best else float("nan"),
        frequency=[int(v) for v in by.get("frequency", [])],
        frequency_customers=[int(v) for v in by.get("customers", [])],
        frequency_expected=[float(v) for v in by.get("expected", [])],
        frequency_actual=[float(v) for v in by.get("actual", [])],
        week_end=[dt.date.fromisoformat(d) for d in tracking.get("week_end", [])],
        tracking_expected=[float(v) for v in tracking.get("expected", [])],
        tracking_actual=[float(v) for v in tracking.get("actual", [])],
        skipped=choice.get("skipped"),
    )
