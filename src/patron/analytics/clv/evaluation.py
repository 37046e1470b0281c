"""Holdout evaluation of the repeat-purchase models, and automatic model choice.

* :func:`holdout_score`: per-customer error of the predicted number of holdout purchases
  (``expected_purchases(duration, x, t_x, T)``) against the actual ones: MAE and RMSE, plus
  the predicted and actual totals.
* :func:`holdout_by_frequency`: mean predicted and actual holdout purchases by calibration
  frequency, the conditional-expectation check of Fader, Hardie & Lee (2005, Figure 4).
* :func:`tracking_curve`: cumulative expected versus actual repeat purchases of the whole
  customer base by period, the aggregate check of Fader, Hardie & Lee (2005, Figure 2).
* :func:`select_model`: fit each candidate on the calibration summary and keep the one with
  the lowest holdout error; models that fail to converge are reported, not raised.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import FloatArray, check_counts
from .base import ConvergenceError
from .data import DAYS_PER_UNIT, CalibrationHoldout, _day_number, _per_day, _validate

__all__ = [
    "HoldoutByFrequency",
    "HoldoutScore",
    "ModelChoice",
    "NoModelFittedError",
    "TrackingCurve",
    "holdout_by_frequency",
    "holdout_score",
    "select_model",
    "tracking_curve",
    "tracking_curve_from_counts",
]


class RepeatPurchaseModel(Protocol):
    """What the evaluation needs from BG/NBD, MBG/NBD and Pareto/NBD."""

    def fit(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        *,
        weights: ArrayLike | None = None,
    ) -> Any: ...

    def expected_purchases(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray: ...

    def expected_purchases_new(self, t: ArrayLike) -> FloatArray: ...


@dataclass(frozen=True)
class HoldoutScore:
    """Holdout error of one model (purchases per customer)."""

    model: str
    mae: float
    rmse: float
    predicted_total: float
    actual_total: float
    n_customers: int


@dataclass(frozen=True)
class TrackingCurve:
    """Cumulative repeat purchases of the customer base at the end of each period."""

    period_end: NDArray[np.datetime64]
    actual: FloatArray
    expected: FloatArray

    @property
    def actual_per_period(self) -> FloatArray:
        return np.diff(self.actual, prepend=0.0)

    @property
    def expected_per_period(self) -> FloatArray:
        return np.diff(self.expected, prepend=0.0)


@dataclass(frozen=True)
class HoldoutByFrequency:
    """Per calibration frequency (the last bin: that many or more), mean holdout purchases."""

    frequency: NDArray[np.int64]
    customers: NDArray[np.int64]
    expected: FloatArray
    actual: FloatArray


class NoModelFittedError(ValueError):
    """:func:`select_model` could fit none of the models; ``failures`` holds each one's
    :class:`ConvergenceError` message by model name."""

    def __init__(self, failures: dict[str, str]) -> None:
        super().__init__(f"no model could be fitted: {failures}")
        self.failures = failures


@dataclass(frozen=True)
class ModelChoice:
    """The fitted best model, every score (best first) and the failures by model name."""

    best: RepeatPurchaseModel
    scores: tuple[HoldoutScore, ...]
    failures: dict[str, str]


def holdout_score(model: RepeatPurchaseModel, split: CalibrationHoldout) -> HoldoutScore:
    """Compare a fitted model's holdout predictions with the actual holdout purchases.

    Examples
    --------
    >>> from patron.analytics.clv import BGNBD, calibration_holdout_split
    >>> split = calibration_holdout_split(
    ...     ["a", "a", "b", "a"],
    ...     np.array(["2024-01-01", "2024-01-05", "2024-01-02", "2024-02-01"], "datetime64[D]"),
    ...     calibration_end="2024-01-15", observation_end="2024-02-15",
    ... )
    >>> m = BGNBD.from_params(r=0.25, alpha=4.0, a=0.8, b=2.5)
    >>> holdout_score(m, split).actual_total
    1.0
    """
    cal = split.calibration
    predicted = np.asarray(
        model.expected_purchases(split.duration_holdout, cal.frequency, cal.recency, cal.T),
        dtype=np.float64,
    )
    actual = split.frequency_holdout.astype(np.float64)
    err = predicted - actual
    if split.weights is not None:  # distinct rows with their counts
        w = split.weights
        total = float(np.sum(w))
        return HoldoutScore(
            model=type(model).__name__,
            mae=float(np.sum(w * np.abs(err)) / total),
            rmse=float(np.sqrt(np.sum(w * err**2) / total)),
            predicted_total=float(np.sum(w * predicted)),
            actual_total=float(np.sum(w * actual)),
            n_customers=round(total),
        )
    return HoldoutScore(
        model=type(model).__name__,
        mae=float(np.mean(np.abs(err))),
        rmse=float(np.sqrt(np.mean(err**2))),
        predicted_total=float(np.sum(predicted)),
        actual_total=float(np.sum(actual)),
        n_customers=int(actual.shape[0]),
    )


def holdout_by_frequency(
    model: RepeatPurchaseModel, split: CalibrationHoldout, *, max_frequency: int = 7
) -> HoldoutByFrequency:
    """Mean predicted and actual holdout purchases of the customers of each calibration
    frequency ``0, 1, ..., max_frequency`` (the last bin holds ``max_frequency`` and more).

    The conditional-expectation plot of Fader, Hardie & Lee (2005, Figure 4) and lifetimes'
    ``plot_calibration_purchases_vs_holdout_purchases``. Bins without customers are left out.

    Examples
    --------
    >>> from patron.analytics.clv import BGNBD, calibration_holdout_split
    >>> split = calibration_holdout_split(
    ...     ["a", "a", "b", "a"],
    ...     np.array(["2024-01-01", "2024-01-05", "2024-01-02", "2024-02-01"], "datetime64[D]"),
    ...     calibration_end="2024-01-15", observation_end="2024-02-15",
    ... )
    >>> m = BGNBD.from_params(r=0.25, alpha=4.0, a=0.8, b=2.5)
    >>> by = holdout_by_frequency(m, split)
    >>> by.frequency.tolist(), by.customers.tolist(), by.actual.tolist()
    ([0, 1], [1, 1], [0.0, 1.0])
    """
    top = int(check_counts(max_frequency, "max_frequency", minimum=1))
    cal = split.calibration
    predicted = np.asarray(
        model.expected_purchases(split.duration_holdout, cal.frequency, cal.recency, cal.T),
        dtype=np.float64,
    )
    group = np.minimum(cal.frequency, top)
    w = split.weights
    if w is None:
        customers = np.bincount(group, minlength=top + 1)
        expected = np.bincount(group, weights=predicted, minlength=top + 1)
        actual = np.bincount(group, weights=split.frequency_holdout, minlength=top + 1)
    else:  # distinct rows with their counts
        customers = np.rint(np.bincount(group, weights=w, minlength=top + 1)).astype(np.int64)
        expected = np.bincount(group, weights=w * predicted, minlength=top + 1)
        actual = np.bincount(group, weights=w * split.frequency_holdout, minlength=top + 1)
    present = customers > 0
    n = customers[present]
    return HoldoutByFrequency(
        frequency=np.flatnonzero(present).astype(np.int64),
        customers=n.astype(np.int64),
        expected=expected[present] / n,
        actual=actual[present] / n,
    )


def select_model(
    models: Sequence[RepeatPurchaseModel],
    split: CalibrationHoldout,
    *,
    metric: Literal["rmse", "mae"] = "rmse",
) -> ModelChoice:
    """Fit copies of ``models`` on the calibration summary; keep the lowest holdout error.

    The estimators passed in are left untouched (each is deep-copied before fitting).

    Raises
    ------
    ValueError
        If ``models`` is empty or ``metric`` is unknown; :class:`NoModelFittedError` (a
        ``ValueError``) if no model could be fitted.
    """
    if metric not in ("rmse", "mae"):
        raise ValueError(f"metric must be 'rmse' or 'mae', got {metric!r}")
    if not models:
        raise ValueError("models is empty")
    cal = split.calibration
    fitted: list[tuple[HoldoutScore, RepeatPurchaseModel]] = []
    failures: dict[str, str] = {}
    for i, template in enumerate(models):
        model = copy.deepcopy(template)
        name = type(model).__name__
        if any(s.model == name for s, _ in fitted) or name in failures:
            name = f"{name}#{i}"
        try:
            model.fit(cal.frequency, cal.recency, cal.T, weights=split.weights)
        except ConvergenceError as exc:
            failures[name] = str(exc)
            continue
        score = holdout_score(model, split)
        fitted.append((dataclasses.replace(score, model=name), model))
    if not fitted:
        raise NoModelFittedError(failures)
    fitted.sort(key=lambda item: getattr(item[0], metric))
    return ModelChoice(fitted[0][1], tuple(s for s, _ in fitted), failures)


def tracking_curve(
    model: RepeatPurchaseModel,
    customer_id: ArrayLike,
    date: ArrayLike,
    *,
    start: Any = None,
    end: Any = None,
    period_days: int = 7,
    unit: str = "days",
) -> TrackingCurve:
    """Cumulative expected versus actual repeat purchases of all customers, by period.

    Customers are born on their first purchase day; a customer born on day ``d0`` is expected
    to have made ``model.expected_purchases_new((e - d0) / unit)`` repeat purchases by the
    end of day ``e``. Periods of ``period_days`` days start at ``start`` (default: first
    date); the last period ends on ``end`` (default: last date) or before it. Repeat
    purchases are counted per day, as in :func:`~patron.analytics.clv.summarize_transactions`.
    """
    data = _validate(customer_id, date, None)
    if unit not in DAYS_PER_UNIT:
        raise ValueError(f"unit must be one of {sorted(DAYS_PER_UNIT)}, got {unit!r}")
    period = int(check_counts(period_days, "period_days", minimum=1))
    if data.day.size == 0:
        raise ValueError("there are no transactions")
    first_day = int(data.day.min()) if start is None else _day_number([start], "start")[0]
    last_day = int(data.day.max()) if end is None else _day_number([end], "end")[0]
    if last_day < first_day + period - 1:
        raise ValueError("end must leave at least one whole period after start")
    keep = (data.day >= first_day) & (data.day <= last_day)
    n_cust = data.ids.shape[0]
    _, day, n_days, _ = _per_day(
        data.customer[keep], data.day[keep], np.zeros(int(keep.sum())), n_cust
    )
    present = n_days > 0
    starts = np.concatenate([[0], np.cumsum(n_days)[:-1]]).astype(np.int64)
    birth = day[starts[present]] if day.size else np.zeros(0, dtype=np.int64)
    repeat = np.ones(day.shape[0], dtype=bool)
    repeat[starts[present]] = False
    births, counts = np.unique(birth, return_counts=True)
    repeat_days, repeat_counts = np.unique(day[repeat], return_counts=True)
    return tracking_curve_from_counts(
        model,
        births,
        counts,
        repeat_days,
        repeat_counts,
        start=first_day,
        end=last_day,
        period_days=period,
        unit=unit,
    )


def tracking_curve_from_counts(
    model: RepeatPurchaseModel,
    birth_day: ArrayLike,
    birth_count: ArrayLike,
    repeat_day: ArrayLike,
    repeat_count: ArrayLike,
    *,
    start: int,
    end: int,
    period_days: int = 7,
    unit: str = "days",
) -> TrackingCurve:
    """:func:`tracking_curve` from daily counts an engine aggregated: the customers first
    seen on each day (``birth_day`` as day numbers since 1970-01-01, ``birth_count``) and the
    repeat purchase days on each day (``repeat_day``, ``repeat_count``); periods of
    ``period_days`` days from day ``start`` up to day ``end``.

    Examples
    --------
    >>> from patron.analytics.clv import BGNBD
    >>> m = BGNBD.from_params(r=0.25, alpha=4.0, a=0.8, b=2.5)
    >>> c = tracking_curve_from_counts(m, [0], [2], [3, 9], [1, 1], start=0, end=13)
    >>> c.actual.tolist()
    [1.0, 2.0]
    """
    if unit not in DAYS_PER_UNIT:
        raise ValueError(f"unit must be one of {sorted(DAYS_PER_UNIT)}, got {unit!r}")
    period = int(check_counts(period_days, "period_days", minimum=1))
    first_day, last_day = int(start), int(end)
    if last_day < first_day + period - 1:
        raise ValueError("end must leave at least one whole period after start")
    births = np.asarray(birth_day, dtype=np.int64)
    counts = np.asarray(birth_count, dtype=np.float64)
    r_day = np.asarray(repeat_day, dtype=np.int64)
    order = np.argsort(r_day, kind="stable")
    r_day = r_day[order]
    r_cum = np.cumsum(np.asarray(repeat_count, dtype=np.float64)[order])
    ends = np.arange(first_day + period - 1, last_day + 1, period, dtype=np.int64)
    per = DAYS_PER_UNIT[unit]
    expected = np.empty(ends.shape[0])
    for k, e in enumerate(ends):
        born = births <= e
        ages = (e - births[born]) / per
        expected[k] = float(np.sum(np.asarray(model.expected_purchases_new(ages)) * counts[born]))
    upto = np.searchsorted(r_day, ends, side="right")
    actual = (
        np.where(upto > 0, r_cum[np.maximum(upto - 1, 0)], 0.0)
        if r_cum.size
        else np.zeros(ends.shape[0])
    )
    return TrackingCurve(
        ends.astype("datetime64[D]"), np.asarray(actual, dtype=np.float64), expected
    )
