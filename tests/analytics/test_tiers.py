"""Value pyramid and profit groups: reference on CDNOW, thresholds, invariants."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patron.analytics.tiers import (
    PROFIT_GROUP_CODES,
    TIER_CODES,
    TIERS,
    TierCuts,
    profit_groups,
    tier,
    tier_summary,
    value_basis,
    value_tiers,
)


def test_default_pyramid_on_cdnow_matches_reference(cdnow_reference: pd.DataFrame) -> None:
    # when
    ours = value_tiers(cdnow_reference)
    # then: an analyst's version: sort, then cut at the top 1/5/20/50 % (rounded up)
    ranked = cdnow_reference.sort_values(
        ["revenue", "customer_id"], ascending=[False, True], kind="mergesort"
    ).reset_index(drop=True)
    n = len(ranked)
    ends = [-(-n * pct // 100) for pct in (1, 5, 20, 50, 100)]  # ceil in integers
    assert ends == [236, 1179, 4714, 11785, 23570]
    position = np.arange(n)
    expected = np.select([position < e for e in ends], list(TIER_CODES), default="?")
    assert ours["customer_id"].tolist() == ranked["customer_id"].tolist()
    np.testing.assert_array_equal(ours["tier"], expected)
    np.testing.assert_array_equal(ours["value"], ranked["revenue"])
    assert ours["rank"].tolist() == list(range(1, n + 1))


def test_tier_summary_on_cdnow(cdnow_reference: pd.DataFrame) -> None:
    # given
    tiers = value_tiers(cdnow_reference)
    # when
    summary = tier_summary(tiers)
    # then
    assert summary["tier"].tolist() == list(TIER_CODES)
    assert summary["customers"].tolist() == [236, 943, 3535, 7071, 11785]
    cents = np.round(cdnow_reference["revenue"] * 100).astype(np.int64)
    assert round(summary["value"].sum() * 100) == cents.sum()
    assert summary["value_share"].sum() == pytest.approx(1.0, abs=1e-12)
    ranked = np.sort(cents.to_numpy())[::-1]
    assert summary.loc[0, "value"] == ranked[:236].sum() / 100
    assert summary["label_zh"].tolist() == ["很高", "高", "适度", "低", "很低"]


def test_threshold_cuts_match_pandas_cut(cdnow_reference: pd.DataFrame) -> None:
    # given
    cuts = TierCuts.by_thresholds(very_high=1000, high=300, moderate=100, low=30)
    # when
    ours = value_tiers(cdnow_reference, cuts=cuts).sort_values("customer_id")
    # then
    ref = cdnow_reference.sort_values("customer_id")
    expected = pd.cut(
        ref["revenue"],
        [-np.inf, 30, 100, 300, 1000, np.inf],
        right=False,
        labels=list(reversed(TIER_CODES)),
    ).astype(str)
    np.testing.assert_array_equal(ours["tier"], expected)


def test_basis_is_profit_when_known_else_revenue() -> None:
    frame = pd.DataFrame({"customer_id": ["a", "b"], "revenue": [1.0, 2.0], "profit": [5.0, 1.0]})
    assert value_basis(frame) == "profit"
    assert value_tiers(frame)["customer_id"].tolist() == ["a", "b"]
    frame.loc[1, "profit"] = np.nan
    assert value_basis(frame) == "revenue"
    assert value_tiers(frame)["customer_id"].tolist() == ["b", "a"]
    with pytest.raises(ValueError, match="no value column"):
        value_basis(frame[["customer_id"]])


def test_profit_groups_by_hand() -> None:
    # given ten profitable customers, two at zero and two losing money
    profit = [100, 90, 80, 70, 60, 50, 40, 30, 20, 10, 0, 0, -5, -50]
    frame = pd.DataFrame({"customer_id": [f"c{i:02d}" for i in range(14)], "profit": profit})
    # when
    out = profit_groups(frame).set_index("customer_id")["group"]
    # then: top 20% of the 10 profitable = 2 high, next 30% = 3 medium, 5 low, 4 no profit
    assert out.value_counts().to_dict() == {"low": 5, "no_profit": 4, "medium": 3, "high": 2}
    assert out["c01"] == "high" and out["c02"] == "medium" and out["c10"] == "no_profit"
    by_value = profit_groups(frame, thresholds=(75, 25)).set_index("customer_id")["group"]
    assert by_value.value_counts().to_dict() == {"medium": 5, "no_profit": 4, "high": 3, "low": 2}
    assert tier_summary(profit_groups(frame), column="group")["group"].tolist() == list(
        PROFIT_GROUP_CODES
    )


def test_bad_cuts_are_rejected() -> None:
    with pytest.raises(ValueError, match="adding up to 1"):
        TierCuts.by_shares(0.1, 0.1, 0.1, 0.1, 0.1)
    with pytest.raises(ValueError, match="strictly decreasing"):
        TierCuts.by_thresholds(very_high=10, high=20, moderate=5, low=1)
    with pytest.raises(ValueError, match="exactly one"):
        TierCuts()
    with pytest.raises(ValueError, match="missing values"):
        value_tiers(pd.DataFrame({"customer_id": ["a"], "revenue": [np.nan]}))


def test_labels() -> None:
    assert [t.label["zh-hans"] for t in TIERS] == ["很高", "高", "适度", "低", "很低"]
    assert tier("very_low").group_label == {"en": "the very-low tier", "zh-hans": "很低层级"}


shares = st.lists(st.integers(0, 100), min_size=5, max_size=5).filter(lambda x: sum(x) > 0)


@settings(max_examples=150, deadline=None)
@given(
    values=st.lists(st.integers(-1000, 1000).map(lambda c: c / 10), min_size=1, max_size=80),
    weights=shares,
)
def test_pyramid_invariants(values: list[float], weights: list[int]) -> None:
    # given any values and any shares (as exact hundredths)
    total = sum(weights)
    share_values = [w / total for w in weights]
    share_values[-1] = max(0.0, 1 - sum(share_values[:-1]))
    ids = [f"id{i:03d}" for i in range(len(values))][::-1]
    frame = pd.DataFrame({"customer_id": ids, "revenue": values})
    # when
    out = value_tiers(frame, cuts=TierCuts(shares=tuple(share_values)))  # type: ignore[arg-type]
    # then: every customer once, tiers in pyramid order, a better value never in a lower tier
    n = len(values)
    assert sorted(out["customer_id"]) == sorted(ids)
    level = out["tier"].map({c: i for i, c in enumerate(TIER_CODES)}).to_numpy()
    assert np.all(np.diff(level) >= 0)
    assert np.all(np.diff(out["value"].to_numpy()) <= 0)
    cumulative = np.cumsum(share_values)
    counts = np.bincount(level, minlength=5)
    ends = [min(n, math.ceil(round(c * n, 9))) for c in cumulative]
    assert np.cumsum(counts).tolist()[:4] == ends[:4]
    for v in set(values):
        tied = out.loc[out["value"] == v, "customer_id"].tolist()
        assert tied == sorted(tied)  # ties ordered by customer id
