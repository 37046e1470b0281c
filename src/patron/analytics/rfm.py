"""RFM scores (最近一次消费 / 消费频率 / 消费金额), 1 to 5, computed in NumPy.

The scores are computed on the one-row-per-customer result of
:func:`patron.analytics.summary.customer_summary`, so only one row per customer
leaves the engine, and the result is the same whatever engine produced it.

Quintile rule (``method="quintile"``)
-------------------------------------
Customers are put in a strict order, from worst to best: by value, then, among
equal values, by ``customer_id`` (ascending code-point order; the smaller id comes
first and so can receive the lower score). For recency, fewer days is better and
a customer with no purchase date (returns only) is worst of all. With ``n``
customers, the customer at 0-based position ``p`` in that order scores::

    score = 1 + floor(5 * p / n)

so each score holds ``n / 5`` customers, rounded to whole customers. Equal values
may straddle a cut and get different scores; that is the price of equal-sized
groups. Frequency has many ties (most customers buy once): when equal-valued
customers must score alike, use thresholds.

Threshold rule (``method="thresholds"``)
----------------------------------------
Four ascending cut points per measure (:class:`RFMThresholds`). Frequency and
monetary: ``score = 1 + (number of cut points <= value)``. Recency (in days):
``score = 5 - (number of cut points < recency_days)``, so a recency at or below
the first cut scores 5 and above the last scores 1.

B2B variant
-----------
See :func:`rfm_b2b`.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from patron.analytics.summary import collect, customer_summary

__all__ = [
    "RFM_B2B_COLUMNS",
    "RFM_COLUMNS",
    "RFMThresholds",
    "add_months",
    "id_array",
    "id_order",
    "order_by_value",
    "quintile_scores",
    "rfm_b2b",
    "rfm_scores",
    "threshold_scores",
]

Method = Literal["quintile", "thresholds"]

#: The columns of :func:`rfm_scores`, in order.
RFM_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "recency_days",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    "rfm_cell",
    "rfm_total",
)

BAD_METHOD = "method must be 'quintile' or 'thresholds', got {method!r}"
NEED_THRESHOLDS = "method='thresholds' needs thresholds=RFMThresholds(...)"
BAD_CUTS = "{name} thresholds must be four strictly ascending numbers, got {cuts!r}"
NAN_VALUES = "{name} contains missing values"
BAD_LENGTHS = "customer_id and the measures must have the same length"


@dataclass(frozen=True)
class RFMThresholds:
    """Four ascending cut points per measure for ``method="thresholds"``.

    Parameters
    ----------
    recency : tuple of 4 numbers
        Days since the last purchase; ``recency <= recency[0]`` scores 5,
        ``recency > recency[3]`` scores 1.
    frequency : tuple of 4 numbers
        Orders; ``frequency >= frequency[3]`` scores 5, ``< frequency[0]`` scores 1.
    monetary : tuple of 4 numbers
        Net revenue; same rule as frequency.

    Examples
    --------
    >>> RFMThresholds(recency=(30, 90, 180, 365), frequency=(2, 3, 5, 10),
    ...               monetary=(100, 300, 1000, 3000)).frequency
    (2, 3, 5, 10)
    """

    recency: tuple[float, float, float, float]
    frequency: tuple[float, float, float, float]
    monetary: tuple[float, float, float, float]

    def __post_init__(self) -> None:
        for name in ("recency", "frequency", "monetary"):
            cuts = getattr(self, name)
            values = np.asarray(cuts, dtype=np.float64)
            if values.shape != (4,) or not np.all(np.isfinite(values)):
                raise ValueError(BAD_CUTS.format(name=name, cuts=cuts))
            if not np.all(np.diff(values) > 0):
                raise ValueError(BAD_CUTS.format(name=name, cuts=cuts))


def quintile_scores(
    values: ArrayLike,
    customer_id: ArrayLike,
    *,
    higher_is_better: bool = True,
    bins: int = 5,
) -> NDArray[np.int8]:
    """Score values 1..``bins`` by rank, ties broken by customer id.

    Parameters
    ----------
    values : array_like of float
        One value per customer. NaN ranks worst (used for a missing recency).
    customer_id : array_like of str
        The tie-breaker, one per customer.
    higher_is_better : bool, default True
        False for recency (fewer days score higher).
    bins : int, default 5

    Returns
    -------
    numpy.ndarray of int8
        ``1 + floor(bins * p / n)`` where ``p`` is the 0-based position in the
        order worst-to-best (by value, then by ascending customer id).

    Examples
    --------
    >>> quintile_scores([5.0, 1.0, 3.0, 3.0, 9.0], ["e", "d", "c", "b", "a"]).tolist()
    [4, 1, 3, 2, 5]
    """
    x = np.asarray(values, dtype=np.float64)
    ids = id_array(customer_id)
    if x.ndim != 1 or ids.shape != x.shape:
        raise ValueError(BAD_LENGTHS)
    return _quintiles(x, id_order(ids), higher_is_better=higher_is_better, bins=bins)


def id_array(customer_id: ArrayLike) -> NDArray[Any]:
    """Customer ids as an array of ``str``: an object array of strings is kept as it is
    (converting a million ids to fixed-width unicode costs more than ranking them)."""
    ids = np.asarray(customer_id)
    if ids.dtype.kind == "O" and pd.api.types.infer_dtype(ids, skipna=False) == "string":
        return ids
    return ids.astype(str)


def id_order(ids: NDArray[Any]) -> NDArray[np.int64]:
    """Indices that sort ``ids`` ascending in code-point order, equal ids in input order.

    Free when the ids are already sorted (the summary comes ordered by ``customer_id``):
    rankings then break ties by position, which is the same as by id.
    """
    n = len(ids)
    if n < 2 or pd.Index(ids).is_monotonic_increasing:
        return np.arange(n, dtype=np.int64)
    order: NDArray[np.int64] = np.argsort(ids, kind="stable").astype(np.int64)
    return order


def order_by_value(key: NDArray[np.float64], by_id: NDArray[np.int64]) -> NDArray[np.int64]:
    """Indices sorting ``key`` ascending, ties by id ascending (``by_id``: :func:`id_order`).

    The same order as ``np.lexsort((ids, key))``: a stable sort by value of the rows taken
    in id order.
    """
    keyed = key[by_id]
    if keyed.size:
        low, high = keyed.min(), keyed.max()
        finite = keyed[np.isfinite(keyed)]
        if (
            finite.size
            and np.isfinite(high)
            and finite.max() - finite.min() < 65_000
            and np.array_equal(finite, np.floor(finite))
        ):
            # Whole numbers in a small range (days, order counts): a stable radix sort on
            # uint16 of the same order; -inf (a missing recency) sorts first.
            base = finite.min() - (1 if low == -np.inf else 0)
            small = np.where(np.isfinite(keyed), keyed - base, 0).astype(np.uint16)
            order16: NDArray[np.int64] = by_id[np.argsort(small, kind="stable")]
            return order16
    order: NDArray[np.int64] = by_id[np.argsort(keyed, kind="stable")]
    return order


def _quintiles(
    x: NDArray[np.float64], by_id: NDArray[np.int64], *, higher_is_better: bool, bins: int = 5
) -> NDArray[np.int8]:
    n = int(x.shape[0])
    if n == 0:
        return np.zeros(0, dtype=np.int8)
    key = x if higher_is_better else -x
    key = np.where(np.isnan(key), -np.inf, key)
    order = order_by_value(key, by_id)
    position = np.empty(n, dtype=np.int64)
    position[order] = np.arange(n, dtype=np.int64)
    return (1 + (position * bins) // n).astype(np.int8)


def threshold_scores(
    values: ArrayLike, cuts: Sequence[float], *, higher_is_better: bool = True
) -> NDArray[np.int8]:
    """Score values 1..5 against four ascending cut points.

    Higher is better: ``1 + count(cuts <= value)``. Lower is better (recency):
    ``5 - count(cuts < value)``; NaN scores 1.

    Examples
    --------
    >>> threshold_scores([1, 2, 9, 10, 50], [2, 3, 5, 10]).tolist()
    [1, 2, 4, 5, 5]
    >>> threshold_scores([0, 30, 31, 400], [30, 90, 180, 365], higher_is_better=False).tolist()
    [5, 5, 4, 1]
    """
    x = np.asarray(values, dtype=np.float64)
    edges = np.asarray(cuts, dtype=np.float64)
    if higher_is_better:
        if np.isnan(x).any():
            raise ValueError(NAN_VALUES.format(name="values"))
        return (1 + np.searchsorted(edges, x, side="right")).astype(np.int8)
    scores = 5 - np.searchsorted(edges, x, side="left")
    return np.where(np.isnan(x), 1, scores).astype(np.int8)


_CELLS = np.array(
    [f"{r}{f}{m}" for r in range(1, 6) for f in range(1, 6) for m in range(1, 6)], dtype=object
)


def _cells(r: NDArray[np.int8], f: NDArray[np.int8], m: NDArray[np.int8]) -> NDArray[np.object_]:
    """The three digits of each cell (``"545"``), looked up among the 125 cells."""
    index = (r.astype(np.int64) - 1) * 25 + (f.astype(np.int64) - 1) * 5 + (m.astype(np.int64) - 1)
    cells: NDArray[np.object_] = _CELLS[index]
    return cells


def _score_frame(
    customer_id: NDArray[Any],
    recency: NDArray[np.float64],
    frequency: NDArray[np.float64],
    monetary: NDArray[np.float64],
    *,
    method: Method,
    thresholds: RFMThresholds | None,
) -> tuple[NDArray[np.int8], NDArray[np.int8], NDArray[np.int8]]:
    if method == "quintile":
        by_id = id_order(customer_id)  # once for the three rankings
        r = _quintiles(recency, by_id, higher_is_better=False)
        f = _quintiles(frequency, by_id, higher_is_better=True)
        m = _quintiles(monetary, by_id, higher_is_better=True)
    elif method == "thresholds":
        if thresholds is None:
            raise ValueError(NEED_THRESHOLDS)
        r = threshold_scores(recency, thresholds.recency, higher_is_better=False)
        f = threshold_scores(frequency, thresholds.frequency)
        m = threshold_scores(monetary, thresholds.monetary)
    else:
        raise ValueError(BAD_METHOD.format(method=method))
    return r, f, m


def rfm_scores(
    customers: ir.Table | pd.DataFrame,
    *,
    method: Method = "quintile",
    thresholds: RFMThresholds | None = None,
    recency: str = "recency_days",
    frequency: str = "orders",
    monetary: str = "revenue",
) -> pd.DataFrame:
    """R, F and M scores (1-5) for each customer.

    Parameters
    ----------
    customers : ibis.Table or pandas.DataFrame
        One row per customer with ``customer_id`` and the three measures,
        normally :func:`~patron.analytics.summary.customer_summary` (an Ibis
        table is executed here, selecting only the four columns).
    method : {"quintile", "thresholds"}, default "quintile"
        See the module docstring for both rules.
    thresholds : RFMThresholds, optional
        Required with ``method="thresholds"``.
    recency, frequency, monetary : str
        Column names of the measures; by default those of the summary.
        Recency must be in days (fewer is better). Monetary is rounded to the
        cent before ranking.

    Returns
    -------
    pandas.DataFrame
        Sorted by ``customer_id``, with columns ``customer_id``,
        ``recency_days`` (float, NaN when unknown), ``frequency``, ``monetary``,
        ``r_score``, ``f_score``, ``m_score`` (int8, 1-5), ``rfm_cell`` (the
        three digits, e.g. ``"545"``) and ``rfm_total`` (their sum, 3-15).

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"customer_id": ["a", "b", "c", "d", "e"],
    ...                   "recency_days": [3, 40, 400, 10, 90],
    ...                   "orders": [9, 2, 1, 4, 1], "revenue": [900.0, 80, 15, 300, 20]})
    >>> rfm_scores(s)["rfm_cell"].tolist()
    ['555', '333', '111', '444', '222']
    """
    frame = collect(customers, ["customer_id", recency, frequency, monetary])
    ids = id_array(frame["customer_id"].to_numpy())
    rec = pd.to_numeric(frame[recency]).to_numpy(dtype=np.float64, na_value=np.nan)
    freq = pd.to_numeric(frame[frequency]).to_numpy(dtype=np.float64, na_value=np.nan)
    mon = np.round(pd.to_numeric(frame[monetary]).to_numpy(dtype=np.float64, na_value=np.nan), 2)
    if np.isnan(freq).any():
        raise ValueError(NAN_VALUES.format(name=frequency))
    if np.isnan(mon).any():
        raise ValueError(NAN_VALUES.format(name=monetary))
    r, f, m = _score_frame(ids, rec, freq, mon, method=method, thresholds=thresholds)
    out = pd.DataFrame(
        {
            "customer_id": ids.astype(object, copy=False),
            "recency_days": rec,
            "frequency": frame[frequency].to_numpy(),
            "monetary": mon,
            "r_score": r,
            "f_score": f,
            "m_score": m,
            "rfm_cell": _cells(r, f, m),
            "rfm_total": (r.astype(np.int64) + f + m).astype(np.int8),
        },
        copy=False,  # fresh arrays, or the collected frame's: nothing of the caller's
    )
    return _sorted_by_id(out, ids)


def _sorted_by_id(frame: pd.DataFrame, ids: NDArray[Any]) -> pd.DataFrame:
    """``frame`` sorted by ``customer_id`` (stable), without a sort when it already is."""
    by_id = id_order(ids)
    if np.array_equal(by_id, np.arange(len(by_id))):
        if frame.index.equals(pd.RangeIndex(len(frame))):
            return frame
        return frame.reset_index(drop=True)
    return frame.take(by_id).reset_index(drop=True)


def add_months(day: dt.date, months: int) -> dt.date:
    """Shift a date by whole calendar months, clamping the day to the month's end.

    Examples
    --------
    >>> add_months(dt.date(2024, 8, 31), -6)
    datetime.date(2024, 2, 29)
    """
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


_MAX_QUARTERS = 4

#: Columns of :func:`rfm_b2b`, in order.
RFM_B2B_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "last_purchase",
    "quarters_since",
    "recency_half_year",
    "recency_quarter",
    "orders",
    "revenue",
    "orders_per_half_year",
    "revenue_per_half_year",
    "r_score",
    "f_score",
    "m_score",
    "rfm_cell",
    "rfm_total",
)


def rfm_b2b(
    transactions: ir.Table,
    *,
    as_of: dt.date,
    half_years: int = 2,
    method: Method = "quintile",
    thresholds: RFMThresholds | None = None,
) -> pd.DataFrame:
    """The B2B variant of RFM, by half-years and their quarters.

    Time before ``as_of`` is cut into quarters of three calendar months ending
    at ``as_of``: quarter ``k`` (``k = 0`` the latest) is
    ``(add_months(as_of, -3(k+1)), add_months(as_of, -3k)]``. Two quarters make
    a half-year: half-year ``h = k // 2``; within it the earlier quarter is
    quarter 1 and the later quarter 2.

    Recency: ``quarters_since`` is the ``k`` of the quarter of the customer's
    last order (over the whole history up to ``as_of``), capped at 4 (4 means
    "a year or more ago"); ``recency_half_year``
    is ``k // 2`` and ``recency_quarter`` is 2 for the later quarter of that
    half-year, 1 for the earlier. The R score is ``max(1, 5 - k)``: 5 for the
    later quarter of the current half-year, 4 for its earlier quarter, 3 and 2
    for the quarters of the previous half-year, 1 for anything older. It is
    the same with either method (``thresholds.recency`` is not used).

    Frequency and monetary: orders and net revenue over the last
    ``half_years`` half-years, divided by ``half_years`` (orders and revenue
    per half-year); a customer without an order in that window has 0.
    They are scored with the quintile rule or the F and M thresholds (applied
    to the per-half-year values), as in :func:`rfm_scores`.

    Parameters
    ----------
    transactions : ibis.Table
        The input contract of :mod:`patron.analytics.summary`.
    as_of : datetime.date
    half_years : int, default 2
        The window for frequency and monetary.
    method, thresholds
        As in :func:`rfm_scores`.

    Returns
    -------
    pandas.DataFrame
        Sorted by ``customer_id``; columns :data:`RFM_B2B_COLUMNS`. Customers
        with returns only (no last order) have ``quarters_since`` = -1 and
        R score 1.
    """
    if half_years < 1:
        raise ValueError(f"half_years must be at least 1, got {half_years}")
    window_start = add_months(as_of, -6 * half_years) + dt.timedelta(days=1)
    # Only the columns used: the full summary also counts distinct purchase days, the
    # costly part of the aggregation.
    history = customer_summary(transactions, as_of=as_of, columns=["last_purchase"])
    window = customer_summary(
        transactions, as_of=as_of, since=window_start, columns=["orders", "revenue"]
    )
    window = window.select(
        customer_id=window.customer_id,
        w_orders=window.orders,
        w_revenue=window.revenue,
    )
    joined = history.left_join(window, "customer_id")
    expr = joined.select(
        customer_id=history.customer_id,
        last_purchase=history.last_purchase,
        orders=ibis.coalesce(joined.w_orders, 0),
        revenue=ibis.coalesce(joined.w_revenue, 0.0),
    )
    frame = collect(expr, ["customer_id", "last_purchase", "orders", "revenue"])
    ids = frame["customer_id"].to_numpy().astype(str)
    last = pd.to_datetime(frame["last_purchase"]).to_numpy(dtype="datetime64[D]")
    quarters = np.zeros(len(ids), dtype=np.int64)
    for k in range(1, _MAX_QUARTERS + 1):
        boundary = np.datetime64(add_months(as_of, -3 * k), "D")
        quarters += (last <= boundary).astype(np.int64)
    known = ~np.isnat(last)
    quarters = np.where(known, quarters, -1)
    orders = frame["orders"].to_numpy(dtype=np.int64)
    revenue = np.round(frame["revenue"].to_numpy(dtype=np.float64), 2)
    per_orders = orders / half_years
    per_revenue = np.round(revenue / half_years, 2)
    r = np.where(known, np.maximum(1, 5 - quarters), 1).astype(np.int8)
    if method == "quintile":
        f = quintile_scores(orders, ids)
        m = quintile_scores(revenue, ids)
    elif method == "thresholds":
        if thresholds is None:
            raise ValueError(NEED_THRESHOLDS)
        f = threshold_scores(per_orders, thresholds.frequency)
        m = threshold_scores(per_revenue, thresholds.monetary)
    else:
        raise ValueError(BAD_METHOD.format(method=method))
    out = pd.DataFrame(
        {
            "customer_id": ids.astype(object),
            "last_purchase": frame["last_purchase"].to_numpy(),
            "quarters_since": quarters,
            "recency_half_year": np.where(known, quarters // 2, -1),
            "recency_quarter": np.where(known, 2 - quarters % 2, -1),
            "orders": orders,
            "revenue": revenue,
            "orders_per_half_year": per_orders,
            "revenue_per_half_year": per_revenue,
            "r_score": r,
            "f_score": f,
            "m_score": m,
            "rfm_cell": _cells(r, f, m).astype(object),
            "rfm_total": (r.astype(np.int64) + f + m).astype(np.int8),
        }
    )
    return out.sort_values("customer_id", kind="stable").reset_index(drop=True)
