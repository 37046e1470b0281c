"""Predictive value per customer: P(alive), expected purchases, CLV and churn risk.

From the per-customer transaction summary (purchase-day counts, first and last purchase day,
the as-of date and the mean spend of the repeat purchase days) this module fits a purchase
model (BG/NBD, MBG/NBD or Pareto/NBD, time in weeks; a stored run chooses MBG/NBD or
Pareto/NBD on a holdout, :mod:`patron.analytics.purchase_models`) and the Gamma-Gamma spend
model on the repeat customers with a positive repeat spend, and returns for every customer:

* ``p_alive`` and ``expected_purchases`` over a horizon (default 90 days) from the purchase
  model;
* ``clv``: the expected spend per purchase (Gamma-Gamma, eq. (5) of Fader & Hardie 2013; the
  population mean for customers outside its fit: one-time buyers and customers whose repeat
  purchases were worth nothing) times the purchases discounted monthly over 12 months, times
  a margin rate, as :meth:`GammaGamma.clv` computes it; when the Gamma-Gamma model cannot be
  fitted, the same discounted purchases times the customer's mean spend (or the
  population's, for one-time buyers);
* ``value_at_risk``: what the business loses if the customer has left, ``(1 - P(alive))``
  times the CLV of the customer if alive (``clv / P(alive)``: the conditional expectations
  of these models are P(alive) times the expectation given alive);
* ``risk_level``, ``risk_score`` and the reasons in English and Chinese from
  :func:`patron.analytics.churn.churn_risk`.

Everything is vectorised over customers. A BG/NBD fit that fails raises
:class:`PredictionError` with the reason; the caller records the prediction as skipped.
No Django here.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from patron.analytics.churn import churn_risk
from patron.analytics.clv import ConvergenceError, GammaGamma
from patron.analytics.clv.gammagamma import PERIODS_PER_MONTH
from patron.analytics.fit_rows import fit_rows
from patron.analytics.purchase_models import (
    PURCHASE_MODELS,
    PredictionError,
    fit_purchase_model,
)

__all__ = [
    "PREDICTION_COLUMNS",
    "Prediction",
    "PredictionError",
    "PredictiveSettings",
    "ValueModels",
    "fit_value_models",
    "predict_value",
    "score_value",
]

DAYS_PER_WEEK = 7.0
#: Columns of :attr:`Prediction.customers`, in order.
PREDICTION_COLUMNS: tuple[str, ...] = (
    "p_alive",
    "expected_purchases",
    "clv",
    "value_at_risk",
    "risk_level",
    "risk_score",
    "risk_reasons_en",
    "risk_reasons_zh",
)
# Least number of repeat customers to fit the spend model on.
MIN_SPEND_CUSTOMERS = 3
# P(alive) below this counts as this in value_at_risk's clv / P(alive).
MIN_P_ALIVE = 0.01


@dataclass(frozen=True)
class PredictiveSettings:
    """Horizon, discounting and margin of the predictions.

    Attributes
    ----------
    horizon_days : float
        Horizon of ``expected_purchases``.
    months : int
        CLV horizon in months.
    discount_rate : float
        Monthly discount rate of the CLV.
    margin_rate : float
        Share of spend that is margin (1.0: CLV in revenue).
    """

    horizon_days: float = 90.0
    months: int = 12
    discount_rate: float = 0.01
    margin_rate: float = 1.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Prediction:
    """The result of :func:`predict_value`.

    Attributes
    ----------
    customers : pandas.DataFrame
        One row per input position, :data:`PREDICTION_COLUMNS`.
    params : dict
        ``purchase_model`` (its name), the fitted parameters under that name (``bgnbd``: r,
        alpha in weeks, a, b), ``penalizer``, ``gammagamma`` (p, q, v, or None when not
        fitted), ``clv_basis`` ("gammagamma" or "mean_spend"), ``gammagamma_skipped`` (the
        reason, or None) and the settings.
    """

    customers: pd.DataFrame
    params: dict[str, Any]


def _days(value: ArrayLike, name: str) -> NDArray[np.int64]:
    array = np.asarray(value)
    if array.dtype.kind != "M":
        try:
            array = np.asarray(array, dtype="datetime64[D]")
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be dates") from None
    if np.isnat(array).any():
        raise ValueError(f"{name} contains missing dates")
    return np.asarray(array.astype("datetime64[D]").astype(np.int64), dtype=np.int64)


def _finite_params(params: dict[str, float]) -> dict[str, float]:
    return {k: float(v) for k, v in params.items()}


def _discounted_purchases(
    model: Any,
    x: NDArray[np.float64],
    tx: NDArray[np.float64],
    big_t: NDArray[np.float64],
    settings: PredictiveSettings,
) -> NDArray[np.float64]:
    """Sum over months of the expected purchases in the month, discounted (GammaGamma.clv's)."""
    factor = PERIODS_PER_MONTH["weeks"]
    previous = model.expected_purchases(0.0, x, tx, big_t)
    out = np.zeros(x.shape)
    for i in range(1, settings.months + 1):
        current = model.expected_purchases(i * factor, x, tx, big_t)
        out = out + (current - previous) / (1.0 + settings.discount_rate) ** i
        previous = current
    return np.asarray(np.maximum(out, 0.0), dtype=np.float64)


def predict_value(
    purchase_days: ArrayLike,
    first_purchase: ArrayLike,
    last_purchase: ArrayLike,
    as_of: dt.date | np.datetime64 | str,
    repeat_monetary: ArrayLike,
    *,
    average_spend: ArrayLike | None = None,
    settings: PredictiveSettings | None = None,
    purchase_model: str = "bgnbd",
) -> Prediction:
    """Fit the models on a customer summary and predict every customer's value and risk.

    Parameters
    ----------
    purchase_days : array_like of int
        Distinct purchase days per customer (>= 1); the frequency is this minus one.
    first_purchase, last_purchase : array_like of dates
        First and last purchase day per customer.
    as_of : date
        Observation end (inclusive), on or after every last purchase.
    repeat_monetary : array_like of float
        Mean spend of the repeat purchase days (anything where there is none).
    average_spend : array_like of float, optional
        Mean spend per purchase day over all days, used by the mean-spend fallback of the CLV
        (default: ``repeat_monetary``, or the population mean for one-time buyers).
    settings : PredictiveSettings, optional
    purchase_model : {"bgnbd", "mbgnbd", "paretonbd"}
        The purchase model (a stored run passes the one it chose on a holdout).

    Returns
    -------
    Prediction

    Raises
    ------
    ValueError
        Inputs of the wrong shape or with impossible values.
    PredictionError
        The purchase model cannot be fitted (no repeat purchase at all, or no convergence).
    """
    settings = settings or PredictiveSettings()
    if purchase_model not in PURCHASE_MODELS:
        raise ValueError(
            f"purchase_model must be one of {sorted(PURCHASE_MODELS)}, got {purchase_model!r}"
        )
    n_days = np.asarray(purchase_days, dtype=np.float64)
    if n_days.ndim != 1:
        raise ValueError(f"purchase_days must be one-dimensional, got shape {n_days.shape}")
    n = n_days.shape[0]
    first = _days(first_purchase, "first_purchase")
    last = _days(last_purchase, "last_purchase")
    end = int(_days(np.atleast_1d(np.asarray(as_of)), "as_of")[0])
    monetary = np.asarray(repeat_monetary, dtype=np.float64)
    for name, arr in (("first_purchase", first), ("last_purchase", last), ("money", monetary)):
        if arr.shape != (n,):
            raise ValueError(f"{name} must have shape ({n},), got {arr.shape}")
    if n == 0:
        raise PredictionError("there are no customers with a purchase")
    if np.isnan(n_days).any() or (n_days < 1).any():
        raise ValueError("purchase_days must be >= 1 for every customer")
    if (last < first).any() or (last > end).any():
        raise ValueError("purchases must satisfy first <= last <= as_of")

    x = n_days - 1.0
    repeat = (x > 0) & np.isfinite(monetary) & (monetary > 0)
    own = np.asarray(average_spend, dtype=np.float64) if average_spend is not None else None
    if own is not None and own.shape != (n,):
        raise ValueError(f"average_spend must have shape ({n},), got {own.shape}")
    fallback = own if own is not None else np.where(repeat, monetary, 0.0)
    usable = np.isfinite(fallback) & (fallback > 0)
    rows = fit_rows((x, last - first, end - first))
    fit_x, fit_tx, fit_t = rows.weeks()
    models = fit_value_models(
        fit_x,
        fit_tx,
        fit_t,
        weights=rows.weights,
        grid=rows.grid,
        gg_frequency=x[repeat],
        gg_monetary=monetary[repeat],
        population_spend=float(fallback[usable].mean()) if usable.any() else 0.0,
        end_day=end,
        settings=settings,
        purchase_model=purchase_model,
    )
    customers = score_value(models, n_days, first, last, monetary, average_spend=own)
    for name in ("p_alive", "expected_purchases", "clv", "value_at_risk"):
        if not np.isfinite(customers[name].to_numpy(dtype=np.float64)).all():
            raise PredictionError(f"{name} is not finite for some customers")
    return Prediction(customers=customers, params=models.params)


@dataclass(frozen=True)
class ValueModels:
    """The fitted models of :func:`predict_value`, apart from the customers they score: an
    engine that keeps the customers (Spark) fits on distinct rows with their counts and
    scores each partition with :func:`score_value`."""

    model: Any
    gammagamma: GammaGamma | None
    population_spend: float
    end_day: int
    settings: PredictiveSettings
    params: dict[str, Any]


def fit_value_models(
    x: NDArray[np.float64],
    tx: NDArray[np.float64],
    big_t: NDArray[np.float64],
    *,
    weights: NDArray[np.float64] | None = None,
    gg_frequency: NDArray[np.float64],
    gg_monetary: NDArray[np.float64],
    gg_weights: NDArray[np.float64] | None = None,
    population_spend: float,
    end_day: int,
    settings: PredictiveSettings,
    purchase_model: str,
    grid: str = "days",
) -> ValueModels:
    """Fit the purchase model on (x, t_x, T) in weeks and the Gamma-Gamma on the repeat
    customers with a positive repeat spend (``gg_*``), each row counting ``weights`` customers
    (default one). ``population_spend``: the mean spend per purchase day of the customers with
    a positive one (the CLV's spend when the Gamma-Gamma cannot be fitted). ``grid``: the
    resolution of t_x and T (:func:`patron.analytics.fit_rows.grid_name`), kept in the params.

    Raises
    ------
    PredictionError
        No repeat purchase, or the purchase model cannot be fitted.
    """
    if not (x > 0).any():
        raise PredictionError(
            "no customer has a repeat purchase: the purchase model cannot be fitted"
        )
    fitted = fit_purchase_model(
        purchase_model, x, tx, big_t, settings.horizon_days / DAYS_PER_WEEK, weights=weights
    )
    bg_params = fitted.params
    if not all(math.isfinite(v) and v > 0 for v in bg_params.values()):
        raise PredictionError(f"the purchase model gave invalid parameters: {bg_params}")
    # Spend: repeat customers with a positive mean repeat spend are the Gamma-Gamma's input;
    # the others (one-time buyers, repeat purchases worth nothing) leave its fit and get the
    # population's expected spend (frequency 0 in eq. (5)). The purchase model keeps every
    # customer's own (x, t_x, T).
    gg: GammaGamma | None = None
    gg_skipped: str | None = None
    spenders = float(np.sum(gg_weights)) if gg_weights is not None else gg_frequency.size
    if spenders < MIN_SPEND_CUSTOMERS:
        gg_skipped = f"fewer than {MIN_SPEND_CUSTOMERS} repeat customers with spend"
    else:
        try:
            gg = GammaGamma().fit(gg_frequency, gg_monetary, weights=gg_weights)
            check = gg.expected_spend(np.append(gg_frequency, 0.0), np.append(gg_monetary, 0.0))
            if not np.isfinite(np.asarray(check, dtype=np.float64)).all():
                raise ValueError("the spend model has no finite mean (q <= 1)")
        except (ConvergenceError, ValueError, FloatingPointError) as error:
            gg_skipped = f"the Gamma-Gamma fit failed: {error}"
            gg = None
    params: dict[str, Any] = {
        "purchase_model": purchase_model,
        purchase_model: bg_params,
        "penalizer": fitted.penalizer,
        "time_unit": "weeks",
        "fit_grid": grid,
        "gammagamma": _finite_params(gg.params_) if gg is not None else None,
        "clv_basis": "gammagamma" if gg is not None else "mean_spend",
        "gammagamma_skipped": gg_skipped,
        "settings": settings.as_dict(),
    }
    return ValueModels(fitted.model, gg, population_spend, end_day, settings, params)


def score_value(
    models: ValueModels,
    purchase_days: NDArray[np.float64],
    first_day: NDArray[np.int64],
    last_day: NDArray[np.int64],
    repeat_monetary: NDArray[np.float64],
    *,
    average_spend: NDArray[np.float64] | None = None,
) -> pd.DataFrame:
    """:data:`PREDICTION_COLUMNS` for customers (days as day numbers since 1970-01-01); one
    row per input position, each row on its own (a partition at a time is fine)."""
    settings, end = models.settings, models.end_day
    n_days = np.asarray(purchase_days, dtype=np.float64)
    first = np.asarray(first_day, dtype=np.int64)
    last = np.asarray(last_day, dtype=np.int64)
    monetary = np.asarray(repeat_monetary, dtype=np.float64)
    x = n_days - 1.0
    tx = (last - first) / DAYS_PER_WEEK
    big_t = (end - first) / DAYS_PER_WEEK
    model = models.model
    with np.errstate(all="ignore"):
        p_alive = np.clip(np.asarray(model.p_alive(x, tx, big_t), dtype=np.float64), 0.0, 1.0)
        horizon = settings.horizon_days / DAYS_PER_WEEK
        expected = np.maximum(
            np.asarray(model.expected_purchases(horizon, x, tx, big_t), dtype=np.float64), 0.0
        )
    repeat = (x > 0) & np.isfinite(monetary) & (monetary > 0)
    purchases = _discounted_purchases(model, x, tx, big_t, settings)
    if models.gammagamma is not None:
        spend = np.asarray(
            models.gammagamma.expected_spend(
                np.where(repeat, x, 0.0), np.where(repeat, monetary, 0.0)
            ),
            dtype=np.float64,
        )
    else:  # CLV from mean spend
        own = average_spend if average_spend is not None else np.where(repeat, monetary, 0.0)
        own = np.asarray(own, dtype=np.float64)
        usable = np.isfinite(own) & (own > 0)
        spend = np.where(usable, own, models.population_spend)
    clv = np.maximum(settings.margin_rate * spend * purchases, 0.0)
    value_at_risk = clv * (1.0 - p_alive) / np.maximum(p_alive, MIN_P_ALIVE)
    with np.errstate(invalid="ignore", divide="ignore"):
        interval = np.where(x > 0, (last - first) / np.maximum(x, 1.0), np.nan)
    risk = churn_risk(
        p_alive,
        recency_days=(end - last).astype(np.float64),
        mean_interval_days=interval,
        orders=n_days,
    )
    return pd.DataFrame(
        {
            "p_alive": p_alive,
            "expected_purchases": expected,
            "clv": clv,
            "value_at_risk": value_at_risk,
            "risk_level": risk["level"].to_numpy(),
            "risk_score": risk["risk_score"].to_numpy(dtype=np.float64),
            "risk_reasons_en": risk["reasons_en"].to_numpy(),
            "risk_reasons_zh": risk["reasons_zh"].to_numpy(),
        }
    )
