"""RFM scores: pandas reference on CDNOW, every engine, thresholds, B2B, invariants."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable

import ibis
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patron.analytics.rfm import (
    RFM_COLUMNS,
    RFMThresholds,
    add_months,
    quintile_scores,
    rfm_b2b,
    rfm_scores,
    threshold_scores,
)
from patron.analytics.summary import customer_summary

AS_OF = dt.date(1998, 6, 30)
Loader = Callable[[pd.DataFrame], ibis.Table]


def reference_quintiles(frame: pd.DataFrame, column: str, *, lower_is_better: bool) -> pd.Series:
    """Sort worst to best, ties by customer id; the p-th of n scores 1 + 5p // n."""
    ordered = frame.sort_values(
        [column, "customer_id"], ascending=[not lower_is_better, True], kind="mergesort"
    )
    n = len(ordered)
    scores = pd.Series(1 + (np.arange(n) * 5) // n, index=ordered["customer_id"].to_numpy())
    return scores.reindex(frame["customer_id"].to_numpy())


def test_quintiles_on_cdnow_match_reference(
    cdnow_reference: pd.DataFrame, cdnow_summary: pd.DataFrame
) -> None:
    # when
    ours = rfm_scores(cdnow_summary)
    # then
    ref = cdnow_reference.sort_values("customer_id").reset_index(drop=True)
    assert list(ours.columns) == list(RFM_COLUMNS)
    assert ours["customer_id"].tolist() == ref["customer_id"].tolist()
    for score, column, lower in (
        ("r_score", "recency_days", True),
        ("f_score", "orders", False),
        ("m_score", "revenue", False),
    ):
        expected = reference_quintiles(ref, column, lower_is_better=lower)
        np.testing.assert_array_equal(ours[score].to_numpy(), expected.to_numpy(), err_msg=score)
    # each score holds a fifth of the 23,570 customers
    assert ours["r_score"].value_counts().sort_index().tolist() == [4714] * 5
    cell = ours["r_score"].astype(str) + ours["f_score"].astype(str) + ours["m_score"].astype(str)
    assert (ours["rfm_cell"] == cell).all()
    assert (ours["rfm_total"] == ours["r_score"] + ours["f_score"] + ours["m_score"]).all()


def test_every_engine_gives_the_same_scores(
    engine: tuple[str, Loader], cdnow: pd.DataFrame, cdnow_summary: pd.DataFrame
) -> None:
    # given the summary as an unexecuted expression on each engine
    _, load = engine
    summary = customer_summary(load(cdnow), as_of=AS_OF)
    # when scored straight from the Ibis table
    ours = rfm_scores(summary)
    # then
    pd.testing.assert_frame_equal(ours, rfm_scores(cdnow_summary), check_exact=True)


def test_thresholds_match_pandas_cut(cdnow_summary: pd.DataFrame) -> None:
    # given
    th = RFMThresholds(
        recency=(30, 90, 180, 365), frequency=(2, 3, 5, 10), monetary=(20, 50, 100, 300)
    )
    # when
    ours = rfm_scores(cdnow_summary, method="thresholds", thresholds=th)
    # then: what pd.cut gives with the same edges
    ref = cdnow_summary.sort_values("customer_id").reset_index(drop=True)
    r = pd.cut(ref["recency_days"], [-np.inf, 30, 90, 180, 365, np.inf], labels=[5, 4, 3, 2, 1])
    f = pd.cut(ref["orders"], [-np.inf, 2, 3, 5, 10, np.inf], right=False, labels=[1, 2, 3, 4, 5])
    m = pd.cut(ref["revenue"], [-np.inf, 20, 50, 100, 300, np.inf], right=False, labels=range(1, 6))
    np.testing.assert_array_equal(ours["r_score"], r.astype(int))
    np.testing.assert_array_equal(ours["f_score"], f.astype(int))
    np.testing.assert_array_equal(ours["m_score"], m.astype(int))


def test_tie_rule_and_missing_recency() -> None:
    # given equal values and a customer with returns only (no recency)
    frame = pd.DataFrame(
        {
            "customer_id": ["e", "d", "c", "b", "a"],
            "recency_days": [10.0, 10.0, np.nan, 10.0, 10.0],
            "orders": [1, 1, 0, 1, 1],
            "revenue": [5.0, 5.0, -3.0, 5.0, 5.0],
        }
    )
    # when
    out = rfm_scores(frame).set_index("customer_id")
    # then the missing recency is worst; among equals the smaller id scores lower
    assert out["r_score"].to_dict() == {"a": 2, "b": 3, "c": 1, "d": 4, "e": 5}
    assert out["f_score"].to_dict() == {"a": 2, "b": 3, "c": 1, "d": 4, "e": 5}


def test_bad_arguments() -> None:
    frame = pd.DataFrame({"customer_id": ["a"], "recency_days": [1], "orders": [1], "revenue": [1]})
    with pytest.raises(ValueError, match="needs thresholds"):
        rfm_scores(frame, method="thresholds")
    with pytest.raises(ValueError, match="method must be"):
        rfm_scores(frame, method="deciles")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="strictly ascending"):
        RFMThresholds(recency=(1, 1, 2, 3), frequency=(1, 2, 3, 4), monetary=(1, 2, 3, 4))
    with pytest.raises(ValueError, match="missing column"):
        rfm_scores(frame.drop(columns="orders"))


