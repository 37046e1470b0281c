"""The customer value pyramid (客户金字塔 / 客户价值分级) and the four profit groups.

Value
-----
Customers are ranked by profit (margin after cost to serve, see
:mod:`patron.analytics.profitability`) when every customer has one, otherwise by
net revenue (:func:`value_basis`). Values are rounded to the cent first.

Order and ties
--------------
The best customer comes first: by value descending, then, among equal values,
by ``customer_id`` ascending (code-point order). ``rank`` is the 1-based
position in that order; it never has ties, so tiers are deterministic.

Cuts by share (the default)
---------------------------
The five tiers take the top 1%, the next 4%, the next 15%, the next 30% and
the last 50% of customers. With ``n`` customers and cumulative shares
``c = (1%, 5%, 20%, 50%, 100%)``, the first ``ceil(c[k] * n)`` customers are in
tiers ``0..k`` (computed with exact fractions, so 5% of 100 is exactly 5).

Cuts by value
-------------
``TierCuts.by_thresholds(very_high=..., high=..., moderate=..., low=...)``:
a customer whose value is at least ``very_high`` is very high, at least
``high`` is high, and so on; below ``low`` is very low.

Profit groups
-------------
High, medium, low and no profit (高利润, 中利润, 低利润, 无利润): customers with a
value of zero or less have no profit; those above zero are split by rank into
the top 20%, the next 30% and the last 50% (same ceiling rule), or by two
value thresholds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import ibis.expr.types as ir
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from patron.analytics.rfm import id_array, id_order, order_by_value
from patron.analytics.summary import collect

__all__ = [
    "DEFAULT_TIER_CUTS",
    "PROFIT_GROUPS",
    "PROFIT_GROUP_CODES",
    "TIERS",
    "TIER_CODES",
    "Tier",
    "TierCuts",
    "profit_group_indices",
    "profit_groups",
    "rank_order",
    "tier",
    "tier_groups",
    "tier_summary",
    "value_basis",
    "value_tiers",
]


@dataclass(frozen=True)
class Tier:
    """A level of the pyramid (or a profit group).

    Attributes
    ----------
    code : str
        Stable identifier.
    label : dict
        ``{"en": ..., "zh-hans": ...}``.
    group_label : dict
        The same as a noun phrase for sentences ("the very-low tier", "很低层级").
    """

    code: str
    label: dict[str, str]
    group_label: dict[str, str]


#: The pyramid, top first.
TIERS: tuple[Tier, ...] = (
    Tier("very_high", {"en": "Very high", "zh-hans": "很高"},
         {"en": "the very-high tier", "zh-hans": "很高层级"}),
    Tier("high", {"en": "High", "zh-hans": "高"},
         {"en": "the high tier", "zh-hans": "高层级"}),
    Tier("moderate", {"en": "Moderate", "zh-hans": "适度"},
         {"en": "the moderate tier", "zh-hans": "适度层级"}),
    Tier("low", {"en": "Low", "zh-hans": "低"},
         {"en": "the low tier", "zh-hans": "低层级"}),
    Tier("very_low", {"en": "Very low", "zh-hans": "很低"},
         {"en": "the very-low tier", "zh-hans": "很低层级"}),
)  # fmt: skip
TIER_CODES: tuple[str, ...] = tuple(t.code for t in TIERS)

#: The four-group split, top first.
PROFIT_GROUPS: tuple[Tier, ...] = (
    Tier("high", {"en": "High profit", "zh-hans": "高利润"},
         {"en": "the high-profit group", "zh-hans": "高利润客户"}),
    Tier("medium", {"en": "Medium profit", "zh-hans": "中利润"},
         {"en": "the medium-profit group", "zh-hans": "中利润客户"}),
    Tier("low", {"en": "Low profit", "zh-hans": "低利润"},
         {"en": "the low-profit group", "zh-hans": "低利润客户"}),
    Tier("no_profit", {"en": "No profit", "zh-hans": "无利润"},
         {"en": "the no-profit group", "zh-hans": "无利润客户"}),
)  # fmt: skip
PROFIT_GROUP_CODES: tuple[str, ...] = tuple(t.code for t in PROFIT_GROUPS)

_TIERS_BY_CODE = {t.code: t for t in TIERS}

BAD_SHARES = "shares must be {k} non-negative numbers adding up to 1, got {shares!r}"
BAD_THRESHOLDS = "thresholds must be {k} strictly decreasing numbers, got {thresholds!r}"
NO_BASIS = "no value column: need 'profit' (without missing values) or 'revenue'"
NAN_VALUES = "column {column!r} has missing values; cannot rank on it"


def tier(code: str) -> Tier:
    """Return the pyramid tier with this code (``KeyError`` when unknown)."""
    return _TIERS_BY_CODE[code]


SHARE_SLACK = Fraction(1, 10**9)


def _exact(x: float) -> Fraction:
    return Fraction(str(x))


def cumulative_shares(shares: Sequence[float], k: int) -> tuple[Fraction, ...]:
    if len(shares) != k or any(not math.isfinite(s) or s < 0 for s in shares):
        raise ValueError(BAD_SHARES.format(k=k, shares=shares))
    total = sum(_exact(s) for s in shares)
    if abs(float(total) - 1.0) > 1e-9:
        raise ValueError(BAD_SHARES.format(k=k, shares=shares))
    out: list[Fraction] = []
    running = Fraction(0)
    for s in shares[:-1]:
        running += _exact(s)
        out.append(running)
    out.append(Fraction(1))
    return tuple(out)


def _check_thresholds(thresholds: Sequence[float], k: int) -> None:
    values = np.asarray(thresholds, dtype=np.float64)
    if values.shape != (k,) or not np.all(np.isfinite(values)) or np.any(np.diff(values) >= 0):
        raise ValueError(BAD_THRESHOLDS.format(k=k, thresholds=thresholds))


@dataclass(frozen=True)
class TierCuts:
    """How to cut the pyramid: by shares of customers or by value thresholds.

    Build it with :meth:`by_shares` or :meth:`by_thresholds`; exactly one of
    the two fields is set.

    Attributes
    ----------
    shares : tuple of 5 floats or None
        Shares of customers per tier, top first, adding up to 1.
    thresholds : tuple of 4 floats or None
        The least value of very high, high, moderate and low, decreasing.
    """

    shares: tuple[float, float, float, float, float] | None = None
    thresholds: tuple[float, float, float, float] | None = None

    def __post_init__(self) -> None:
        if (self.shares is None) == (self.thresholds is None):
            raise ValueError("give exactly one of shares or thresholds")
        if self.shares is not None:
            cumulative_shares(self.shares, 5)
        if self.thresholds is not None:
            _check_thresholds(self.thresholds, 4)

    @classmethod
    def by_shares(
        cls,
        very_high: float = 0.01,
        high: float = 0.04,
        moderate: float = 0.15,
        low: float = 0.30,
        very_low: float = 0.50,
    ) -> TierCuts:
        """Cut by shares of customers (defaults: 1%, 4%, 15%, 30%, 50%)."""
        return cls(shares=(very_high, high, moderate, low, very_low))

    @classmethod
    def by_thresholds(
        cls, *, very_high: float, high: float, moderate: float, low: float
    ) -> TierCuts:
        """Cut by value: the least value of each tier above very low."""
        return cls(thresholds=(very_high, high, moderate, low))


#: Top 1%, next 4%, next 15%, next 30%, last 50%.
DEFAULT_TIER_CUTS = TierCuts.by_shares()


def value_basis(customers: pd.DataFrame | ir.Table) -> str:
    """The column to rank on: ``"profit"`` when present with no missing value, else ``"revenue"``.

    An Ibis table is inspected by schema only (``"profit"`` if it has the column).
    """
    columns = list(customers.columns)
    if "profit" in columns and (
        not isinstance(customers, pd.DataFrame) or not customers["profit"].isna().any()
    ):
        return "profit"
    if "revenue" in columns:
        return "revenue"
    raise ValueError(NO_BASIS)


def rank_order(values: ArrayLike, customer_id: ArrayLike) -> NDArray[np.int64]:
    """Indices that sort customers best first: value descending, then id ascending.

    Examples
    --------
    >>> rank_order([5.0, 9.0, 5.0], ["b", "z", "a"]).tolist()
    [1, 2, 0]
    """
    x = np.asarray(values, dtype=np.float64)
    ids = id_array(customer_id)
    if x.shape != ids.shape or x.ndim != 1:
        raise ValueError("values and customer_id must be 1-d and of the same length")
    return order_by_value(-x, id_order(ids))


def _cut_positions(n: int, cumulative: Sequence[Fraction]) -> NDArray[np.int64]:
    """Group index (0 = top) for positions 0..n-1 under cumulative share cuts."""
    # ceil(c * n), forgiving float noise in the shares (2/3 given as 0.6666666666666667)
    ends = np.array([math.ceil(c * n - SHARE_SLACK) for c in cumulative], dtype=np.int64)
    groups: NDArray[np.int64] = np.searchsorted(ends, np.arange(n), side="right").astype(np.int64)
    return groups


def _cut_values(values: NDArray[np.float64], thresholds: Sequence[float]) -> NDArray[np.int64]:
    ascending = np.asarray(thresholds, dtype=np.float64)[::-1]
    k = len(ascending)
    groups: NDArray[np.int64] = (k - np.searchsorted(ascending, values, side="right")).astype(
        np.int64
    )
    return groups


def _values(frame: pd.DataFrame, column: str) -> NDArray[np.float64]:
    x: NDArray[np.float64] = np.round(
        pd.to_numeric(frame[column]).to_numpy(dtype=np.float64, na_value=np.nan), 2
    )
    if np.isnan(x).any():
        raise ValueError(NAN_VALUES.format(column=column))
    return x


def value_tiers(
    customers: pd.DataFrame | ir.Table,
    *,
    by: str | None = None,
    cuts: TierCuts = DEFAULT_TIER_CUTS,
) -> pd.DataFrame:
    """Assign each customer to a tier of the value pyramid.

    Parameters
    ----------
    customers : pandas.DataFrame or ibis.Table
        One row per customer with ``customer_id`` and the value column (the
        customer summary, or the result of
        :func:`patron.analytics.profitability.customer_profit`).
    by : str, optional
        The value column; by default :func:`value_basis` (profit, else revenue).
    cuts : TierCuts, default top 1/4/15/30/50 %
        See the module docstring.

    Returns
    -------
    pandas.DataFrame
        Sorted best first, with ``customer_id``, ``value`` (rounded to the
        cent), ``rank`` (1 = best) and ``tier`` (a code of :data:`TIER_CODES`).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"customer_id": list("abcdefghij"),
    ...                    "revenue": [10.0, 90, 20, 30, 40, 50, 60, 70, 80, 100]})
    >>> value_tiers(df)["tier"].value_counts(sort=False).to_dict()
    {'very_high': 1, 'moderate': 1, 'low': 3, 'very_low': 5}
    """
    column = by if by is not None else value_basis(customers)
    frame = collect(customers, ["customer_id", column])
    values = _values(frame, column)
    ids = id_array(frame["customer_id"].to_numpy())
    order, groups = tier_groups(values, ids, cuts)
    codes = np.array(TIER_CODES, dtype=object)
    return pd.DataFrame(
        {
            "customer_id": ids[order].astype(object, copy=False),
            "value": values[order],
            "rank": np.arange(1, len(order) + 1, dtype=np.int64),
            "tier": codes[groups],
        }
    )


def tier_groups(
    values: NDArray[np.float64], ids: NDArray[Any], cuts: TierCuts = DEFAULT_TIER_CUTS
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The rank order (best first, :func:`rank_order`) of cent-rounded ``values`` and the tier
    index (0 = very high) at each rank: what :func:`value_tiers` builds its frame from."""
    order = rank_order(values, ids)
    if cuts.shares is not None:
        groups = _cut_positions(len(order), cumulative_shares(cuts.shares, 5))
    elif cuts.thresholds is not None:
        groups = _cut_values(values[order], cuts.thresholds)
    else:  # pragma: no cover - TierCuts forbids it
        raise ValueError("give exactly one of shares or thresholds")
    return order, groups


