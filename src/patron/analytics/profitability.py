"""Customer profitability: margin, cost to serve (客户成本 / 服务成本) and profit.

Definitions (all money rounded to the cent, halves upwards, summed in cents)
---------------------------------------------------------------------
margin
    From the customer summary: the margin of the rows whose cost is known plus
    ``default_margin_rate * uncosted_revenue`` for the rows whose cost is
    unknown. Without a default rate, a customer with uncosted revenue has an
    unknown (NaN) margin and profit.
cost to serve
    ``orders * per_order + service_contacts * per_service_contact
    + messages * per_message + per_account_per_year * (tenure_days + 1) / 365
    + acquisition`` (acquisition only for customers whose first purchase is on or
    after ``acquired_since``; all customers when it is not given). Each term is
    rounded to the cent. Contacts and messages come from an optional table;
    missing counts are zero.
profit
    ``margin - cost to serve``. A customer is unprofitable when the cost to
    serve exceeds the margin (``profit < 0``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import ibis.expr.types as ir
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from patron.analytics.segments import SEGMENT_CODES
from patron.analytics.summary import collect
from patron.analytics.tiers import PROFIT_GROUP_CODES, TIER_CODES

__all__ = [
    "COST_SETTINGS",
    "PROFIT_COLUMNS",
    "ProfitSettings",
    "customer_profit",
    "profit_by_levels",
    "profit_by_tier",
    "unprofitable_customers",
    "value_versus_cost",
]

#: Columns of :func:`customer_profit`, in order.
PROFIT_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "orders",
    "revenue",
    "margin",
    "order_cost",
    "contact_cost",
    "message_cost",
    "account_cost",
    "acquisition_cost",
    "cost_to_serve",
    "profit",
    "unprofitable",
)

#: The cost-to-serve fields of :class:`ProfitSettings`, in currency units.
COST_SETTINGS: tuple[str, ...] = (
    "per_order",
    "per_service_contact",
    "per_message",
    "per_account_per_year",
    "acquisition",
)
BAD_SETTING = "{name} must be a finite number >= 0, got {value!r}"
BAD_RATE = "default_margin_rate must be between -1 and 1, got {value!r}"


@dataclass(frozen=True)
class ProfitSettings:
    """What margins are assumed and what serving a customer costs, in currency units.

    Attributes
    ----------
    default_margin_rate : float or None
        Margin as a share of revenue for rows whose cost is unknown (0.3 means
        30%); None leaves such margins unknown.
    per_order : float
        Cost of handling one order (picking, packing, payment fees).
    per_service_contact : float
        Cost of one service contact (ticket, call, complaint).
    per_message : float
        Cost of one marketing message (SMS, WeChat, e-mail).
    per_account_per_year : float
        Yearly cost of keeping an account (membership card, system, statements).
    acquisition : float
        One-off cost of winning a customer.
    """

    default_margin_rate: float | None = None
    per_order: float = 0.0
    per_service_contact: float = 0.0
    per_message: float = 0.0
    per_account_per_year: float = 0.0
    acquisition: float = 0.0

    def __post_init__(self) -> None:
        for name in COST_SETTINGS:
            value = getattr(self, name)
            if not np.isfinite(value) or value < 0:
                raise ValueError(BAD_SETTING.format(name=name, value=value))
        rate = self.default_margin_rate
        if rate is not None and not (np.isfinite(rate) and -1 <= rate <= 1):
            raise ValueError(BAD_RATE.format(value=rate))


def _cents(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Float cents (NaN kept), rounded to whole cents."""
    return np.rint(x * 100)


