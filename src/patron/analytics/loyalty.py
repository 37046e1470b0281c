"""Programme figures of a loyalty scheme, from per-month and per-customer aggregates.

Pure: no Django. ``insights``-style callers (``patron.loyalty.report``) aggregate in the
database and hand arrays here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["GroupFigures", "ProgrammeRates", "group_figures", "liability_trend", "programme_rates"]


@dataclass(frozen=True)
class ProgrammeRates:
    """Points earned, spent and expired over the programme's life, and the rates between.

    ``redemption_rate`` = spent / earned; ``breakage`` = expired / earned (points that will
    never cost anything); ``outstanding`` = earned − spent − expired ± adjustments.
    """

    earned: int
    spent: int
    expired: int
    outstanding: int
    liability: float
    redemption_rate: float | None
    breakage: float | None


def programme_rates(
    *, earned: int, spent: int, expired: int, outstanding: int, cost_per_point: float
) -> ProgrammeRates:
    """Rates of the programme; None when nothing was earned.

    >>> programme_rates(earned=1000, spent=400, expired=100, outstanding=500,
    ...                 cost_per_point=0.01).redemption_rate
    0.4
    """
    if min(earned, spent, expired) < 0:
        raise ValueError("earned, spent and expired are counts of points, never negative")
    rate = spent / earned if earned else None
    breakage = expired / earned if earned else None
    return ProgrammeRates(
        earned, spent, expired, outstanding, round(outstanding * cost_per_point, 2), rate, breakage
    )


def liability_trend(monthly_net: ArrayLike, *, cost_per_point: float) -> np.ndarray:
    """Outstanding points × cost per point at each month's end, from each month's net change
    (earned − spent − expired ± adjustments), oldest first.

    >>> liability_trend([100, -30, 50], cost_per_point=0.5).tolist()
    [50.0, 35.0, 60.0]
    """
    net = np.asarray(monthly_net, dtype=np.float64)
    if net.ndim != 1:
        raise ValueError("monthly_net must be one-dimensional")
    return np.cumsum(net) * float(cost_per_point)


@dataclass(frozen=True)
class GroupFigures:
    """One group of customers (members, non-members): how many, spend and orders per
    customer, and retention (the share active in the first half of the window who bought
    again in the second half)."""

    customers: int
    spend_per_customer: float | None
    orders_per_customer: float | None
    retention: float | None


def group_figures(
    spend: ArrayLike, orders: ArrayLike, first_half: ArrayLike, second_half: ArrayLike
) -> GroupFigures:
    """Figures of a group from per-customer arrays (spend, orders, bought in each half).

    >>> group_figures([10, 30], [1, 3], [True, True], [False, True]).retention
    0.5
    """
    s = np.asarray(spend, dtype=np.float64)
    o = np.asarray(orders, dtype=np.float64)
    a = np.asarray(first_half, dtype=bool)
    b = np.asarray(second_half, dtype=bool)
    if not (s.shape == o.shape == a.shape == b.shape):
        raise ValueError("spend, orders and the half flags must have one value per customer")
    n = int(s.size)
    if n == 0:
        return GroupFigures(0, None, None, None)
    early = int(a.sum())
    retention = float((a & b).sum() / early) if early else None
    return GroupFigures(n, float(s.mean()), float(o.mean()), retention)
