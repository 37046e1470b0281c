"""Predictive value per customer: P(alive), expected purchases, CLV and churn risk.

From the per-customer transaction summary (purchase-day counts, first and last purchase day,
the as-of date and the mean spend of the repeat purchase days) this module fits the BG/NBD
(time in weeks) and the Gamma-Gamma spend model on the repeat customers, and returns for
every customer:

* ``p_alive`` and ``expected_purchases`` over a horizon (default 90 days) from the BG/NBD;
* ``clv``: :meth:`GammaGamma.clv` (monthly discounting over 12 months, times a margin rate);
  when the Gamma-Gamma model cannot be fitted, the same discounted purchases times the
  customer's mean spend (or the population's, for one-time buyers);
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
from patron.analytics.clv import BGNBD, ConvergenceError, GammaGamma
from patron.analytics.clv.gammagamma import PERIODS_PER_MONTH

__all__ = [
    "PREDICTION_COLUMNS",
    "Prediction",
    "PredictionError",
    "PredictiveSettings",
    "fit_bgnbd",
    "predict_value",
]

DAYS_PER_WEEK = 7.0
#: Columns of :attr:`Prediction.customers`, in order.
PREDICTION_COLUMNS: tuple[str, ...] = (
    "p_alive",
    "expected_purchases",
    "clv",
    "risk_level",
    "risk_score",
    "risk_reasons_en",
    "risk_reasons_zh",
)
# Least number of repeat customers to fit the spend model on.
MIN_SPEND_CUSTOMERS = 3
# L2 penalties tried in turn when the plain fit does not converge.
PENALIZERS = (0.0, 0.01, 0.1)


class PredictionError(ValueError):
    """The purchase model could not be fitted; the message says why."""


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
        ``bgnbd`` (r, alpha in weeks, a, b), ``gammagamma`` (p, q, v, or None when not
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


def fit_bgnbd(
    x: NDArray[np.float64],
    tx: NDArray[np.float64],
    big_t: NDArray[np.float64],
    horizon: float,
) -> tuple[BGNBD, float, NDArray[np.float64], NDArray[np.float64]]:
    """The BG/NBD by maximum likelihood, or with a small L2 penalty when the data do not
    identify the model (few customers, a drop-out too rare to estimate: the estimates run off
    and the predictions are not finite). Returns the model, the penalty, P(alive) and the
    expected purchases in ``horizon``."""
    error: str | None = None
    for penalizer in PENALIZERS:
        try:
            model = BGNBD(penalizer_coef=penalizer).fit(x, tx, big_t)
        except (ConvergenceError, ValueError, FloatingPointError) as failed:
            error = error or str(failed)
            continue
        with np.errstate(all="ignore"):
            p_alive = np.asarray(model.p_alive(x, tx, big_t), dtype=np.float64)
            expected = np.asarray(model.expected_purchases(horizon, x, tx, big_t), dtype=np.float64)
        if np.isfinite(p_alive).all() and np.isfinite(expected).all():
            return model, penalizer, np.clip(p_alive, 0.0, 1.0), np.maximum(expected, 0.0)
        error = error or f"the predictions are not finite (parameters {model.params_})"
    raise PredictionError(f"the BG/NBD fit failed: {error}")


def _discounted_purchases(
    model: BGNBD,
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

    Returns
    -------
    Prediction

    Raises
    ------
    ValueError
        Inputs of the wrong shape or with impossible values.
    PredictionError
        The BG/NBD cannot be fitted (no repeat purchase at all, or no convergence).
    """
    settings = settings or PredictiveSettings()
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
    tx = (last - first) / DAYS_PER_WEEK
    big_t = (end - first) / DAYS_PER_WEEK
    if not (x > 0).any():
        raise PredictionError("no customer has a repeat purchase: the BG/NBD cannot be fitted")
    bgnbd, penalizer, p_alive, expected = fit_bgnbd(
        x, tx, big_t, settings.horizon_days / DAYS_PER_WEEK
    )
    bg_params = _finite_params(bgnbd.params_)
    if not all(math.isfinite(v) and v > 0 for v in bg_params.values()):
        raise PredictionError(f"the BG/NBD fit gave invalid parameters: {bg_params}")

    # Spend: repeat customers with a positive mean repeat spend are the Gamma-Gamma's input.
    repeat = (x > 0) & np.isfinite(monetary) & (monetary > 0)
    x_gg = np.where(repeat, x, 0.0)
    m_gg = np.where(repeat, monetary, 0.0)
    gg_params: dict[str, float] | None = None
    gg_skipped: str | None = None
    clv: NDArray[np.float64] | None = None
    if int(repeat.sum()) < MIN_SPEND_CUSTOMERS:
        gg_skipped = f"fewer than {MIN_SPEND_CUSTOMERS} repeat customers with spend"
    else:
        try:
            gg = GammaGamma().fit(x[repeat], monetary[repeat])
            clv = gg.clv(
                bgnbd,
                x_gg,
                tx,
                big_t,
                m_gg,
                months=settings.months,
                discount_rate=settings.discount_rate,
                time_unit="weeks",
                margin=settings.margin_rate,
            )
            if not np.isfinite(clv).all():
                raise ValueError("the spend model has no finite mean (q <= 1)")
            gg_params = _finite_params(gg.params_)
        except (ConvergenceError, ValueError, FloatingPointError) as error:
            gg_skipped = f"the Gamma-Gamma fit failed: {error}"
            clv = None
    if clv is None:  # CLV from mean spend
        own = np.asarray(average_spend, dtype=np.float64) if average_spend is not None else m_gg
        if own.shape != (n,):
            raise ValueError(f"average_spend must have shape ({n},), got {own.shape}")
        usable = np.isfinite(own) & (own > 0)
        population = float(own[usable].mean()) if usable.any() else 0.0
        spend = np.where(usable, own, population)
        clv = settings.margin_rate * spend * _discounted_purchases(bgnbd, x, tx, big_t, settings)
    clv = np.maximum(np.asarray(clv, dtype=np.float64), 0.0)

    with np.errstate(invalid="ignore", divide="ignore"):
        interval = np.where(x > 0, (last - first) / np.maximum(x, 1.0), np.nan)
    risk = churn_risk(
        p_alive,
        recency_days=(end - last).astype(np.float64),
        mean_interval_days=interval,
        orders=n_days,
    )
    for name, values in (("p_alive", p_alive), ("expected_purchases", expected), ("clv", clv)):
        if not np.isfinite(values).all():
            raise PredictionError(f"{name} is not finite for some customers")
    customers = pd.DataFrame(
        {
            "p_alive": p_alive,
            "expected_purchases": expected,
            "clv": clv,
            "risk_level": risk["level"].to_numpy(),
            "risk_score": risk["risk_score"].to_numpy(dtype=np.float64),
            "risk_reasons_en": risk["reasons_en"].to_numpy(),
            "risk_reasons_zh": risk["reasons_zh"].to_numpy(),
        }
    )
    params: dict[str, Any] = {
        "bgnbd": bg_params,
        "bgnbd_penalizer": penalizer,
        "time_unit": "weeks",
        "gammagamma": gg_params,
        "clv_basis": "gammagamma" if gg_params is not None else "mean_spend",
        "gammagamma_skipped": gg_skipped,
        "settings": settings.as_dict(),
    }
    return Prediction(customers=customers, params=params)