@settings(max_examples=150, deadline=None)
@given(
    values=st.lists(
        st.one_of(st.integers(-50, 50).map(float), st.floats(-1e6, 1e6, allow_nan=False)),
        min_size=1,
        max_size=60,
    ),
    higher=st.booleans(),
)
def test_quintile_invariants(values: list[float], higher: bool) -> None:
    ids = [f"c{i:03d}" for i in range(len(values))]
    scores = quintile_scores(values, ids, higher_is_better=higher)
    n = len(values)
    # scores are 1..5, balanced to within one customer
    assert scores.min() >= 1 and scores.max() <= 5
    counts = np.bincount(scores, minlength=6)[1:]
    expected = [math.ceil(k * n / 5) - math.ceil((k - 1) * n / 5) for k in range(1, 6)]
    assert counts.tolist() == expected
    # a better value never scores lower
    x = np.asarray(values) if higher else -np.asarray(values)
    for i in range(n):
        assert np.all(scores[x > x[i]] >= scores[i])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(-10, 500, allow_nan=False), min_size=1, max_size=30))
def test_threshold_scores_are_monotone(values: list[float]) -> None:
    f = threshold_scores(values, [2, 3, 5, 10])
    r = threshold_scores(values, [30, 90, 180, 365], higher_is_better=False)
    order = np.argsort(values)
    assert np.all(np.diff(f[order].astype(int)) >= 0)
    assert np.all(np.diff(r[order].astype(int)) <= 0)
    assert f.min() >= 1 and f.max() <= 5 and r.min() >= 1 and r.max() <= 5


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(dt.date(2024, 3, 31), -1) == dt.date(2024, 2, 29)
    assert add_months(dt.date(2024, 1, 31), 13) == dt.date(2025, 2, 28)
    assert add_months(dt.date(1998, 6, 30), -12) == dt.date(1997, 6, 30)


def test_b2b_on_cdnow_matches_reference(cdnow: pd.DataFrame, duck: Loader) -> None:
    # when
    ours = rfm_b2b(duck(cdnow), as_of=AS_OF, half_years=2)
    # then: the reference with pandas month offsets
    as_of = pd.Timestamp(AS_OF)
    tx = cdnow.assign(order_date=pd.to_datetime(cdnow["order_date"]))
    tx["cents"] = np.round(tx["amount"] * 100).astype(np.int64)
    last = tx.loc[tx["amount"] >= 0].groupby("customer_id")["order_date"].max()
    quarters = sum((last <= as_of - pd.DateOffset(months=3 * k)).astype(int) for k in range(1, 5))
    start = as_of - pd.DateOffset(months=12)
    window = tx.loc[tx["order_date"] > start]
    orders = window.groupby("customer_id").size().reindex(last.index, fill_value=0)
    cents = window.groupby("customer_id")["cents"].sum().reindex(last.index, fill_value=0)
    ref = pd.DataFrame(
        {
            "customer_id": last.index,
            "quarters": quarters.to_numpy(),
            "orders": orders.to_numpy(),
            "revenue": cents.to_numpy() / 100,
        }
    ).sort_values("customer_id", ignore_index=True)
    np.testing.assert_array_equal(ours["customer_id"], ref["customer_id"])
    np.testing.assert_array_equal(ours["quarters_since"], ref["quarters"])
    np.testing.assert_array_equal(ours["r_score"], np.maximum(1, 5 - ref["quarters"]))
    np.testing.assert_array_equal(ours["orders"], ref["orders"])
    np.testing.assert_array_equal(ours["revenue"], ref["revenue"])
    np.testing.assert_array_equal(ours["orders_per_half_year"], ref["orders"] / 2)
    f = reference_quintiles(ref, "orders", lower_is_better=False)
    m = reference_quintiles(ref, "revenue", lower_is_better=False)
    np.testing.assert_array_equal(ours["f_score"], f.to_numpy())
    np.testing.assert_array_equal(ours["m_score"], m.to_numpy())
    # every R level occurs; quarter-of-half-year is 1 or 2
    assert sorted(ours["r_score"].unique()) == [1, 2, 3, 4, 5]
    assert set(ours["recency_quarter"]) == {1, 2}


def test_b2b_quarters_by_hand(duck: Loader) -> None:
    # given last orders in each quarter before 2024-06-30
    frame = pd.DataFrame(
        {
            "customer_id": ["q0", "q1", "q2", "q3", "old", "ret"],
            "order_date": [
                dt.date(2024, 6, 30),  # (Mar 30, Jun 30]: latest quarter
                dt.date(2024, 3, 30),  # boundary belongs to the earlier quarter
                dt.date(2023, 12, 30),
                dt.date(2023, 7, 1),
                dt.date(2023, 6, 30),  # a year or more ago
                dt.date(2024, 6, 1),  # returns only
            ],
            "amount": [100.0, 50.0, 10.0, 10.0, 999.0, -5.0],
        }
    )
    th = RFMThresholds(recency=(1, 2, 3, 4), frequency=(0.5, 1, 2, 3), monetary=(5, 20, 40, 80))
    # when
    out = rfm_b2b(duck(frame), as_of=dt.date(2024, 6, 30), method="thresholds", thresholds=th)
    out = out.set_index("customer_id")
    # then
    assert out["quarters_since"].to_dict() == {
        "old": 4, "q0": 0, "q1": 1, "q2": 2, "q3": 3, "ret": -1
    }  # fmt: skip
    assert out["recency_quarter"].to_dict() == {
        "old": 2, "q0": 2, "q1": 1, "q2": 2, "q3": 1, "ret": -1
    }  # fmt: skip
    assert out["r_score"].to_dict() == {"old": 1, "q0": 5, "q1": 4, "q2": 3, "q3": 2, "ret": 1}
    # per half-year over two half-years: q0 spent 100 -> 50 a half-year
    assert out.loc["q0", "revenue_per_half_year"] == 50.0
    assert out.loc["q0", "m_score"] == 4 and out.loc["old", "m_score"] == 1
    assert out.loc["old", "orders"] == 0 and out.loc["q0", "f_score"] == 2
