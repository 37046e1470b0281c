"""Churn risk: rules by hand, invariants, and a simulation with known dropouts."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patron.analytics.churn import ChurnRules, churn_risk
from patron.analytics.clv import BGNBD


def test_each_rule_fires_with_its_reason_in_both_languages() -> None:
    out = churn_risk(
        [0.95, 0.95, 0.95, 0.95, 0.95],
        recency_days=[100, 10, 10, 10, 10],
        mean_interval_days=[20, 20, 20, 20, 20],
        orders=[4, 4, 4, 4, 4],
        recent_spend=[100, 20, 100, 100, 100],
        previous_spend=[100, 100, 100, 100, 100],
        open_complaints=[0, 0, 2, 0, 0],
        satisfaction=[5, 5, 5, 1, np.nan],
    )
    assert list(out["reasons"]) == [
        "silent",
        "spend_falling",
        "open_complaint",
        "low_satisfaction",
        "",
    ]
    assert "5.0× the usual 20-day gap" in out.loc[0, "reasons_en"]
    assert "下降了80%" in out.loc[1, "reasons_zh"]
    # noisy-or by hand: 1 - 0.95 * (1 - 0.5)
    assert out.loc[0, "risk_score"] == pytest.approx(1 - 0.95 * 0.5)
    assert out.loc[4, "risk_score"] == pytest.approx(0.05) and out.loc[4, "level"] == "low"


def test_single_order_customers_have_no_interval_rule() -> None:
    out = churn_risk([0.5], recency_days=[300], mean_interval_days=[np.nan], orders=[1])
    assert out.loc[0, "reasons"] == "likely_gone"


def test_bad_inputs_are_named() -> None:
    with pytest.raises(ValueError, match="p_alive"):
        churn_risk([1.2], recency_days=[1], mean_interval_days=[1], orders=[1])
    with pytest.raises(ValueError, match="recency_days"):
        churn_risk([0.5, 0.5], recency_days=[1], mean_interval_days=[1, 1], orders=[1, 1])
    with pytest.raises(ValueError, match="medium"):
        ChurnRules(high=0.3, medium=0.5)


@settings(max_examples=200, deadline=None)
@given(
    p=st.floats(0, 1),
    recency=st.floats(0, 1000),
    interval=st.floats(1, 200),
    complaints=st.integers(0, 3),
    satisfaction=st.floats(1, 5),
)
def test_a_reason_never_lowers_the_risk(
    p: float, recency: float, interval: float, complaints: int, satisfaction: float
) -> None:
    base = churn_risk([p], recency_days=[0], mean_interval_days=[interval], orders=[3])
    more = churn_risk(
        [p],
        recency_days=[recency],
        mean_interval_days=[interval],
        orders=[3],
        open_complaints=[complaints],
        satisfaction=[satisfaction],
    )
    assert 0 <= base.loc[0, "risk_score"] <= more.loc[0, "risk_score"] <= 1


def test_high_risk_customers_are_mostly_gone_in_a_simulation() -> None:
    # given BG/NBD customers whose dropout is known
    rng = np.random.default_rng(5)
    n, horizon = 20_000, 365.0
    lam = rng.gamma(0.8, 1 / 30.0, n)
    p = rng.beta(0.9, 3.0, n)
    first = rng.uniform(0, 200, n)
    alive_end = np.ones(n, bool)
    x = np.zeros(n)
    last = np.zeros(n)
    for i in range(n):  # a small event loop is fine in a test and keeps the truth obvious
        t = first[i]
        while True:
            t += rng.exponential(1 / lam[i])
            if t > horizon:
                break
            x[i] += 1
            last[i] = t - first[i]
            if rng.random() < p[i]:
                alive_end[i] = False
                break
    T = horizon - first
    model = BGNBD().fit(x, last, T)
    interval = np.where(x > 0, last / np.maximum(x, 1), np.nan)
    # when
    out = churn_risk(
        model.p_alive(x, last, T), recency_days=T - last, mean_interval_days=interval, orders=x + 1
    )
    # then the high level is far more often truly gone than the low level
    gone = ~alive_end
    high = out["level"].to_numpy() == "high"
    low = out["level"].to_numpy() == "low"
    assert high.sum() > 500 and low.sum() > 500
    assert gone[high].mean() > 0.8
    assert gone[high].mean() > 2 * gone[low].mean()
