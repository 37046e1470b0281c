"""Which purchase model a run uses, how well it did on a holdout, and its P(alive) grid.

A stored analysis run predicts with a purchase model in which a customer *without* a repeat
purchase can also have left: MBG/NBD (Batislam et al. 2007) or Pareto/NBD (Schmittlein et al.
1987). The BG/NBD, whose customers can only drop out right after a repeat purchase, gives
every one-order customer P(alive) = 1 however long ago that order was (Fader, Hardie & Lee
2005, section 3), which contradicts the RFM segment "Lost" beside it.

* :func:`fit_purchase_model`: one model by maximum likelihood, with a small L2 penalty when
  the data do not identify it; P(alive) and the expected purchases in a horizon.
* :func:`choose_purchase_model`: the candidates fitted on a calibration period and scored on
  the holdout that follows with :func:`patron.analytics.clv.select_model` (lowest RMSE of the
  holdout purchases per customer), plus the figures of the holdout check of the model chosen
  (by calibration frequency, and the tracking curve when the daily counts are given).
* :func:`p_alive_grid`: mean P(alive) and customer count by orders and days since the last
  purchase.

No Django here; the insights layer reads the store and keeps the results with the run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from patron.analytics.clv import (
    BGNBD,
    MBGNBD,
    CalibrationHoldout,
    ConvergenceError,
    CustomerSummary,
    NoModelFittedError,
    ParetoNBD,
    holdout_by_frequency,
    select_model,
)
from patron.analytics.clv.evaluation import tracking_curve_from_counts

__all__ = [
    "FREQUENCY_BINS",
    "MODEL_LABELS",
    "PURCHASE_MODELS",
    "RECENCY_BINS",
    "RUN_CANDIDATES",
    "FittedPurchaseModel",
    "PAliveGrid",
    "PredictionError",
    "PurchaseModelChoice",
    "choose_purchase_model",
    "fit_purchase_model",
    "holdout_split",
    "p_alive_grid",
]

PURCHASE_MODELS: dict[str, type[BGNBD] | type[MBGNBD] | type[ParetoNBD]] = {
    "bgnbd": BGNBD,
    "mbgnbd": MBGNBD,
    "paretonbd": ParetoNBD,
}
MODEL_LABELS = {"bgnbd": "BG/NBD", "mbgnbd": "MBG/NBD", "paretonbd": "Pareto/NBD"}
_NAMES = {cls.__name__: name for name, cls in PURCHASE_MODELS.items()}
#: What a stored run chooses from: models in which a one-order customer can have left.
RUN_CANDIDATES: tuple[str, ...] = ("mbgnbd", "paretonbd")
#: L2 penalties tried in turn when the plain fit does not converge.
PENALIZERS = (0.0, 0.01, 0.1)
#: Largest shape parameter a run accepts (the estimators' ``max_shape``). A gamma or beta
#: mixing distribution of shape 10^4 has a coefficient of variation of 1%: the customers'
#: rates are then the same, a limit (a ridge of the likelihood) the data do not identify, and
#: each step of the optimiser towards it is costly. A fit that reaches the bound counts as
#: not identified, like any other, and is tried again with a penalty.
MAX_SHAPE = 1e4
MAX_FREQUENCY = 7  # the calibration-frequency bins of the holdout check: 0, 1, ..., 7+

# (label, lowest, highest or None) of the P(alive) grid's rows (orders) and columns (days).
FREQUENCY_BINS: tuple[tuple[str, int, int | None], ...] = (
    ("1", 1, 1),
    ("2", 2, 2),
    ("3", 3, 3),
    ("4–5", 4, 5),
    ("6–9", 6, 9),
    ("10+", 10, None),
)
RECENCY_BINS: tuple[tuple[str, int, int | None], ...] = (
    ("0–30", 0, 30),
    ("31–60", 31, 60),
    ("61–90", 61, 90),
    ("91–180", 91, 180),
    ("181–365", 181, 365),
    ("366+", 366, None),
)


class PredictionError(ValueError):
    """The purchase model could not be fitted; the message says why."""


@dataclass(frozen=True)
class FittedPurchaseModel:
    """A fitted purchase model with its name, penalty and the predictions on its input."""

    name: str
    model: Any
    penalizer: float
    p_alive: NDArray[np.float64]
    expected: NDArray[np.float64]

    @property
    def params(self) -> dict[str, float]:
        return {k: float(v) for k, v in self.model.params_.items()}


def fit_purchase_model(
    name: str,
    x: NDArray[np.float64],
    tx: NDArray[np.float64],
    big_t: NDArray[np.float64],
    horizon: float,
    *,
    weights: NDArray[np.float64] | None = None,
    penalizers: tuple[float, ...] = PENALIZERS,
) -> FittedPurchaseModel:
    """Fit the model ``name`` (a key of :data:`PURCHASE_MODELS`) by maximum likelihood, or
    with a small L2 penalty when the data do not identify it (few customers, a drop-out too
    rare to estimate: the estimates run off and the predictions are not finite).

    ``weights`` (customers per row) fits distinct (x, t_x, T) rows with their counts, as an
    engine that keeps the customers (Spark) hands them over; the predictions are of the rows.
    ``penalizers``: the penalties tried, in turn.

    Raises
    ------
    PredictionError
        No penalty gives a fit with finite predictions.
    """
    if name not in PURCHASE_MODELS:
        raise ValueError(f"purchase model must be one of {sorted(PURCHASE_MODELS)}, got {name!r}")
    error: str | None = None
    for penalizer in penalizers:
        try:
            # a series may overflow on the way to the optimum; the result is checked below
            with np.errstate(all="ignore"):
                model = PURCHASE_MODELS[name](penalizer_coef=penalizer, max_shape=MAX_SHAPE).fit(
                    x, tx, big_t, weights=weights
                )
        except (ConvergenceError, ValueError, FloatingPointError) as failed:
            error = error or str(failed)
            continue
        with np.errstate(all="ignore"):
            p_alive = np.asarray(model.p_alive(x, tx, big_t), dtype=np.float64)
            expected = np.asarray(model.expected_purchases(horizon, x, tx, big_t), dtype=np.float64)
        if np.isfinite(p_alive).all() and np.isfinite(expected).all():
            return FittedPurchaseModel(
                name, model, penalizer, np.clip(p_alive, 0.0, 1.0), np.maximum(expected, 0.0)
            )
        error = error or f"the predictions are not finite (parameters {model.params_})"
    raise PredictionError(f"the {MODEL_LABELS[name]} fit failed: {error}")


def holdout_split(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    holdout_purchases: ArrayLike,
    duration: float,
    *,
    weights: ArrayLike | None = None,
) -> CalibrationHoldout:
    """A :class:`~patron.analytics.clv.CalibrationHoldout` from per-customer arrays computed
    elsewhere (an engine aggregation): calibration frequency, recency and T, and the purchase
    days in the holdout, all for the customers first seen in the calibration period.
    ``weights``: customers per row, when the rows are distinct rows with their counts."""
    x = np.asarray(frequency, dtype=np.int64)
    n = x.shape[0]
    summary = CustomerSummary(
        customer_id=np.arange(n),
        frequency=x,
        recency=np.asarray(recency, dtype=np.float64),
        T=np.asarray(T, dtype=np.float64),
        monetary_value=np.zeros(n),
        first_purchase=np.zeros(n, dtype="datetime64[D]"),
        unit="weeks",
    )
    return CalibrationHoldout(
        calibration=summary,
        frequency_holdout=np.asarray(holdout_purchases, dtype=np.int64),
        monetary_value_holdout=np.zeros(n),
        duration_holdout=float(duration),
        weights=None if weights is None else np.asarray(weights, dtype=np.float64),
    )


@dataclass(frozen=True)
class PurchaseModelChoice:
    """The model chosen on the holdout, every candidate's score (best first), the failures,
    and the holdout check of the model chosen."""

    chosen: str
    scores: list[dict[str, Any]]
    failures: dict[str, str]
    params: dict[str, float]
    penalizer: float
    by_frequency: dict[str, list[float]] = field(default_factory=dict)
    tracking: dict[str, list[Any]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "chosen": self.chosen,
            "label": MODEL_LABELS[self.chosen],
            "scores": self.scores,
            "failures": self.failures,
            "params": self.params,
            "penalizer": self.penalizer,
            "by_frequency": self.by_frequency,
            "tracking": self.tracking,
        }


def choose_purchase_model(
    split: CalibrationHoldout,
    *,
    candidates: tuple[str, ...] = RUN_CANDIDATES,
    metric: str = "rmse",
    births: tuple[ArrayLike, ArrayLike] | None = None,
    repeats: tuple[ArrayLike, ArrayLike] | None = None,
    start_day: int | None = None,
    end_day: int | None = None,
) -> PurchaseModelChoice:
    """Fit ``candidates`` on the calibration period and keep the lowest holdout error.

    :func:`patron.analytics.clv.select_model` does the choice; a candidate that does not
    converge unpenalised is tried again with the penalties of :func:`fit_purchase_model`.
    ``births`` (day numbers, customers first seen that day) and ``repeats`` (day numbers,
    repeat purchase days that day), with ``start_day`` and ``end_day``, add the weekly
    tracking curve of the chosen model (time in weeks).

    Raises
    ------
    PredictionError
        No candidate can be fitted.
    """
    from patron.analytics.clv import holdout_score

    if not candidates:
        raise ValueError("candidates is empty")
    templates = [PURCHASE_MODELS[name](max_shape=MAX_SHAPE) for name in candidates]
    failures: dict[str, str] = {}
    try:
        # the Pareto/NBD's series may overflow on the way to its optimum: scoped here, and a
        # candidate whose holdout error is not finite counts as failed
        with np.errstate(all="ignore"):
            picked = select_model(templates, split, metric=metric)  # type: ignore[arg-type]
        failures = {_NAMES.get(k, k): v for k, v in picked.failures.items()}
        raised = set(failures)  # their unpenalised fit raised: the penalties are left
        finite = all(np.isfinite(getattr(s, metric)) for s in picked.scores)
        # the best's error is finite and so are the others' (else the order is not reliable):
        # keep the choice; otherwise every candidate is fitted again below, one by one
        fitted = {_NAMES[s.model]: s for s in picked.scores} if finite else {}
        best: Any = picked.best if finite else None
        penalizer = 0.0
        scores = [_score_dict(s, 0.0) for s in picked.scores] if finite else []
    except NoModelFittedError as error:  # every unpenalised fit raised
        fitted, best, scores, penalizer = {}, None, [], 0.0
        failures = {_NAMES.get(k, k): v for k, v in error.failures.items()}
        raised = set(failures)
    except ValueError as error:
        fitted, best, scores, penalizer, raised = {}, None, [], 0.0, set()
        failures = {name: str(error) for name in candidates}
    cal = split.calibration
    x = cal.frequency.astype(np.float64)
    for name in candidates:  # the ones that failed, with a penalty
        if name in fitted:
            continue
        # a fit that raised unpenalised would raise again: go on with the penalties
        penalizers = PENALIZERS[1:] if name in raised else PENALIZERS
        try:
            again = fit_purchase_model(
                name,
                x,
                cal.recency,
                cal.T,
                split.duration_holdout,
                weights=split.weights,
                penalizers=penalizers,
            )
        except PredictionError as error:
            failures[name] = str(error)
            continue
        with np.errstate(all="ignore"):
            score = holdout_score(again.model, split)
        if not np.isfinite(getattr(score, metric)):
            failures[name] = "the holdout error is not finite"
            continue
        failures.pop(name, None)
        scores.append(_score_dict(score, again.penalizer, name))
        if best is None or scores[-1][metric] < min(s[metric] for s in scores[:-1]):
            best, penalizer = again.model, again.penalizer
    if best is None:
        raise PredictionError(f"no purchase model could be fitted on the holdout: {failures}")
    scores.sort(key=lambda s: s[metric])
    chosen = _NAMES[type(best).__name__]
    by = holdout_by_frequency(best, split, max_frequency=MAX_FREQUENCY)
    tracking: dict[str, list[Any]] = {}
    if births is not None and repeats is not None and start_day is not None and end_day:
        curve = tracking_curve_from_counts(
            best, *births, *repeats, start=start_day, end=end_day, period_days=7, unit="weeks"
        )
        tracking = {
            "week_end": [str(d) for d in curve.period_end],
            "expected": [float(v) for v in curve.expected],
            "actual": [float(v) for v in curve.actual],
        }
    return PurchaseModelChoice(
        chosen=chosen,
        scores=scores,
        failures=failures,
        params={k: float(v) for k, v in best.params_.items()},
        penalizer=float(penalizer),
        by_frequency={
            "frequency": by.frequency.tolist(),
            "customers": by.customers.tolist(),
            "expected": [float(v) for v in by.expected],
            "actual": [float(v) for v in by.actual],
        },
        tracking=tracking,
    )


def _score_dict(score: Any, penalizer: float, name: str | None = None) -> dict[str, Any]:
    key = name or _NAMES[score.model]
    return {
        "model": key,
        "label": MODEL_LABELS[key],
        "mae": float(score.mae),
        "rmse": float(score.rmse),
        "predicted_total": float(score.predicted_total),
        "actual_total": float(score.actual_total),
        "customers": int(score.n_customers),
        "penalizer": float(penalizer),
    }


@dataclass(frozen=True)
class PAliveGrid:
    rows: list[str]  # order-count bins, fewest first
    columns: list[str]  # days-since-last-purchase bins, most recent first
    mean: list[list[float | None]]  # mean P(alive); None for an empty cell
    count: list[list[int]]

    def as_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "columns": self.columns, "mean": self.mean, "count": self.count}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PAliveGrid:
        return cls(
            rows=list(data["rows"]),
            columns=list(data["columns"]),
            mean=[list(r) for r in data["mean"]],
            count=[list(r) for r in data["count"]],
        )


def _bin_index(values: NDArray[np.float64], bins: tuple[tuple[str, int, int | None], ...]) -> Any:
    out = np.full(values.shape, -1, dtype=np.int64)
    for index, (_label, low, high) in enumerate(bins):
        inside = values >= low
        if high is not None:
            inside &= values <= high
        out[inside & (out < 0)] = index
    return out


def p_alive_grid(orders: ArrayLike, recency_days: ArrayLike, p_alive: ArrayLike) -> PAliveGrid:
    """Mean P(alive) and customer count by orders (rows) and days since the last purchase
    (columns); customers with a missing value, or outside the bins, are left out.

    Examples
    --------
    >>> g = p_alive_grid([1, 1, 2], [400, 500, 10], [0.25, 0.75, 0.9])
    >>> g.mean[0][5], g.count[0][5], g.mean[1][0]
    (0.5, 2, 0.9)
    """
    f = np.asarray(orders, dtype=np.float64)
    r = np.asarray(recency_days, dtype=np.float64)
    p = np.asarray(p_alive, dtype=np.float64)
    known = np.isfinite(f) & np.isfinite(r) & np.isfinite(p)
    fi = _bin_index(np.where(known, f, -1.0), FREQUENCY_BINS)
    ri = _bin_index(np.where(known, r, -1.0), RECENCY_BINS)
    inside = (fi >= 0) & (ri >= 0)
    shape = (len(FREQUENCY_BINS), len(RECENCY_BINS))
    cell = fi[inside] * shape[1] + ri[inside]
    count = np.bincount(cell, minlength=shape[0] * shape[1]).reshape(shape)
    total = np.bincount(cell, weights=p[inside], minlength=shape[0] * shape[1]).reshape(shape)
    mean = [
        [float(total[i, j] / count[i, j]) if count[i, j] else None for j in range(shape[1])]
        for i in range(shape[0])
    ]
    return PAliveGrid(
        rows=[label for label, _l, _h in FREQUENCY_BINS],
        columns=[label for label, _l, _h in RECENCY_BINS],
        mean=mean,
        count=count.astype(int).tolist(),
    )