def profit_group_indices(
    sorted_values: NDArray[np.float64],
    *,
    shares: tuple[float, float, float] = (0.2, 0.3, 0.5),
    thresholds: tuple[float, float] | None = None,
) -> NDArray[np.int64]:
    """The profit group index (0 = high, 3 = no profit) at each rank of values sorted best
    first (:func:`rank_order`): what :func:`profit_groups` builds its frame from."""
    positive = int((sorted_values > 0).sum())
    groups = np.full(len(sorted_values), 3, dtype=np.int64)
    if thresholds is not None:
        _check_thresholds(thresholds, 2)
        if thresholds[1] <= 0:
            raise ValueError(BAD_THRESHOLDS.format(k=2, thresholds=thresholds))
        groups[:positive] = _cut_values(sorted_values[:positive], thresholds)
    else:
        groups[:positive] = _cut_positions(positive, cumulative_shares(shares, 3))
    return groups


def profit_groups(
    customers: pd.DataFrame | ir.Table,
    *,
    by: str | None = None,
    shares: tuple[float, float, float] = (0.2, 0.3, 0.5),
    thresholds: tuple[float, float] | None = None,
) -> pd.DataFrame:
    """Split customers into high, medium, low and no profit (高/中/低/无利润).

    Parameters
    ----------
    customers : pandas.DataFrame or ibis.Table
        As for :func:`value_tiers`.
    by : str, optional
        The value column; by default :func:`value_basis`.
    shares : tuple of 3 floats, default (0.2, 0.3, 0.5)
        Shares of the customers with a positive value that are high, medium
        and low (ceiling rule of the module docstring).
    thresholds : tuple of 2 floats, optional
        Instead of shares: the least value of high and of medium (decreasing,
        both positive); positive values below the second are low.

    Returns
    -------
    pandas.DataFrame
        Sorted best first: ``customer_id``, ``value``, ``rank``, ``group`` (a
        code of :data:`PROFIT_GROUP_CODES`).
    """
    column = by if by is not None else value_basis(customers)
    frame = collect(customers, ["customer_id", column])
    values = _values(frame, column)
    ids = id_array(frame["customer_id"].to_numpy())
    order = rank_order(values, ids)
    sorted_values = values[order]
    groups = profit_group_indices(sorted_values, shares=shares, thresholds=thresholds)
    codes = np.array(PROFIT_GROUP_CODES, dtype=object)
    return pd.DataFrame(
        {
            "customer_id": ids[order].astype(object, copy=False),
            "value": sorted_values,
            "rank": np.arange(1, len(order) + 1, dtype=np.int64),
            "group": codes[groups],
        }
    )


