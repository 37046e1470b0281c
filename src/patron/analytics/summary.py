"""One row per customer from a transaction log: the base of every value analysis.

Input contract
--------------
Every function of :mod:`patron.analytics` that reads transactions takes an Ibis
table with these columns (any Ibis backend: DuckDB, SQLite, PostgreSQL, Spark):

``customer_id`` : string, required
    The customer the row belongs to.
``order_date`` : date, required
    The local business date of the row. A timestamp column is accepted and
    truncated to its date (in the engine's time zone; prefer passing dates).
``amount`` : numeric, required
    The net amount of the row, decimal or float, in the shop's currency.
    Returns are rows with a negative amount; the amount is always signed.
``order_id`` : string, optional
    The order (purchase, visit) the row belongs to. When the column is absent
    every row is one order; a row whose ``order_id`` is null is an order of its own.
``cost`` : numeric, optional, nullable
    The cost of goods of the row; null means unknown. Returned goods carry a
    negative cost, like their amount.
``is_return`` : boolean, optional
    Whether the row is a return. When the column is absent, or null on a row,
    a row with ``amount < 0`` is a return.

Definitions
-----------
Frequency counts orders, never item lines: the distinct ``order_id`` values of a
customer's non-return rows (or the number of non-return rows when there is no
``order_id``). Returns are counted the same way over return rows and their
(negative) amounts reduce revenue. Only rows dated on or before ``as_of``
(and on or after ``since``, when given) are read.

Money is summed in integer cents: each amount is rounded to the nearest cent
(halves upwards, ``floor(100 * amount + 0.5)``) before the sum, and the sums come
back as float64 values that are exactly ``cents / 100``. Every engine therefore
returns the same bits, and rankings on money never differ between engines.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

__all__ = [
    "SUMMARY_COLUMNS",
    "collect",
    "customer_summary",
    "prepare_transactions",
]

#: The columns of :func:`customer_summary`, in order.
SUMMARY_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "first_purchase",
    "last_purchase",
    "orders",
    "purchase_days",
    "returns",
    "revenue",
    "cost",
    "margin",
    "uncosted_revenue",
    "recency_days",
    "tenure_days",
)

_REQUIRED = ("customer_id", "order_date", "amount")

MISSING_COLUMN = "transactions lack the required column {column!r} (need {required})"
BAD_TYPE = "transactions column {column!r} must be {expected}, got {actual}"
BAD_PERIOD = "since ({since}) is after as_of ({as_of})"


def _check_transactions(transactions: ir.Table) -> None:
    schema = transactions.schema()
    for column in _REQUIRED:
        if column not in schema:
            raise ValueError(MISSING_COLUMN.format(column=column, required=", ".join(_REQUIRED)))
    checks: list[tuple[str, str, bool]] = [
        ("customer_id", "a string", schema["customer_id"].is_string()),
        (
            "order_date",
            "a date or timestamp",
            schema["order_date"].is_date() or schema["order_date"].is_timestamp(),
        ),
        ("amount", "numeric", schema["amount"].is_numeric()),
    ]
    if "order_id" in schema:
        checks.append(("order_id", "a string", schema["order_id"].is_string()))
    if "cost" in schema:
        checks.append(("cost", "numeric", schema["cost"].is_numeric()))
    if "is_return" in schema:
        checks.append(("is_return", "boolean", schema["is_return"].is_boolean()))
    for column, expected, ok in checks:
        if not ok:
            raise ValueError(
                BAD_TYPE.format(column=column, expected=expected, actual=schema[column])
            )


def _cents(value: ir.NumericValue) -> ir.IntegerValue:
    """Round a money column to integer cents, halves upwards, the same on every engine."""
    return (value * 100 + 0.5).floor().cast("int64")


def prepare_transactions(
    transactions: ir.Table, *, as_of: dt.date, since: dt.date | None = None
) -> ir.Table:
    """Validate and normalise a transaction table (still an unexecuted expression).

    Parameters
    ----------
    transactions : ibis.Table
        A table following the input contract of this module.
    as_of : datetime.date
        Keep rows dated on or before this date.
    since : datetime.date, optional
        Keep rows dated on or after this date.

    Returns
    -------
    ibis.Table
        Columns ``customer_id``, ``order_date`` (date), ``order_id`` (string,
        possibly null), ``is_return`` (boolean, never null), ``amount_cents``
        (int64) and ``cost_cents`` (int64, null when unknown).

    Raises
    ------
    ValueError
        When a required column is missing or a column has the wrong type.
    """
    _check_transactions(transactions)
    if since is not None and since > as_of:
        raise ValueError(BAD_PERIOD.format(since=since, as_of=as_of))
    t = transactions
    schema = t.schema()
    order_date = t.order_date if schema["order_date"].is_date() else t.order_date.date()
    negative = t.amount < 0
    is_return = ibis.coalesce(t.is_return, negative) if "is_return" in schema else negative
    order_id = t.order_id if "order_id" in schema else ibis.null("string")
    cost_cents = _cents(t.cost) if "cost" in schema else ibis.null("int64")
    out = t.select(
        customer_id=t.customer_id,
        order_date=order_date,
        order_id=order_id,
        is_return=is_return,
        amount_cents=_cents(t.amount),
        cost_cents=cost_cents,
    )
    out = out.filter(out.order_date <= ibis.literal(as_of, type="date"))
    if since is not None:
        out = out.filter(out.order_date >= ibis.literal(since, type="date"))
    return out


def _money(cents: ir.NumericValue) -> ir.FloatingValue:
    return cents.cast("float64") / 100


def _cost_sums(t: ir.Table) -> dict[str, Any]:
    """Known cost, margin on the rows with a known cost, and revenue of the uncosted rows."""
    return {
        "cost_cents": t.cost_cents.sum(),
        "margin_cents": (t.amount_cents - t.cost_cents).sum(),
        "uncosted_cents": t.amount_cents.sum(where=t.cost_cents.isnull()),
    }


def customer_summary(
    transactions: ir.Table,
    *,
    as_of: dt.date,
    since: dt.date | None = None,
    columns: Sequence[str] | None = None,
) -> ir.Table:
    """Summarise the transactions of each customer as of a date, in the engine.

    Parameters
    ----------
    transactions : ibis.Table
        A table following the input contract of this module.
    as_of : datetime.date
        The analysis date: rows after it are ignored, and recency and tenure are
        counted from it.
    since : datetime.date, optional
        Ignore rows before this date (a period analysis). By default the whole
        history up to ``as_of`` is read.
    columns : sequence of str, optional
        Compute only these columns of :data:`SUMMARY_COLUMNS` (``customer_id``
        always comes first; the order of :data:`SUMMARY_COLUMNS` is kept). The
        distinct counts (``purchase_days``, and ``orders`` and ``returns`` with
        order ids) are the costly part of the aggregation: leave out what you do
        not need. Default: all.

    Returns
    -------
    ibis.Table
        One row per customer with at least one row in the period, unordered:

        ``customer_id``
        ``first_purchase``, ``last_purchase`` : date
            Dates of the first and last non-return row; null for a customer
            with returns only.
        ``orders`` : int64
            Frequency: the number of orders (see the module docstring).
        ``purchase_days`` : int64
            Distinct dates with a non-return row.
        ``returns`` : int64
            The number of return orders.
        ``revenue`` : float64
            Net revenue: the sum of all amounts, returns included (negative).
        ``cost`` : float64
            The sum of the known costs; null when every cost is unknown.
        ``margin`` : float64
            The sum of ``amount - cost`` over the rows whose cost is known; null
            when every cost is unknown. Equals ``revenue - cost`` when all costs
            are known.
        ``uncosted_revenue`` : float64
            The revenue of the rows whose cost is unknown (``revenue`` itself
            when there is no ``cost`` column).
        ``recency_days`` : int64
            ``as_of - last_purchase`` in days (0 when the last purchase is on
            ``as_of``).
        ``tenure_days`` : int64
            ``as_of - first_purchase`` in days.

    Raises
    ------
    ValueError
        When the table breaks the input contract or ``since > as_of``, or a
        requested column is not a summary column.

    Notes
    -----
    Without an ``order_id`` column every row is an order, so orders and returns
    are row counts. ``purchase_days`` without order ids comes from one
    pre-aggregation per (customer, date) that also carries every other measure;
    with order ids the order counts need the rows, and the distinct counts are
    left to the engine.

    Examples
    --------
    >>> import datetime as dt, ibis
    >>> t = ibis.memtable({"customer_id": ["a", "a", "b"],
    ...                    "order_date": [dt.date(2024, 1, 5), dt.date(2024, 3, 1),
    ...                                   dt.date(2024, 2, 1)],
    ...                    "amount": [10.0, -2.5, 7.25]})
    >>> s = customer_summary(t, as_of=dt.date(2024, 3, 31)).execute()
    >>> s = s.sort_values("customer_id")
    >>> s[["customer_id", "orders", "returns", "revenue"]].to_dict("records")[0]
    {'customer_id': 'a', 'orders': 1, 'returns': 1, 'revenue': 7.5}
    """
    wanted = set(SUMMARY_COLUMNS if columns is None else columns)
    unknown = wanted - set(SUMMARY_COLUMNS)
    if unknown:
        raise ValueError(
            f"unknown summary column(s) {', '.join(sorted(unknown))}; have {SUMMARY_COLUMNS}"
        )
    has_order_id = "order_id" in transactions.schema()
    # Without a cost column every cost is unknown: cost and margin are null and all revenue
    # is uncosted, with no aggregate over a column of nulls.
    has_cost = "cost" in transactions.schema()
    t = prepare_transactions(transactions, as_of=as_of, since=since)
    if not has_order_id and "purchase_days" in wanted:
        grouped, measures = _per_day_measures(t, has_cost=has_cost)
    else:
        grouped, measures = _per_row_measures(t, has_order_id=has_order_id, has_cost=has_cost)
    outputs = _outputs(has_cost=has_cost, as_of=as_of)
    used = {m for column in wanted if column in outputs for m in outputs[column][0]}
    agg = grouped.group_by("customer_id").aggregate(
        **{name: value for name, value in measures.items() if name in used}
    )
    return agg.select(
        **{
            name: outputs[name][1](agg)
            for name in SUMMARY_COLUMNS
            if name == "customer_id" or name in wanted
        }
    )


def _per_day_measures(t: ir.Table, *, has_cost: bool) -> tuple[ir.Table, dict[str, Any]]:
    """The per-customer measures over one row per (customer, date) first: every measure is
    additive over it, so the distinct dates need no second pass over the rows (files without
    order ids, where every row is an order)."""
    purchase = ~t.is_return
    day_measures = {
        "purchase_rows": t.order_date.count(where=purchase),
        "return_rows": t.order_date.count(where=t.is_return),
        "revenue_cents": t.amount_cents.sum(),
    }
    if has_cost:
        day_measures |= _cost_sums(t)
    day = t.group_by(["customer_id", "order_date"]).aggregate(**day_measures)
    bought = day.purchase_rows > 0
    measures: dict[str, Any] = {
        "first_purchase": day.order_date.min(where=bought),
        "last_purchase": day.order_date.max(where=bought),
        "orders": day.purchase_rows.sum(),
        "purchase_days": day.order_date.count(where=bought),
        "returns": day.return_rows.sum(),
        "revenue_cents": day.revenue_cents.sum(),
    }
    if has_cost:
        measures |= {
            "cost_cents": day.cost_cents.sum(),
            "margin_cents": day.margin_cents.sum(),
            "uncosted_cents": day.uncosted_cents.sum(),
        }
    return day, measures


def _per_row_measures(
    t: ir.Table, *, has_order_id: bool, has_cost: bool
) -> tuple[ir.Table, dict[str, Any]]:
    """The per-customer measures straight over the rows: with order ids the order counts
    need the rows, and the distinct counts are left to the engine."""
    purchase = ~t.is_return
    returned = t.is_return
    if has_order_id:
        no_id = t.order_id.isnull()
        orders = t.order_id.nunique(where=purchase) + t.order_date.count(where=purchase & no_id)
        returns = t.order_id.nunique(where=returned) + t.order_date.count(where=returned & no_id)
    else:  # every row is an order
        orders = t.order_date.count(where=purchase)
        returns = t.order_date.count(where=returned)
    measures: dict[str, Any] = {
        "first_purchase": t.order_date.min(where=purchase),
        "last_purchase": t.order_date.max(where=purchase),
        "orders": orders,
        "purchase_days": t.order_date.nunique(where=purchase),
        "returns": returns,
        "revenue_cents": t.amount_cents.sum(),
    }
    if has_cost:
        measures |= _cost_sums(t)
    return t, measures


_Output = tuple[tuple[str, ...], Callable[[ir.Table], ir.Value]]


def _outputs(*, has_cost: bool, as_of: dt.date) -> dict[str, _Output]:
    """Each summary column: the measures it is computed from, and how (over the aggregate)."""
    day = ibis.literal(as_of, type="date")
    cost: tuple[str, ...] = ("cost_cents",) if has_cost else ()
    margin: tuple[str, ...] = ("margin_cents",) if has_cost else ()
    null = ibis.null("float64")
    return {
        "customer_id": ((), lambda a: a.customer_id),
        "first_purchase": (("first_purchase",), lambda a: a.first_purchase),
        "last_purchase": (("last_purchase",), lambda a: a.last_purchase),
        "orders": (("orders",), lambda a: a.orders.cast("int64")),
        "purchase_days": (("purchase_days",), lambda a: a.purchase_days.cast("int64")),
        "returns": (("returns",), lambda a: a.returns.cast("int64")),
        "revenue": (("revenue_cents",), lambda a: _money(a.revenue_cents)),
        "cost": (cost, lambda a: _money(a.cost_cents) if has_cost else null),
        "margin": (margin, lambda a: _money(a.margin_cents) if has_cost else null),
        "uncosted_revenue": (
            ("uncosted_cents",) if has_cost else ("revenue_cents",),
            lambda a: _money(a.uncosted_cents.fill_null(0) if has_cost else a.revenue_cents),
        ),
        "recency_days": (
            ("last_purchase",),
            lambda a: day.delta(a.last_purchase, unit="day").cast("int64"),
        ),
        "tenure_days": (
            ("first_purchase",),
            lambda a: day.delta(a.first_purchase, unit="day").cast("int64"),
        ),
    }


def collect(data: ir.Table | pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Return the named columns of a table or frame as a pandas DataFrame.

    An Ibis table is executed (select only ``columns``); this is how the
    one-row-per-customer results reach NumPy. A DataFrame is checked and its columns taken
    without a copy (a million rows of ids are costly to copy): treat the result as
    read-only, and add columns rather than change values in place.

    Raises
    ------
    ValueError
        When a column is missing.
    """
    present = data.columns
    missing = [c for c in columns if c not in present]
    if missing:
        raise ValueError(f"missing column(s) {', '.join(map(repr, missing))}; have {present!r}")
    if isinstance(data, pd.DataFrame):
        return pd.DataFrame({c: data[c].array for c in columns}, copy=False)
    frame: Any = data.select(*columns).execute()
    return pd.DataFrame(frame).reset_index(drop=True)
