"""Concentration of value (80/20 法则): Lorenz curve, Gini, top shares.

Money is rounded to the cent and summed in integer cents.

Definitions
-----------
Top shares
    The top ``x`` of customers are the first ``ceil(x * n)`` customers ranked by
    the measure itself, descending (revenue for the revenue share, profit for
    the profit share); the share is their sum over the total. This is the same
    ceiling rule as the value pyramid, so the top 1% is the very-high tier.
Customers for a target
    The smallest share of customers ``k / n`` whose top-``k`` sum reaches
    ``target`` (default 80%) of the total.
Lorenz curve and Gini
    Customers sorted ascending; the curve joins ``(k / n, C_k / C_n)`` for
    ``k = 0..n`` where ``C_k`` is the cumulative value. Gini is one minus twice
    the area under it (trapezoids), ``1 - (2 * sum(C_k) - C_n) / (n * C_n)``.
    A total of zero gives the line of equality and a Gini of 0.

Negative values (loss-making customers)
---------------------------------------
Profit can be negative. Top shares and the customers-for-target use the *net*
total, so the top customers can give more than 100% of profit (the "whale
curve": the losses of the rest eat the surplus); when the net total is zero or
negative those shares are NaN. The Lorenz curve and Gini clip negative values
to zero (a loss-making customer counts as contributing nothing), which keeps
the curve monotone and Gini in [0, 1]; ``loss_making_customers`` reports how
many were clipped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import ibis.expr.types as ir
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from patron.analytics.summary import collect

__all__ = [
    "DEFAULT_TOP_SHARES",
    "Concentration",
    "concentration_report",
    "customers_for_share",
    "gini",
    "lorenz_curve",
    "top_share",
]

DEFAULT_TOP_SHARES: tuple[float, ...] = (0.01, 0.05, 0.10, 0.20, 0.50)

BAD_SHARE = "share must be between 0 and 1, got {share!r}"


def _cents(values: ArrayLike) -> NDArray[np.int64]:
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError("values must be 1-d")
    if not np.all(np.isfinite(x)):
        raise ValueError("values must be finite (no NaN)")
    return np.rint(x * 100).astype(np.int64)


def _fraction(share: float) -> Fraction:
    if not (math.isfinite(share) and 0 <= share <= 1):
        raise ValueError(BAD_SHARE.format(share=share))
    return Fraction(str(share))


def lorenz_curve(
    values: ArrayLike, *, points: int | None = None
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Lorenz curve of the values, negatives clipped to zero.

    Parameters
    ----------
    values : array_like
        One value per customer (revenue or profit).
    points : int, optional
        Resample the curve at ``points + 1`` evenly spaced population shares
        (linear interpolation), e.g. 100 for a chart. By default one point per
        customer plus the origin.

    Returns
    -------
    (x, y) : tuple of numpy.ndarray
        Cumulative share of customers (poorest first) and of value; both start
        at 0 and end at 1, and ``y`` never decreases.

    Examples
    --------
    >>> x, y = lorenz_curve([0, 0, 1, 3])
    >>> y.tolist()
    [0.0, 0.0, 0.0, 0.25, 1.0]
    """
    return _lorenz_sorted(np.sort(_cents(values)), points=points)


