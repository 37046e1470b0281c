"""The whole value analysis in one call: RFM, segments, pyramid, profit, 80/20, KPIs.

:func:`analyze_transactions` wires the library together for one as-of date and returns a
:class:`ValueAnalysis`: one row per customer (the scores a run stores) and the figures a
report, a dashboard or ``summary.json`` shows. The transactions are aggregated in the
engine once (:func:`~patron.analytics.summary.customer_summary`); everything after that
works on one row per customer in NumPy. No Django here.

Per-customer columns (:data:`CUSTOMER_COLUMNS`)
-----------------------------------------------
``customer_id``, ``recency_days`` (days since the last purchase; missing for a customer
with returns only), ``frequency`` (orders), ``monetary`` (net revenue), ``r_score``,
``f_score``, ``m_score`` (1-5), ``segment`` (a code of
:data:`~patron.analytics.segments.SEGMENT_CODES`), ``value_tier`` (a code of
:data:`~patron.analytics.tiers.TIER_CODES`), ``profit_group`` (high, medium, low or no profit:
:data:`~patron.analytics.tiers.PROFIT_GROUP_CODES`, on the pyramid's value), ``revenue`` (net
revenue, equal to ``monetary``), ``cost`` (cost of goods where known), ``margin``,
``cost_to_serve`` and ``profit`` (see :mod:`patron.analytics.profitability`; margin and profit
are missing when costs are unknown and no default margin rate is set, and the pyramid then
ranks by revenue).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from patron.analytics.concentration import concentration_report, lorenz_curve
from patron.analytics.kpis import Cohorts, kpis_and_cohorts
from patron.analytics.profitability import ProfitSettings, customer_profit, profit_by_levels
from patron.analytics.rfm import RFMThresholds, rfm_b2b, rfm_scores
from patron.analytics.segments import SEGMENT_CODES, SEGMENTS, segment_codes
from patron.analytics.summary import customer_summary, prepare_transactions
from patron.analytics.tiers import (
    PROFIT_GROUP_CODES,
    PROFIT_GROUPS,
    TIER_CODES,
    TIERS,
    TierCuts,
    profit_group_indices,
    tier_groups,
    value_tiers,
)

__all__ = [
    "CUSTOMER_COLUMNS",
    "AnalysisSettings",
    "ValueAnalysis",
    "analyze_transactions",
    "default_as_of",
]

#: Columns of :attr:`ValueAnalysis.customers`, in order.
CUSTOMER_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "recency_days",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    "segment",
    "value_tier",
    "profit_group",
    "revenue",
    "cost",
    "margin",
    "cost_to_serve",
    "profit",
)

NO_TRANSACTIONS = "no transactions on or before {as_of}"
BAD_SETTING = "{name}: unexpected value {value!r}"
# What scoring and profit read of the summary: purchase_days and returns (distinct counts)
# are left out.
SUMMARY_NEEDED = (
    "customer_id",
    "first_purchase",
    "orders",
    "revenue",
    "cost",
    "margin",
    "uncosted_revenue",
    "recency_days",
    "tenure_days",
)
Step = Callable[[str], None]


@dataclass(frozen=True)
class AnalysisSettings:
    """How a run scores and values customers; stored with each run.

    Attributes
    ----------
    rfm_method : {"quintile", "thresholds"}
        See :mod:`patron.analytics.rfm`.
    rfm_thresholds : RFMThresholds or None
        Required with ``rfm_method="thresholds"``.
    rfm_variant : {"standard", "b2b"}
        ``"b2b"`` scores R by the quarter of the half-year of the last order and F and M per
        half-year over the last ``b2b_half_years`` half-years
        (:func:`~patron.analytics.rfm.rfm_b2b`); ``recency_days``, ``frequency`` and
        ``monetary`` stay the plain measures.
    b2b_half_years : int
        The window of the B2B variant, in half-years.
    tier_shares : tuple of 5 floats
        Shares of customers per tier, top first (ignored when ``tier_thresholds`` is set).
    tier_thresholds : tuple of 4 floats or None
        Least value of the very-high, high, moderate and low tiers, instead of shares.
    profit : ProfitSettings
        Default margin rate and cost to serve.
    lost_after_days : int
        Days without a purchase after which a customer counts as lost (monthly KPIs).
    kpis : bool
        Compute the monthly KPIs and cohorts (two more passes over the transactions).
    """

    rfm_method: Literal["quintile", "thresholds"] = "quintile"
    rfm_thresholds: RFMThresholds | None = None
    rfm_variant: Literal["standard", "b2b"] = "standard"
    b2b_half_years: int = 2
    tier_shares: tuple[float, float, float, float, float] = (0.01, 0.04, 0.15, 0.30, 0.50)
    tier_thresholds: tuple[float, float, float, float] | None = None
    profit: ProfitSettings = field(default_factory=ProfitSettings)
    lost_after_days: int = 90
    kpis: bool = True

    def __post_init__(self) -> None:
        # Checked when the settings are made, not half-way through a run.
        if self.rfm_method not in ("quintile", "thresholds"):
            raise ValueError(BAD_SETTING.format(name="rfm_method", value=self.rfm_method))
        if self.rfm_method == "thresholds" and self.rfm_thresholds is None:
            raise ValueError("rfm_method 'thresholds' needs rfm_thresholds")
        if self.rfm_variant not in ("standard", "b2b"):
            raise ValueError(BAD_SETTING.format(name="rfm_variant", value=self.rfm_variant))
        if not isinstance(self.b2b_half_years, int) or not 1 <= self.b2b_half_years <= 8:
            raise ValueError(BAD_SETTING.format(name="b2b_half_years", value=self.b2b_half_years))
        if not isinstance(self.lost_after_days, int) or self.lost_after_days < 1:
            raise ValueError(BAD_SETTING.format(name="lost_after_days", value=self.lost_after_days))
        self.tier_cuts()  # raises on shares that do not add up or thresholds out of order

    def tier_cuts(self) -> TierCuts:
        if self.tier_thresholds is not None:
            v = self.tier_thresholds
            return TierCuts.by_thresholds(very_high=v[0], high=v[1], moderate=v[2], low=v[3])
        return TierCuts.by_shares(*self.tier_shares)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (what a run stores)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AnalysisSettings:
        """The inverse of :meth:`as_dict`; unknown keys are an error."""
        values = dict(data)
        unknown = sorted(set(values) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"unknown analysis setting(s): {', '.join(unknown)}")
        try:
            if values.get("rfm_thresholds") is not None:
                values["rfm_thresholds"] = RFMThresholds(
                    **{k: tuple(v) for k, v in values["rfm_thresholds"].items()}
                )
            if "profit" in values:
                values["profit"] = ProfitSettings(**values["profit"])
            for key in ("tier_shares", "tier_thresholds"):
                if values.get(key) is not None:
                    values[key] = tuple(values[key])
            return cls(**values)
        except (TypeError, AttributeError) as error:  # a misspelt or mistyped nested key
            raise ValueError(f"invalid analysis settings: {error}") from None


@dataclass(frozen=True)
class ValueAnalysis:
    """The result of :func:`analyze_transactions`.

    Attributes
    ----------
    as_of : datetime.date
    settings : AnalysisSettings
    customers : pandas.DataFrame
        One row per customer, sorted by ``customer_id``; :data:`CUSTOMER_COLUMNS`.
    figures : dict
        JSON-ready summary: ``customers``, ``revenue``, ``top20_revenue_share``, ``gini``
        (of revenue), ``tiers`` and ``segments`` (customer counts by code), and more (see
        ``docs/analytics/runs.md``).
    kpis : pandas.DataFrame or None
        :func:`~patron.analytics.kpis.monthly_kpis` (None when ``settings.kpis`` is off).
    cohorts : pandas.DataFrame or None
        Cohort retention shares (rows: cohort month, columns: months since).
    """

    as_of: dt.date
    settings: AnalysisSettings
    customers: pd.DataFrame
    figures: dict[str, Any]
    kpis: pd.DataFrame | None = None
    cohorts: pd.DataFrame | None = None


def default_as_of(transactions: ir.Table, *, step: Step | None = None) -> dt.date:
    """The day after the last dated row: the default analysis date. ``step`` is told
    "Finding the last purchase" first (the query reads every row).

    Raises
    ------
    ValueError
        When the table has no rows.
    """
    if step is not None:
        step("Finding the last purchase")
    order_date = transactions.order_date
    if not transactions.schema()["order_date"].is_date():
        order_date = order_date.date()
    last = order_date.max().execute()
    if last is None or pd.isna(last):
        raise ValueError("the transactions are empty")
    day: dt.date = pd.Timestamp(last).date()
    return day + dt.timedelta(days=1)


def json_number(value: Any) -> Any:
    """A plain JSON number: NaN -> None, NumPy scalars -> Python."""
    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def json_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for row in frame.to_dict("records"):
        out.append(
            {
                k: (v.isoformat() if isinstance(v, dt.date) else json_number(v))
                for k, v in row.items()
            }
        )
    return out


def level_counts(table: pd.DataFrame) -> dict[str, int]:
    """Customers per level, from a :func:`profit_by_levels` table (every level listed)."""
    return {str(k): int(v) for k, v in zip(table["level"], table["customers"], strict=True)}


def _b2b_scores(
    scores: pd.DataFrame, transactions: ir.Table, as_of: dt.date, settings: AnalysisSettings
) -> pd.DataFrame:
    """``scores`` with R, F and M of the B2B variant; the plain measures are kept."""
    b2b = rfm_b2b(
        transactions,
        as_of=as_of,
        half_years=settings.b2b_half_years,
        method=settings.rfm_method,
        thresholds=settings.rfm_thresholds,
    )
    if not np.array_equal(b2b["customer_id"].to_numpy(), scores["customer_id"].to_numpy()):
        raise RuntimeError("B2B scores are not aligned by customer_id")  # pragma: no cover
    out = scores.copy()
    for column in ("r_score", "f_score", "m_score", "rfm_cell", "rfm_total"):
        out[column] = b2b[column].to_numpy()
    return out


def _customer_frame(
    summary: pd.DataFrame,
    settings: AnalysisSettings,
    *,
    transactions: ir.Table | None = None,
    as_of: dt.date | None = None,
    contacts: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """Per-customer scores, segments, tiers and profit; also the profit frame and basis."""
    if not pd.Index(summary["customer_id"]).is_monotonic_increasing:  # engine collation
        summary = summary.sort_values("customer_id", kind="stable")
    summary = summary.reset_index(drop=True)
    scores = rfm_scores(summary, method=settings.rfm_method, thresholds=settings.rfm_thresholds)
    if settings.rfm_variant == "b2b":
        if transactions is None or as_of is None:
            raise ValueError("the B2B variant needs the transactions and the as-of date")
        scores = _b2b_scores(scores, transactions, as_of, settings)
    profit = customer_profit(summary, settings=settings.profit, contacts=contacts)
    ids = summary["customer_id"].to_numpy()
    if not (
        np.array_equal(scores["customer_id"].to_numpy(), ids)
        and np.array_equal(profit["customer_id"].to_numpy(), ids)
    ):  # pragma: no cover - the library sorts both by customer_id
        raise RuntimeError("scores and profit are not aligned by customer_id")
    basis = "profit" if not profit["profit"].isna().any() else "revenue"
    # value_tiers without building its frame: the rank order maps each tier to its customer.
    values = np.round(pd.to_numeric(profit[basis]).to_numpy(dtype=np.float64, na_value=np.nan), 2)
    if np.isnan(values).any():  # pragma: no cover - the basis is chosen without NaN
        value_tiers(profit, by=basis, cuts=settings.tier_cuts())  # raises the usual error
    order, groups = tier_groups(values, ids, settings.tier_cuts())
    tier = np.empty(len(ids), dtype=object)
    tier[order] = np.array(TIER_CODES, dtype=object)[groups]
    profit_group = np.empty(len(ids), dtype=object)  # the same rank order, four groups
    profit_group[order] = np.array(PROFIT_GROUP_CODES, dtype=object)[
        profit_group_indices(values[order])
    ]
    recency = pd.array(scores["recency_days"].to_numpy(), dtype="Int64")
    cost = pd.to_numeric(summary["cost"]).to_numpy(dtype=np.float64, na_value=np.nan)
    customers = pd.DataFrame(
        {
            "customer_id": ids,
            "recency_days": recency,
            "frequency": scores["frequency"].to_numpy(dtype=np.int64),
            "monetary": scores["monetary"].to_numpy(dtype=np.float64),
            "r_score": scores["r_score"].to_numpy(),
            "f_score": scores["f_score"].to_numpy(),
            "m_score": scores["m_score"].to_numpy(),
            "segment": segment_codes(scores["r_score"], scores["f_score"], scores["m_score"]),
            "value_tier": tier,
            "profit_group": profit_group,
            "revenue": profit["revenue"].to_numpy(),
            "cost": np.round(cost, 2),
            "margin": profit["margin"].to_numpy(),
            "cost_to_serve": profit["cost_to_serve"].to_numpy(),
            "profit": profit["profit"].to_numpy(),
        },
        copy=False,  # the arrays are this run's own
    )
    return customers, profit, basis


def _figures(
    customers: pd.DataFrame, profit: pd.DataFrame, basis: str, as_of: dt.date
) -> dict[str, Any]:
    report = concentration_report(profit)
    top = report.top.set_index("top_share")
    revenue_cents = np.rint(customers["revenue"].to_numpy(dtype=np.float64) * 100)
    lorenz_x, lorenz_y = lorenz_curve(customers["revenue"].to_numpy(dtype=np.float64), points=100)
    tiers = customers["value_tier"].to_numpy()
    segments = customers["segment"].to_numpy()
    groups = customers["profit_group"].to_numpy()
    # The customers frame and the profit frame share their rows: no join.
    tables = profit_by_levels(
        profit,
        {
            "tier": (tiers, TIER_CODES),
            "segment": (segments, SEGMENT_CODES),
            "group": (groups, PROFIT_GROUP_CODES),
        },
    )
    by_tier, by_segment, by_group = tables["tier"], tables["segment"], tables["group"]
    r = customers["r_score"].to_numpy(dtype=np.int64)
    f = customers["f_score"].to_numpy(dtype=np.int64)
    inside = (r >= 1) & (r <= 5) & (f >= 1) & (f <= 5)
    heat = np.bincount(((r - 1) * 5 + (f - 1))[inside], minlength=25).reshape(5, 5)
    statement = report.statement()
    return {
        "as_of": as_of.isoformat(),
        "customers": len(customers),
        "orders": int(customers["frequency"].sum()),
        "revenue": float(revenue_cents.sum()) / 100,
        "profit": json_number(report.total_profit),
        "value_basis": basis,
        "top20_revenue_share": json_number(top.loc[0.2, "revenue_share"]),
        "top20_profit_share": json_number(top.loc[0.2, "profit_share"]),
        "gini": json_number(report.gini_revenue),
        "gini_profit": json_number(report.gini_profit),
        "customers_for_80_revenue": json_number(report.customers_for_target_revenue),
        "customers_for_80_profit": json_number(report.customers_for_target_profit),
        "loss_making_customers": int(report.loss_making_customers),
        "concentration_statement": statement,
        "top_shares": json_records(report.top),
        "lorenz": {
            "x": [round(float(v), 4) for v in lorenz_x],
            "y": [round(float(v), 6) for v in lorenz_y],
        },
        "tiers": level_counts(by_tier),
        "segments": level_counts(by_segment),
        "tier_table": json_records(by_tier),
        "segment_table": json_records(by_segment),
        "profit_groups": level_counts(by_group),
        "profit_group_table": json_records(by_group),
        "rf_heatmap": heat.tolist(),  # rows R = 1..5, columns F = 1..5
        "labels": {
            "tiers": {t.code: t.label for t in TIERS},
            "profit_groups": {g.code: g.label for g in PROFIT_GROUPS},
            "segments": {s.code: {"label": s.label, "action": s.action} for s in SEGMENTS},
        },
    }


def analyze_transactions(
    transactions: ir.Table,
    *,
    as_of: dt.date | None = None,
    settings: AnalysisSettings | None = None,
    contacts: pd.DataFrame | None = None,
    step: Step | None = None,
    kpis: tuple[pd.DataFrame, Cohorts] | None = None,
) -> ValueAnalysis:
    """Run the whole value analysis on a transaction table as of a date.

    Parameters
    ----------
    transactions : ibis.Table
        The input contract of :mod:`patron.analytics.summary` (any Ibis backend).
    as_of : datetime.date, optional
        Default: :func:`default_as_of` (the day after the last row).
    settings : AnalysisSettings, optional
    contacts : pandas.DataFrame, optional
        ``customer_id`` with ``service_contacts`` and/or ``messages`` counts, for their cost
        to serve (:func:`~patron.analytics.profitability.customer_profit`).
    step : callable, optional
        Called with the name of each step as it starts (for progress display).
    kpis : (pandas.DataFrame, Cohorts), optional
        The monthly KPIs and cohorts of ``transactions`` as of ``as_of``, when the caller has
        computed them already (:func:`~patron.analytics.kpis.kpis_and_cohorts` on a table of
        purchase days it shares with the predictions' inputs); used when ``settings.kpis``.

    Returns
    -------
    ValueAnalysis

    Raises
    ------
    ValueError
        When the table breaks the input contract or has no row on or before ``as_of``.

    Examples
    --------
    >>> import datetime as dt, ibis
    >>> t = ibis.memtable({"customer_id": ["a", "a", "b"],
    ...                    "order_date": [dt.date(2024, 1, 5), dt.date(2024, 3, 1),
    ...                                   dt.date(2024, 2, 1)],
    ...                    "amount": [10.0, 5.0, 7.25]})
    >>> result = analyze_transactions(t, settings=AnalysisSettings(kpis=False))
    >>> result.as_of, result.figures["customers"], result.figures["revenue"]
    (datetime.date(2024, 3, 2), 2, 22.25)
    """
    settings = settings or AnalysisSettings()
    say = step or (lambda _name: None)
    prepare_transactions(transactions, as_of=as_of or dt.date.max)  # checks the contract
    if as_of is None:
        as_of = default_as_of(transactions, step=step)
    monthly = cohorts = None
    if settings.kpis:
        if kpis is None:
            # First, while no per-customer frame is held: the KPIs' engine work (a table of
            # every purchase day) is the largest of a run, and its peak adds to what Python holds.
            say("Monthly KPIs")
            kpis = kpis_and_cohorts(
                transactions, as_of=as_of, lost_after_days=settings.lost_after_days
            )
        say("Cohorts")
        monthly, cohorts = kpis[0], kpis[1].shares
    say("Summarising customers")
    # Ordered in the engine: the library sorts by customer_id again, and sorting sorted
    # strings is nearly free (the result does not depend on the engine's collation).
    summary_expr = customer_summary(transactions, as_of=as_of, columns=SUMMARY_NEEDED).order_by(
        "customer_id"
    )
    # Through Arrow: several times faster than Ibis's own conversion to pandas for a million
    # rows; dates come back as datetime64, integer columns with gaps as float64 with NaN.
    summary = summary_expr.to_pyarrow().to_pandas(date_as_object=False)
    if summary.empty:
        raise ValueError(NO_TRANSACTIONS.format(as_of=as_of))
    say("Scoring customers")
    customers, profit, basis = _customer_frame(
        summary, settings, transactions=transactions, as_of=as_of, contacts=contacts
    )
    figures = _figures(customers, profit, basis, as_of)
    del summary, profit  # a million rows each, not needed by what the caller does next
    if monthly is not None and cohorts is not None:
        figures["kpis"] = json_records(monthly)
        figures["cohorts"] = {
            "months": [d.isoformat() for d in cohorts.index],
            "shares": [[json_number(round(v, 4)) for v in row] for row in cohorts.to_numpy()],
        }
    figures["settings"] = settings.as_dict()
    return ValueAnalysis(
        as_of=as_of,
        settings=settings,
        customers=customers,
        figures=figures,
        kpis=monthly,
        cohorts=cohorts,
    )
