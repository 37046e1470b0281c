"""Profitability: cost to serve by hand, CDNOW with costs against pandas, tier tables."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import ibis
import numpy as np
import pandas as pd
import pytest

from patron.analytics.profitability import (
    PROFIT_COLUMNS,
    ProfitSettings,
    customer_profit,
    profit_by_levels,
    profit_by_tier,
    unprofitable_customers,
    value_versus_cost,
)
from patron.analytics.summary import customer_summary
from patron.analytics.tiers import TIER_CODES, value_tiers

Loader = Callable[[pd.DataFrame], ibis.Table]
SETTINGS = ProfitSettings(
    default_margin_rate=0.25,
    per_order=1.50,
    per_service_contact=8.00,
    per_message=0.05,
    per_account_per_year=12.00,
    acquisition=20.00,
)


def test_cost_to_serve_by_hand() -> None:
    # given three customers
    summary = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "orders": [4, 1, 2],
            "revenue": [200.0, 30.0, 50.0],
            "margin": [60.0, np.nan, np.nan],  # a: all costs known
            "uncosted_revenue": [0.0, 30.0, 50.0],
            "tenure_days": [364, 29, 100],
            "first_purchase": pd.to_datetime(["2023-01-01", "2023-12-02", "2023-09-22"]),
        }
    )
    contacts = pd.DataFrame(
        {"customer_id": ["a", "b"], "service_contacts": [1, 3], "messages": [20, 7]}
    )
    # when
    out = customer_profit(
        summary, settings=SETTINGS, contacts=contacts, acquired_since=dt.date(2023, 6, 1)
    ).set_index("customer_id")
    # then
    assert list(out.reset_index().columns) == list(PROFIT_COLUMNS)
    a, b, c = out.loc["a"], out.loc["b"], out.loc["c"]
    assert a["margin"] == 60.0 and b["margin"] == 7.5 and c["margin"] == 12.5
    assert (a["order_cost"], a["contact_cost"], a["message_cost"]) == (6.0, 8.0, 1.0)
    assert a["account_cost"] == 12.0 and a["acquisition_cost"] == 0.0  # won before June
    assert a["cost_to_serve"] == 27.0 and a["profit"] == 33.0 and not a["unprofitable"]
    # b: 1.50 + 24.00 + 0.35 + 12 * 30/365 (0.99) + 20 acquisition = 46.84
    assert b["account_cost"] == 0.99 and b["cost_to_serve"] == 46.84
    assert b["profit"] == -39.34 and b["unprofitable"]
    assert c["contact_cost"] == 0.0 and c["message_cost"] == 0.0  # no contacts row
    losers = unprofitable_customers(out.reset_index())
    assert losers["customer_id"].tolist() == ["b", "c"]  # c: 12.5 - 26.32


def test_unknown_margin_without_a_default_rate() -> None:
    summary = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "orders": [1, 1],
            "revenue": [10.0, 0.0],
            "margin": [np.nan, np.nan],
            "uncosted_revenue": [10.0, 0.0],
            "tenure_days": [0, 0],
            "first_purchase": pd.to_datetime(["2024-01-01", "2024-01-01"]),
        }
    )
    out = customer_profit(summary).set_index("customer_id")
    assert np.isnan(out.loc["a", "margin"]) and np.isnan(out.loc["a", "profit"])
    assert not out.loc["a", "unprofitable"]
    assert out.loc["b", "margin"] == 0.0  # nothing to estimate


def test_bad_settings_are_rejected() -> None:
    with pytest.raises(ValueError, match="per_order"):
        ProfitSettings(per_order=-1)
    with pytest.raises(ValueError, match="default_margin_rate"):
        ProfitSettings(default_margin_rate=1.5)


@pytest.fixture(scope="module")
def rich_profit(cdnow_rich: pd.DataFrame, duck: Loader) -> tuple[pd.DataFrame, pd.DataFrame]:
    summary = customer_summary(duck(cdnow_rich), as_of=dt.date(1998, 6, 30))
    return summary.execute(), customer_profit(
        summary, settings=SETTINGS, acquired_since=dt.date(1997, 3, 1)
    )


def test_cdnow_profit_matches_reference(
    cdnow_rich: pd.DataFrame,
    summary_reference: Callable[[pd.DataFrame, dt.date], pd.DataFrame],
    rich_profit: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    # given the pandas reference summary of CDNOW with costs and returns
    ref = summary_reference(cdnow_rich, dt.date(1998, 6, 30))
    _, ours = rich_profit
    # when an analyst adds it up in cents
    uncosted = np.round(ref["uncosted_revenue"] * 100)
    margin = np.round(ref["margin"].fillna(0) * 100) + np.floor(uncosted * 0.25 + 0.5)
    days = ref["tenure_days"].fillna(-1) + 1
    first = pd.to_datetime(ref["first_purchase"])
    cost = (
        ref["orders"] * 150
        + np.floor(1200 * days / 365 + 0.5)
        + np.where(first >= pd.Timestamp("1997-03-01"), 2000, 0)
    )
    # then
    assert ours["customer_id"].tolist() == ref["customer_id"].tolist()
    np.testing.assert_array_equal(ours["margin"], margin / 100)
    np.testing.assert_array_equal(ours["cost_to_serve"], cost / 100)
    np.testing.assert_array_equal(ours["profit"], (margin - cost) / 100)
    np.testing.assert_array_equal(ours["unprofitable"], margin < cost)
    assert ours["unprofitable"].mean() > 0.1  # many small CDNOW buyers cost more than they bring


def test_profit_by_tier_and_value_versus_cost(
    rich_profit: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    # given
    _, profit = rich_profit
    tiers = value_tiers(profit)
    # when
    table = profit_by_tier(profit, tiers)
    vvc = value_versus_cost(profit, tiers)
    # then: the same sums as a pandas groupby
    merged = profit.merge(tiers[["customer_id", "tier"]], on="customer_id")
    grouped = merged.groupby("tier").agg(
        customers=("customer_id", "size"),
        profit=("profit", lambda s: np.round(s * 100).sum() / 100),
        unprofitable=("unprofitable", "sum"),
    )
    assert table["level"].tolist() == list(TIER_CODES)
    indexed = table.set_index("level")
    for code in TIER_CODES:
        assert indexed.loc[code, "customers"] == grouped.loc[code, "customers"]
        assert indexed.loc[code, "profit"] == grouped.loc[code, "profit"]
        assert indexed.loc[code, "unprofitable"] == grouped.loc[code, "unprofitable"]
    assert table["profit_share"].sum() == pytest.approx(1.0)
    assert (
        indexed.loc["very_low", "unprofitable"] > 0
        and indexed.loc["very_high", "unprofitable"] == 0
    )
    assert (vvc["profit"].to_numpy() == np.round(table["profit"] / table["customers"], 2)).all()
    assert (
        vvc.set_index("level").loc["very_low", "cost_to_margin"]
        > vvc.set_index("level").loc["very_high", "cost_to_margin"]
    )


def test_profit_by_levels_groups_several_ways_at_once(
    rich_profit: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    # given CDNOW's profit, its tiers (aligned row by row) and a second, made-up grouping
    _, profit = rich_profit
    tiers = value_tiers(profit).set_index("customer_id").loc[profit["customer_id"], "tier"]
    halves = np.where(np.arange(len(profit)) % 2 == 0, "even", "odd")
    halves[:3] = "elsewhere"  # a code outside the order is left out of every level
    # when
    tables = profit_by_levels(
        profit,
        {"tier": (tiers.to_numpy(), TIER_CODES), "half": (halves, ("even", "odd"))},
    )
    # then each table is what pandas sums for that grouping, in cents
    for name, codes, order in (
        ("tier", tiers.to_numpy(), TIER_CODES),
        ("half", halves, ("even", "odd")),
    ):
        frame = profit.assign(level=codes)
        grouped = frame.groupby("level").agg(
            customers=("customer_id", "size"),
            revenue=("revenue", lambda s: np.round(s * 100).sum() / 100),
            margin=("margin", lambda s: np.round(s.dropna() * 100).sum() / 100),
            margin_unknown=("margin", lambda s: int(s.isna().sum())),
            profit=("profit", lambda s: np.round(s.dropna() * 100).sum() / 100),
            unprofitable=("unprofitable", "sum"),
        )
        table = tables[name].set_index("level")
        assert table.index.tolist() == list(order)
        for code in order:
            for column in (
                "customers",
                "revenue",
                "margin",
                "margin_unknown",
                "profit",
                "unprofitable",
            ):
                assert table.loc[code, column] == grouped.loc[code, column], (name, code, column)
    assert tables["half"]["customers"].sum() == len(profit) - 3
    # and the tier table is profit_by_tier's
    pd.testing.assert_frame_equal(tables["tier"], profit_by_tier(profit, value_tiers(profit)))