def _lorenz_sorted(
    ascending: NDArray[np.int64], *, points: int | None = None
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """:func:`lorenz_curve` of cents already sorted ascending."""
    cents = np.maximum(ascending, 0)  # clipping keeps the order
    n = cents.shape[0]
    x = np.arange(n + 1, dtype=np.float64) / max(n, 1)
    cumulative = np.concatenate(([0], np.cumsum(cents)))
    total = int(cumulative[-1])
    y = cumulative / total if total > 0 else x.copy()
    if points is not None:
        if points < 1:
            raise ValueError("points must be at least 1")
        grid = np.linspace(0.0, 1.0, points + 1)
        return grid, np.interp(grid, x, y)
    return x, y.astype(np.float64)


def gini(values: ArrayLike) -> float:
    """Gini coefficient of the values, negatives clipped to zero, in [0, 1].

    Examples
    --------
    >>> gini([1, 1, 1, 1])
    0.0
    >>> gini([0, 0, 0, 4])
    0.75
    """
    return _gini_sorted(np.sort(_cents(values)))


def _gini_sorted(ascending: NDArray[np.int64]) -> float:
    """:func:`gini` of cents already sorted ascending."""
    cents = np.maximum(ascending, 0)
    n = cents.shape[0]
    total = int(cents.sum())
    if n == 0 or total == 0:
        return 0.0
    area = 2.0 * float(np.cumsum(cents).sum(dtype=np.float64)) - total
    return float(min(1.0, max(0.0, 1.0 - area / (n * total))))


def top_counts(n: int, shares: Sequence[float]) -> list[int]:
    # ceil(x * n) as in the pyramid, forgiving float noise in the shares
    return [math.ceil(_fraction(s) * n - Fraction(1, 10**9)) for s in shares]


def top_share(values: ArrayLike, share: float) -> float:
    """Share of the net total given by the top ``share`` of customers.

    NaN when the net total is zero or negative.

    Examples
    --------
    >>> top_share([50, 30, 10, 5, 5], 0.2)
    0.5
    """
    cents = np.sort(_cents(values))[::-1]
    total = int(cents.sum())
    if total <= 0:
        return math.nan
    k = top_counts(cents.shape[0], [share])[0]
    return int(cents[:k].sum()) / total


def customers_for_share(values: ArrayLike, target: float = 0.8) -> float:
    """Smallest share of customers whose top sum reaches ``target`` of the net total.

    NaN when the net total is zero or negative.

    Examples
    --------
    >>> customers_for_share([50, 30, 10, 5, 5], 0.8)
    0.4
    """
    descending = np.sort(_cents(values))[::-1]
    return _share_for_target(np.cumsum(descending), target)


def _share_for_target(cumulative: NDArray[np.int64], target: float) -> float:
    """:func:`customers_for_share` from the running sums of cents sorted descending."""
    n = int(cumulative.shape[0])
    total = int(cumulative[-1]) if n else 0
    if n == 0 or total <= 0:
        return math.nan
    goal = _fraction(target)
    if total * goal.denominator < 2**62:
        # exactly: cumulative >= goal * total  <=>  cumulative * den >= num * total
        reached = cumulative * goal.denominator >= goal.numerator * total
    else:  # pragma: no cover - totals beyond 10**16 cents
        reached = cumulative >= float(goal) * total
    k = int(np.argmax(reached)) + 1
    return k / n


@dataclass(frozen=True)
class Concentration:
    """How concentrated revenue and profit are.

    Attributes
    ----------
    customers : int
    total_revenue, total_profit : float
        Net totals (``total_profit`` NaN when no profit was given).
    gini_revenue, gini_profit : float
    top : pandas.DataFrame
        One row per top share: ``top_share``, ``customers``, ``revenue``,
        ``revenue_share``, ``profit``, ``profit_share``.
    target : float
    customers_for_target_revenue, customers_for_target_profit : float
        Smallest share of customers giving ``target`` of revenue / profit.
    loss_making_customers : int
        Customers with negative profit (0 without profit).
    """

    customers: int
    total_revenue: float
    total_profit: float
    gini_revenue: float
    gini_profit: float
    top: pd.DataFrame
    target: float
    customers_for_target_revenue: float
    customers_for_target_profit: float
    loss_making_customers: int

    def statement(self) -> dict[str, str]:
        """The 80/20 sentence in English and Chinese, on profit when known.

        Returns
        -------
        dict
            ``{"en": "24.0% of customers give 80% of profit", "zh-hans": ...}``.
        """
        on_profit = not math.isnan(self.customers_for_target_profit)
        share = self.customers_for_target_profit if on_profit else self.customers_for_target_revenue
        what_en, what_zh = ("profit", "利润") if on_profit else ("revenue", "收入")
        target = f"{self.target:.0%}"
        return {
            "en": f"{share:.1%} of customers give {target} of {what_en}",
            "zh-hans": f"{share:.1%}的客户贡献了{target}的{what_zh}",
        }


def concentration_report(
    customers: pd.DataFrame | ir.Table,
    *,
    revenue: str = "revenue",
    profit: str | None = "profit",
    top: Sequence[float] = DEFAULT_TOP_SHARES,
    target: float = 0.8,
) -> Concentration:
    """Concentration of revenue and profit over customers.

    Parameters
    ----------
    customers : pandas.DataFrame or ibis.Table
        One row per customer with the revenue (and profit) column: the customer
        summary or :func:`patron.analytics.profitability.customer_profit`.
    revenue : str, default "revenue"
    profit : str or None, default "profit"
        Ignored (profit figures NaN) when None, when the column is absent or
        when it has missing values.
    top : sequence of float, default (1%, 5%, 10%, 20%, 50%)
    target : float, default 0.8

    Returns
    -------
    Concentration
    """
    columns = ["customer_id", revenue]
    use_profit = profit is not None and profit in customers.columns
    if use_profit and profit is not None:
        columns.append(profit)
    frame = collect(customers, columns)
    if use_profit and profit is not None and frame[profit].isna().any():
        use_profit = False
    # Each measure is sorted once; top sums are read off the running sums.
    rev = _cents(pd.to_numeric(frame[revenue]).to_numpy(dtype=np.float64))
    rev_ascending = np.sort(rev)
    rev_running = np.cumsum(rev_ascending[::-1])
    n = rev.shape[0]
    counts = top_counts(n, top)
    rev_total = int(rev.sum())

    def top_sum(running: NDArray[np.int64], k: int) -> int:
        return int(running[k - 1]) if k > 0 else 0

    rows: dict[str, list[float]] = {
        "top_share": [float(s) for s in top],
        "customers": [float(k) for k in counts],
        "revenue": [top_sum(rev_running, k) / 100 for k in counts],
        "revenue_share": [
            top_sum(rev_running, k) / rev_total if rev_total > 0 else math.nan for k in counts
        ],
    }
    if use_profit and profit is not None:
        prof = _cents(pd.to_numeric(frame[profit]).to_numpy(dtype=np.float64))
        prof_ascending = np.sort(prof)
        prof_running = np.cumsum(prof_ascending[::-1])
        prof_total = int(prof.sum())
        rows["profit"] = [top_sum(prof_running, k) / 100 for k in counts]
        rows["profit_share"] = [
            top_sum(prof_running, k) / prof_total if prof_total > 0 else math.nan for k in counts
        ]
        total_profit = prof_total / 100
        gini_profit = _gini_sorted(prof_ascending)
        for_profit = _share_for_target(prof_running, target)
        losers = int((prof < 0).sum())
    else:
        rows["profit"] = [math.nan] * len(counts)
        rows["profit_share"] = [math.nan] * len(counts)
        total_profit = gini_profit = for_profit = math.nan
        losers = 0
    table = pd.DataFrame(rows)
    table["customers"] = table["customers"].astype(np.int64)
    return Concentration(
        customers=n,
        total_revenue=rev_total / 100,
        total_profit=total_profit,
        gini_revenue=_gini_sorted(rev_ascending),
        gini_profit=gini_profit,
        top=table,
        target=target,
        customers_for_target_revenue=_share_for_target(rev_running, target),
        customers_for_target_profit=for_profit,
        loss_making_customers=losers,
    )