def tier_summary(tiers: pd.DataFrame, *, column: str = "tier") -> pd.DataFrame:
    """Customers and value per tier (or profit group), every level listed, top first.

    Parameters
    ----------
    tiers : pandas.DataFrame
        The result of :func:`value_tiers` (or :func:`profit_groups` with
        ``column="group"``).

    Returns
    -------
    pandas.DataFrame
        ``tier``, ``label_en``, ``label_zh``, ``customers``, ``customer_share``,
        ``value`` (summed in cents), ``value_share`` (of the total; NaN when
        the total is not positive), ``value_per_customer``, ``min_value``,
        ``max_value``.
    """
    levels = TIERS if column == "tier" else PROFIT_GROUPS
    codes = tiers[column].to_numpy()
    cents = np.rint(tiers["value"].to_numpy(dtype=np.float64) * 100).astype(np.int64)
    n = len(codes)
    total = int(cents.sum())
    rows = []
    for level in levels:
        mask = codes == level.code
        count = int(mask.sum())
        level_cents = int(cents[mask].sum())
        rows.append(
            {
                column: level.code,
                "label_en": level.label["en"],
                "label_zh": level.label["zh-hans"],
                "customers": count,
                "customer_share": count / n if n else np.nan,
                "value": level_cents / 100,
                "value_share": level_cents / total if total > 0 else np.nan,
                "value_per_customer": round(level_cents / count / 100, 2) if count else np.nan,
                "min_value": cents[mask].min() / 100 if count else np.nan,
                "max_value": cents[mask].max() / 100 if count else np.nan,
            }
        )
    return pd.DataFrame(rows)