def _half_up(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Round (float) cents to whole cents, halves upwards, like the summary."""
    return np.floor(x + 0.5)


def _counts(frame: pd.DataFrame, column: str) -> NDArray[np.float64]:
    if column not in frame.columns:
        return np.zeros(len(frame), dtype=np.float64)
    values: NDArray[np.float64] = (
        pd.to_numeric(frame[column]).fillna(0).to_numpy(dtype=np.float64, na_value=0.0)
    )
    return values


def customer_profit(
    summary: pd.DataFrame | ir.Table,
    *,
    settings: ProfitSettings | None = None,
    contacts: pd.DataFrame | ir.Table | None = None,
    acquired_since: dt.date | None = None,
) -> pd.DataFrame:
    """Margin, cost to serve and profit per customer.

    Parameters
    ----------
    summary : pandas.DataFrame or ibis.Table
        The customer summary (:func:`patron.analytics.summary.customer_summary`).
    settings : ProfitSettings, optional
        Defaults to no default margin rate and no cost to serve.
    contacts : pandas.DataFrame or ibis.Table, optional
        ``customer_id`` with ``service_contacts`` and/or ``messages`` (counts
        over the same period as the summary), one row per customer.
    acquired_since : datetime.date, optional
        Charge the acquisition cost only to customers whose first purchase is
        on or after this date (those won in the period analysed).

    Returns
    -------
    pandas.DataFrame
        Sorted by ``customer_id``; columns :data:`PROFIT_COLUMNS`. Money in
        float64 (exact cents, NaN when unknown); ``unprofitable`` is a bool.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"customer_id": ["a"], "orders": [3], "revenue": [100.0],
    ...                   "margin": [float("nan")], "uncosted_revenue": [100.0],
    ...                   "tenure_days": [364], "first_purchase": [pd.Timestamp("2024-01-01")]})
    >>> p = customer_profit(s, settings=ProfitSettings(default_margin_rate=0.3, per_order=2.5,
    ...                                                per_account_per_year=10))
    >>> p[["margin", "cost_to_serve", "profit"]].values.tolist()
    [[30.0, 17.5, 12.5]]
    """
    settings = settings or ProfitSettings()
    frame = collect(
        summary,
        [
            "customer_id",
            "orders",
            "revenue",
            "margin",
            "uncosted_revenue",
            "tenure_days",
            "first_purchase",
        ],
    )
    if contacts is not None:
        wanted = [c for c in ("service_contacts", "messages") if c in contacts.columns]
        extra = collect(contacts, ["customer_id", *wanted])
        if extra["customer_id"].duplicated().any():
            raise ValueError("contacts must have one row per customer_id")
        frame = frame.merge(extra, on="customer_id", how="left")
    if not pd.Index(frame["customer_id"]).is_monotonic_increasing:  # the summary usually is
        frame = frame.sort_values("customer_id", kind="stable")
    frame = frame.reset_index(drop=True)

    def money(column: str) -> NDArray[np.float64]:
        values: NDArray[np.float64] = pd.to_numeric(frame[column]).to_numpy(
            dtype=np.float64, na_value=np.nan
        )
        return _cents(values)

    revenue = money("revenue")
    known_margin = money("margin")
    uncosted = np.nan_to_num(money("uncosted_revenue"))
    rate = settings.default_margin_rate
    if rate is None:  # unknown unless there is nothing to estimate
        estimated: NDArray[np.float64] = np.where(uncosted == 0, 0.0, np.nan)
    else:
        estimated = _half_up(uncosted * rate)
    margin = np.nan_to_num(known_margin) + estimated

    orders = _counts(frame, "orders")
    tenure = pd.to_numeric(frame["tenure_days"]).to_numpy(dtype=np.float64, na_value=np.nan)
    days = np.where(np.isnan(tenure), 0.0, tenure + 1)
    first = pd.to_datetime(frame["first_purchase"]).to_numpy(dtype="datetime64[D]")
    if acquired_since is None:
        acquired = np.ones(len(frame), dtype=bool)
    else:
        acquired = ~np.isnat(first) & (first >= np.datetime64(acquired_since, "D"))

    def rate_cents(value: float) -> float:
        return float(np.floor(value * 100 + 0.5))

    order_cost = orders * rate_cents(settings.per_order)
    contact_cost = _counts(frame, "service_contacts") * rate_cents(settings.per_service_contact)
    message_cost = _counts(frame, "messages") * rate_cents(settings.per_message)
    account_cost = _half_up(rate_cents(settings.per_account_per_year) * days / 365)
    acquisition_cost = np.where(acquired, rate_cents(settings.acquisition), 0.0)
    cost_to_serve = order_cost + contact_cost + message_cost + account_cost + acquisition_cost
    profit = margin - cost_to_serve
    return pd.DataFrame(
        {
            "customer_id": frame["customer_id"].to_numpy(),
            "orders": frame["orders"].to_numpy(),
            "revenue": revenue / 100,
            "margin": margin / 100,
            "order_cost": order_cost / 100,
            "contact_cost": contact_cost / 100,
            "message_cost": message_cost / 100,
            "account_cost": account_cost / 100,
            "acquisition_cost": acquisition_cost / 100,
            "cost_to_serve": cost_to_serve / 100,
            "profit": profit / 100,
            "unprofitable": profit < 0,
        },
        copy=False,  # fresh arrays, or the collected frame's: nothing of the caller's
    )


def unprofitable_customers(profit: pd.DataFrame) -> pd.DataFrame:
    """Customers whose cost to serve exceeds their margin, biggest loss first.

    Ties are ordered by ``customer_id``.
    """
    losers = profit.loc[profit["unprofitable"]]
    return losers.sort_values(["profit", "customer_id"], kind="stable").reset_index(drop=True)


def _levels(column: str) -> tuple[str, ...]:
    if column == "tier":
        return TIER_CODES
    if column == "group":
        return PROFIT_GROUP_CODES
    if column == "segment":
        return SEGMENT_CODES
    raise ValueError(f"unknown level column {column!r}; pass levels=")


def _unique(ids: np.ndarray) -> bool:
    index = pd.Index(ids)
    if index.is_monotonic_increasing:  # sorted: neighbours tell
        return bool(len(ids) < 2 or (ids[1:] != ids[:-1]).all())
    return bool(index.is_unique)


def profit_by_tier(
    profit: pd.DataFrame,
    tiers: pd.DataFrame,
    *,
    column: str = "tier",
    levels: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """Revenue, margin, cost to serve and profit per tier, every level listed.

    Parameters
    ----------
    profit : pandas.DataFrame
        :func:`customer_profit`.
    tiers : pandas.DataFrame
        ``customer_id`` and the level column: :func:`~patron.analytics.tiers.value_tiers`
        (``"tier"``), :func:`~patron.analytics.tiers.profit_groups` (``"group"``) or
        segments (``"segment"``).
    column : str, default "tier"
    levels : tuple of str, optional
        Level order; inferred from ``column`` by default.

    Returns
    -------
    pandas.DataFrame
        ``level``, ``customers``, ``revenue``, ``margin``, ``cost_to_serve``,
        ``profit`` (sums), ``profit_per_customer``, ``profit_share`` (of total
        profit; NaN when that is not positive), ``unprofitable`` (count). Sums
        skip unknown margins (NaN); ``margin_unknown`` counts them.
    """
    order = levels if levels is not None else _levels(column)
    ids = profit["customer_id"].to_numpy()
    other = tiers["customer_id"].to_numpy()
    aligned = len(ids) == len(other) and (ids is other or np.array_equal(ids, other))
    if aligned and _unique(ids):
        merged = profit.assign(**{column: tiers[column].to_numpy()})  # aligned: no join
    else:
        merged = profit.merge(tiers[["customer_id", column]], on="customer_id", how="inner")
    return profit_by_levels(merged, {column: (merged[column].to_numpy(), order)})[column]


def profit_by_levels(
    profit: pd.DataFrame, labels: Mapping[str, tuple[np.ndarray, tuple[str, ...]]]
) -> dict[str, pd.DataFrame]:
    """:func:`profit_by_tier` for several groupings of the same customers at once.

    ``labels`` maps a name to (each row's level, the level order), the level arrays aligned
    row by row with ``profit``: an analysis groups one million customers by tier, segment and
    profit group, and converts their money to cents once for all three.
    """
    # Sums by bincount over cents: cents are whole numbers in float64, so the sums are exact
    # in any order.
    cents: dict[str, np.ndarray] = {}
    missing: dict[str, np.ndarray] = {}
    for name in ("revenue", "margin", "cost_to_serve", "profit"):
        values = np.rint(profit[name].to_numpy(dtype=np.float64) * 100)
        missing[name] = np.isnan(values)
        cents[name] = np.where(missing[name], 0.0, values)
    unprofitable = profit["unprofitable"].to_numpy(dtype=bool)
    out = {}
    for key, (codes, order) in labels.items():
        k = len(order)  # level k: a code outside ``order``
        level = pd.Index(list(order)).get_indexer(codes)
        level = np.where(level < 0, k, level)
        sums = {
            name: np.bincount(level, weights=values, minlength=k + 1)
            for name, values in cents.items()
        }
        unknown = np.bincount(level, weights=missing["margin"], minlength=k + 1)
        counts = np.bincount(level, minlength=k + 1)
        losers = np.bincount(level, weights=unprofitable, minlength=k + 1)
        total_profit = float(sums["profit"].sum())
        rows = []
        for i, name in enumerate(order):
            count = int(counts[i])
            level_sums = {column: float(values[i]) for column, values in sums.items()}
            rows.append(
                {
                    "level": name,
                    "customers": count,
                    "revenue": level_sums["revenue"] / 100,
                    "margin": level_sums["margin"] / 100,
                    "cost_to_serve": level_sums["cost_to_serve"] / 100,
                    "profit": level_sums["profit"] / 100,
                    "profit_per_customer": round(level_sums["profit"] / count / 100, 2)
                    if count
                    else np.nan,
                    "profit_share": level_sums["profit"] / total_profit
                    if total_profit > 0
                    else np.nan,
                    "unprofitable": int(losers[i]),
                    "margin_unknown": int(unknown[i]),
                }
            )
        out[key] = pd.DataFrame(rows)
    return out


def value_versus_cost(
    profit: pd.DataFrame,
    tiers: pd.DataFrame,
    *,
    column: str = "tier",
    levels: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """What a customer of each tier brings against what serving them costs.

    Returns
    -------
    pandas.DataFrame
        ``level``, ``customers``, and per customer (rounded to the cent):
        ``revenue``, ``margin``, ``cost_to_serve``, ``profit``; then
        ``cost_to_margin`` (cost to serve / margin: above 1 means the tier
        costs more than it brings; NaN when the tier's margin is not positive)
        and ``unprofitable_share``. Unknown margins count as customers but add
        nothing to the sums (see ``margin_unknown`` in :func:`profit_by_tier`).
    """
    table = profit_by_tier(profit, tiers, column=column, levels=levels)
    count = table["customers"].to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = pd.DataFrame({"level": table["level"], "customers": table["customers"]})
        for name in ("revenue", "margin", "cost_to_serve", "profit"):
            out[name] = np.round(table[name].to_numpy(dtype=np.float64) / count, 2)
        margin = table["margin"].to_numpy(dtype=np.float64)
        out["cost_to_margin"] = np.where(
            margin > 0, table["cost_to_serve"].to_numpy(dtype=np.float64) / margin, np.nan
        )
        out["unprofitable_share"] = table["unprofitable"].to_numpy(dtype=np.float64) / count
    return out
