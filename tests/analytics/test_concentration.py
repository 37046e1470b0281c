"""Concentration: reference on CDNOW, negative profits, invariants."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patron.analytics.concentration import (
    concentration_report,
    customers_for_share,
    gini,
    lorenz_curve,
    top_share,
)
from patron.analytics.tiers import tier_summary, value_tiers


def reference_gini(values: np.ndarray) -> float:
    """The rank form: sum((2i - n - 1) x_i) / (n sum x), x ascending, i from 1."""
    x = np.sort(values.astype(np.float64))
    n = len(x)
    i = np.arange(1, n + 1)
    return float(((2 * i - n - 1) * x).sum() / (n * x.sum()))


def test_cdnow_revenue_concentration_matches_reference(cdnow_reference: pd.DataFrame) -> None:
    # when
    report = concentration_report(cdnow_reference, profit=None)
    # then
    cents = np.round(cdnow_reference["revenue"].to_numpy() * 100).astype(np.int64)
    desc = np.sort(cents)[::-1]
    total = int(cents.sum())
    n = len(cents)
    assert report.customers == n == 23_570
    assert report.total_revenue == total / 100
    for row in report.top.itertuples():
        k = -(-n * round(row.top_share * 100) // 100)
        assert row.customers == k
        assert row.revenue == int(desc[:k].sum()) / 100
        assert row.revenue_share == int(desc[:k].sum()) / total
    # the top 1% here is the very-high tier of the pyramid
    very_high = tier_summary(value_tiers(cdnow_reference)).loc[0]
    assert report.top.loc[0, "revenue"] == very_high["value"]
    # smallest share of customers giving 80%: first k with 5 * cumsum >= 4 * total
    k80 = int(np.argmax(5 * np.cumsum(desc) >= 4 * total)) + 1
    assert report.customers_for_target_revenue == k80 / n
    assert report.gini_revenue == pytest.approx(reference_gini(cents), rel=1e-12)
    assert 0.5 < report.gini_revenue < 0.8  # CDNOW is very concentrated
    assert math.isnan(report.gini_profit) and math.isnan(report.customers_for_target_profit)
    assert report.statement()["en"] == f"{k80 / n:.1%} of customers give 80% of revenue"
    assert report.statement()["zh-hans"] == f"{k80 / n:.1%}的客户贡献了80%的收入"


def test_lorenz_curve_on_cdnow(cdnow_reference: pd.DataFrame) -> None:
    cents = np.round(cdnow_reference["revenue"].to_numpy() * 100).astype(np.int64)
    x, y = lorenz_curve(cdnow_reference["revenue"])
    cumulative = np.concatenate(([0], np.cumsum(np.sort(cents))))
    np.testing.assert_array_equal(y, cumulative / cumulative[-1])
    np.testing.assert_array_equal(x, np.arange(len(cents) + 1) / len(cents))
    gx, gy = lorenz_curve(cdnow_reference["revenue"], points=100)
    assert len(gx) == 101 and gy[0] == 0 and gy[-1] == pytest.approx(1.0)
    assert gy[50] == pytest.approx(np.interp(0.5, x, y))


def test_negative_profits_whale_curve() -> None:
    # given two big earners and a long tail of loss-making customers
    profit = np.array([500.0, 300.0] + [-10.0] * 30 + [1.0] * 8)
    frame = pd.DataFrame(
        {
            "customer_id": [f"c{i:02d}" for i in range(40)],
            "revenue": np.abs(profit) + 5,
            "profit": profit,
        }
    )
    # when
    report = concentration_report(frame)
    # then shares are of the net total (508), so the top 5% (2 customers) give > 100%
    assert report.total_profit == 508.0
    top5 = report.top.set_index("top_share").loc[0.05]
    assert top5["customers"] == 2 and top5["profit_share"] == 800 / 508
    assert report.customers_for_target_profit == 1 / 40  # 500 >= 0.8 * 508
    assert report.loss_making_customers == 30
    # Gini clips losses to zero: same as the clipped values
    assert report.gini_profit == gini(np.clip(profit, 0, None))
    assert 0 <= report.gini_profit <= 1
    assert report.statement()["en"] == "2.5% of customers give 80% of profit"
    # a net loss overall leaves the shares undefined
    assert math.isnan(top_share([-5, 1], 0.5)) and math.isnan(customers_for_share([-5, 1]))


def test_degenerate_inputs() -> None:
    assert gini([]) == 0.0 and gini([0, 0]) == 0.0 and gini([7]) == 0.0
    x, y = lorenz_curve([0, 0, 0])
    np.testing.assert_array_equal(x, y)  # no value at all: the line of equality
    with pytest.raises(ValueError, match="finite"):
        gini([1, np.nan])
    with pytest.raises(ValueError, match="between 0 and 1"):
        top_share([1, 2], 1.5)


money = st.integers(-100_000, 1_000_000).map(lambda c: c / 100)


@settings(max_examples=200, deadline=None)
@given(st.lists(money, min_size=1, max_size=100))
def test_invariants(values: list[float]) -> None:
    g = gini(values)
    assert 0.0 <= g <= 1.0
    x, y = lorenz_curve(values)
    assert x[0] == 0 and y[0] == 0 and x[-1] == 1 and y[-1] == pytest.approx(1.0)
    assert np.all(np.diff(x) > 0) and np.all(np.diff(y) >= 0)
    assert np.all(y <= x + 1e-12)  # the Lorenz curve lies under the diagonal
    clipped = np.clip(values, 0, None)
    if clipped.sum() > 0:
        assert g == pytest.approx(reference_gini(np.round(clipped * 100)), abs=1e-12)
    shares = [top_share(values, s) for s in (0.01, 0.2, 0.5, 1.0)]
    if sum(values) > 0:
        assert shares[-1] == pytest.approx(1.0)
        if min(values) >= 0:  # without losses, more customers never give less
            assert np.all(np.diff(shares) >= 0)
        share80 = customers_for_share(values, 0.8)
        assert 0 < share80 <= 1
