"""Monthly customer KPIs and cohort retention, aggregated in the engine.

The engine does the heavy work (one pass over the transactions, grouped by
customer and day, then by month); only a few rows per month (and per day for
lapses) reach pandas, where the running totals and rates are finished. It uses
only portable operations (grouping, ``lag``/``lead``, date deltas, year and
month), so it runs on SQLite as well as DuckDB and PostgreSQL.

Definitions
-----------
A *purchase day* is a date on which a customer has a non-return row. Months
are calendar months; ``month`` is its first day and ``complete`` says whether
the month ended on or before ``as_of`` (the last month is usually partial).
``W`` is ``lost_after_days``.

active_customers
    Customers with a purchase day in the month.
new_customers
    Customers whose first purchase day (in the data) is in the month.
lost_customers
    A customer is lost on day ``d + W + 1`` when ``d`` is a purchase day and
    no purchase day follows within ``W`` days (recency has passed ``W``).
    Counted in the month of that day, if it is on or before ``as_of``.
reactivated_customers
    Customers buying again after having been lost (a gap of more than ``W``).
customers_at_start
    Customers not lost at the start of the month: those who had started (first
    purchase or reactivation) before the month, minus those lost before it.
churn_rate
    ``lost_customers / customers_at_start`` (NaN when the base is 0). With
    ``W`` under a month a customer can start and lapse within one month, so
    the rate can pass 1; keep ``W`` at 31 days or more.
retention_rate
    Of the customers active in the previous calendar month, the share active
    again in this month (NaN for the first month or an empty previous month).
repeat_customers, repeat_purchase_rate
    Active customers who have made two or more orders up to the end of the
    month, and their share of the active customers.
orders
    Orders (distinct ``order_id`` per customer and day, or non-return rows).
revenue, revenue_per_customer
    Net revenue of the month (returns subtracted, exact cents) and revenue
    divided by active customers (rounded to the cent, halves upwards).
avg_interval_days
    Mean number of days between consecutive purchase days of the same
    customer, over the intervals that end in the month.

Cohorts
-------
:func:`cohort_retention`: customers grouped by the month of their first
purchase day (months without a first purchase have no row); cell (cohort, k)
counts the cohort's customers with a purchase day ``k`` months after the cohort
month; shares divide by the cohort size, and cells after ``as_of``'s month are
NaN.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from patron.analytics.summary import prepare_transactions

__all__ = [
    "KPI_COLUMNS",
    "Cohorts",
    "cohort_retention",
    "kpis_and_cohorts",
    "monthly_kpis",
    "purchase_days",
]

#: Columns of :func:`monthly_kpis`, in order.
KPI_COLUMNS: tuple[str, ...] = (
    "month",
    "complete",
    "active_customers",
    "new_customers",
    "reactivated_customers",
    "lost_customers",
    "customers_at_start",
    "churn_rate",
    "retention_rate",
    "repeat_customers",
    "repeat_purchase_rate",
    "orders",
    "revenue",
    "revenue_per_customer",
    "avg_interval_days",
)


def _month_index(date: ir.DateValue) -> ir.IntegerValue:
    return date.year().cast("int64") * 12 + date.month().cast("int64") - 1


def _index_of(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def _first_day(index: int) -> dt.date:
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, 1)


def purchase_days(transactions: ir.Table, *, as_of: dt.date) -> ir.Table:
    """One row per customer and purchase day, not yet executed: ``customer_id``,
    ``order_date``, ``orders``, ``spend`` (cents of the day's non-return rows), the customer's
    ``prev_date``, ``next_date`` and ``first_date``, ``cum_orders`` (orders up to that day),
    ``gap`` and ``next_gap`` (days) and ``month`` (a month index).

    Grouping the rows by customer and day is the largest part of the KPIs and of the
    predictions' inputs alike; a run materialises this table once for both
    (:func:`kpis_and_cohorts` with ``days``)."""
    t = prepare_transactions(transactions, as_of=as_of)
    p = t.filter(~t.is_return)
    # Without order ids every row is an order: a plain count, not a distinct one (which
    # engines such as DuckDB run as a far slower aggregation).
    orders = (
        p.order_id.nunique() + p.order_date.count(where=p.order_id.isnull())
        if "order_id" in transactions.columns
        else p.count()
    )
    days = p.group_by(["customer_id", "order_date"]).aggregate(
        orders=orders, spend=p.amount_cents.sum()
    )
    w = ibis.window(group_by=days.customer_id, order_by=days.order_date)
    running = ibis.cumulative_window(group_by=days.customer_id, order_by=days.order_date)
    days = days.mutate(
        prev_date=days.order_date.lag().over(w),
        next_date=days.order_date.lead().over(w),
        cum_orders=days.orders.sum().over(running),
        # the same window as the neighbours' (one sort): the customer's first purchase day
        first_date=days.order_date.min().over(w),
    )
    return days.mutate(
        gap=days.order_date.delta(days.prev_date, unit="day"),
        next_gap=days.next_date.delta(days.order_date, unit="day"),
        month=_month_index(days.order_date),
    )


def _customer_months(days: ir.Table) -> ir.Table:
    """One row per customer and month with a purchase day: ``month``, ``cohort`` (the month
    of the customer's first purchase), ``prev_month`` (the customer's month with a purchase
    before, missing without) and ``repeat`` (two or more orders by the end of the month).

    Read off each month's first purchase day, not grouped: its previous purchase day is in
    the previous month with a purchase, and the customer has two orders by the month's end
    when the running count already says so or a later purchase day falls in the same month
    (every purchase day has at least one order). A grouping by customer and month with two
    windows over it cost as much as the table of purchase days itself."""
    f = days.filter(days.prev_date.isnull() | (_month_index(days.prev_date) != days.month))
    prev_month = _month_index(f.prev_date)
    same_month_next = f.next_date.notnull() & (_month_index(f.next_date) == f.month)
    return f.select(
        customer_id=f.customer_id,
        month=f.month,
        prev_month=prev_month,
        cohort=_month_index(f.first_date),
        repeat=(f.cum_orders >= 2) | same_month_next,
    )


def _frame(expr: ir.Table) -> pd.DataFrame:
    result: Any = expr.execute()
    return pd.DataFrame(result)


def _ints(frame: pd.DataFrame, column: str) -> NDArray[np.int64]:
    values: NDArray[np.int64] = pd.to_numeric(frame[column]).fillna(0).to_numpy(dtype=np.int64)
    return values


def _day_aggregates(days: ir.Table, window: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Starts, orders and gaps by month; lapses by day; activity by month."""
    started = days.prev_date.isnull() | (days.gap > window)
    by_month = _frame(
        days.group_by("month").aggregate(
            new=days.customer_id.count(where=days.prev_date.isnull()),
            starts=days.customer_id.count(where=started),
            orders=days.orders.sum(),
            gap_sum=days.gap.sum(),
            gap_count=days.gap.count(),
        )
    )
    ends = days.filter(days.next_date.isnull() | (days.next_gap > window))
    lapses = _frame(ends.group_by("order_date").aggregate(lapses=ends.customer_id.count()))
    cm = _customer_months(days)
    activity = _frame(
        cm.group_by("month").aggregate(
            active=cm.customer_id.count(),
            repeat=cm.customer_id.count(where=cm.repeat),
            retained=cm.customer_id.count(where=cm.prev_month == cm.month - 1),
        )
    )
    return by_month, lapses, activity


def monthly_kpis(
    transactions: ir.Table, *, as_of: dt.date, lost_after_days: int = 90
) -> pd.DataFrame:
    """Monthly customer KPIs up to ``as_of`` (see the module docstring).

    Parameters
    ----------
    transactions : ibis.Table
        The input contract of :mod:`patron.analytics.summary`.
    as_of : datetime.date
        Rows after this date are ignored; the last month is ``as_of``'s month.
    lost_after_days : int, default 90
        ``W``: a customer without a purchase for more than this many days is lost.

    Returns
    -------
    pandas.DataFrame
        One row per calendar month from the first month with a purchase to
        ``as_of``'s month, columns :data:`KPI_COLUMNS`. Counts are int64, rates
        and money float64.
    """
    _check_window(lost_after_days)
    # Four aggregations read the purchase days: materialise them once in the engine.
    with purchase_days(transactions, as_of=as_of).cache() as days:
        return _monthly_kpis(transactions, days, as_of=as_of, window=lost_after_days)


def kpis_and_cohorts(
    transactions: ir.Table,
    *,
    as_of: dt.date,
    lost_after_days: int = 90,
    days: ir.Table | None = None,
) -> tuple[pd.DataFrame, Cohorts]:
    """:func:`monthly_kpis` and :func:`cohort_retention` from one materialised table of
    purchase days (an analysis run needs both; each alone groups the transactions again).

    ``days``: :func:`purchase_days` of ``transactions`` as of ``as_of``, materialised by the
    caller (who reads it again for the predictions' inputs); by default it is made here."""
    _check_window(lost_after_days)
    if days is not None:
        return _kpis_and_cohorts(transactions, days, as_of=as_of, window=lost_after_days)
    with purchase_days(transactions, as_of=as_of).cache() as cached:
        return _kpis_and_cohorts(transactions, cached, as_of=as_of, window=lost_after_days)


def _kpis_and_cohorts(
    transactions: ir.Table, days: ir.Table, *, as_of: dt.date, window: int
) -> tuple[pd.DataFrame, Cohorts]:
    kpis = _monthly_kpis(transactions, days, as_of=as_of, window=window)
    return kpis, _cohort_retention(days, as_of=as_of)


def _check_window(lost_after_days: int) -> None:
    if lost_after_days < 1:
        raise ValueError(f"lost_after_days must be at least 1, got {lost_after_days}")


def _monthly_kpis(
    transactions: ir.Table, days: ir.Table, *, as_of: dt.date, window: int
) -> pd.DataFrame:
    by_month, lapses, activity = _day_aggregates(days, window)
    t = prepare_transactions(transactions, as_of=as_of)
    t = t.mutate(month=_month_index(t.order_date))
    money = _frame(t.group_by("month").aggregate(revenue_cents=t.amount_cents.sum()))
    if by_month.empty and money.empty:
        return pd.DataFrame({c: [] for c in KPI_COLUMNS})

    first = min(
        int(by_month["month"].min()) if not by_month.empty else _index_of(as_of),
        int(money["month"].min()) if not money.empty else _index_of(as_of),
    )
    last = _index_of(as_of)
    months = np.arange(first, last + 1, dtype=np.int64)
    out = pd.DataFrame({"month_index": months})

    def join(frame: pd.DataFrame, columns: list[str]) -> None:
        if frame.empty:
            for c in columns:
                out[c] = np.zeros(len(out), dtype=np.int64)
            return
        indexed = frame.assign(month_index=_ints(frame, "month")).set_index("month_index")
        for c in columns:
            out[c] = _ints(indexed.reindex(months), c) if c in indexed else 0

    join(by_month, ["new", "starts", "orders", "gap_sum", "gap_count"])
    join(activity, ["active", "repeat", "retained"])
    join(money, ["revenue_cents"])

    # lapses: lost on order_date + W + 1, counted if on or before as_of
    lost = np.zeros(len(months), dtype=np.int64)
    if not lapses.empty:
        dates = pd.to_datetime(lapses["order_date"]).to_numpy(dtype="datetime64[D]")
        lost_on = dates + np.timedelta64(window + 1, "D")
        keep = lost_on <= np.datetime64(as_of, "D")
        lost_months = lost_on[keep].astype("datetime64[M]").astype(np.int64) + 1970 * 12
        np.add.at(lost, lost_months - first, _ints(lapses, "lapses")[keep])
    starts = out["starts"].to_numpy(dtype=np.int64)
    at_start = np.concatenate(([0], np.cumsum(starts - lost)[:-1]))
    active = out["active"].to_numpy(dtype=np.int64)
    active_prev = np.concatenate(([0], active[:-1]))
    retained = out["retained"].to_numpy(dtype=np.int64)
    repeat = out["repeat"].to_numpy(dtype=np.int64)
    gap_sum = out["gap_sum"].to_numpy(dtype=np.float64)
    gap_count = out["gap_count"].to_numpy(dtype=np.float64)
    revenue_cents = out["revenue_cents"].to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        churn = np.where(at_start > 0, lost / at_start, np.nan)
        retention = np.where(active_prev > 0, retained / active_prev, np.nan)
        repeat_rate = np.where(active > 0, repeat / active, np.nan)
        per_customer = np.where(active > 0, np.floor(revenue_cents / active + 0.5) / 100, np.nan)
        interval = np.where(gap_count > 0, gap_sum / gap_count, np.nan)
    month_days = [_first_day(int(i)) for i in months]
    next_month = [_first_day(int(i) + 1) for i in months]
    return pd.DataFrame(
        {
            "month": month_days,
            "complete": [nm <= as_of + dt.timedelta(days=1) for nm in next_month],
            "active_customers": active,
            "new_customers": out["new"].to_numpy(dtype=np.int64),
            "reactivated_customers": starts - out["new"].to_numpy(dtype=np.int64),
            "lost_customers": lost,
            "customers_at_start": at_start,
            "churn_rate": churn,
            "retention_rate": retention,
            "repeat_customers": repeat,
            "repeat_purchase_rate": repeat_rate,
            "orders": out["orders"].to_numpy(dtype=np.int64),
            "revenue": revenue_cents / 100,
            "revenue_per_customer": per_customer,
            "avg_interval_days": interval,
        }
    )


@dataclass(frozen=True)
class Cohorts:
    """Cohort retention by month of first purchase.

    Attributes
    ----------
    sizes : pandas.Series
        Customers per cohort, indexed by the cohort month (first day, a date).
    counts : pandas.DataFrame
        Index cohort month, columns ``0..K`` (months since the cohort month):
        customers of the cohort with a purchase day in that month (0 after
        ``as_of``'s month).
    shares : pandas.DataFrame
        ``counts / sizes``; NaN after ``as_of``'s month. Column 0 is 1.
    """

    sizes: pd.Series
    counts: pd.DataFrame
    shares: pd.DataFrame


def cohort_retention(transactions: ir.Table, *, as_of: dt.date) -> Cohorts:
    """Cohort × months-since retention matrix (see the module docstring).

    Parameters
    ----------
    transactions : ibis.Table
        The input contract of :mod:`patron.analytics.summary`.
    as_of : datetime.date

    Returns
    -------
    Cohorts
    """
    return _cohort_retention(purchase_days(transactions, as_of=as_of), as_of=as_of)


def _cohort_retention(days: ir.Table, *, as_of: dt.date) -> Cohorts:
    cm = _customer_months(days)
    cells = _frame(cm.group_by(["cohort", "month"]).aggregate(customers=cm.customer_id.count()))
    last = _index_of(as_of)
    if cells.empty:
        empty = pd.DataFrame(index=pd.Index([], name="cohort"))
        return Cohorts(
            sizes=pd.Series(dtype=np.int64, name="customers"), counts=empty, shares=empty
        )
    cohort = _ints(cells, "cohort")
    since = _ints(cells, "month") - cohort
    first = int(cohort.min())
    n_cohorts = last - first + 1
    width = last - first + 1
    counts = np.zeros((n_cohorts, width), dtype=np.int64)
    np.add.at(counts, (cohort - first, since), _ints(cells, "customers"))
    sizes = counts[:, 0].copy()
    horizon = last - np.arange(first, last + 1)  # months observed after each cohort
    future = np.arange(width)[None, :] > horizon[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = np.where(
            future | (sizes[:, None] == 0), np.nan, counts / np.maximum(sizes[:, None], 1)
        )
    keep = sizes > 0  # months in which nobody bought for the first time have no cohort
    index = pd.Index([_first_day(first + i) for i in range(n_cohorts) if keep[i]], name="cohort")
    columns = pd.Index(range(width), name="months_since")
    return Cohorts(
        sizes=pd.Series(sizes[keep], index=index, name="customers"),
        counts=pd.DataFrame(counts[keep], index=index, columns=columns),
        shares=pd.DataFrame(shares[keep], index=index, columns=columns),
    )
