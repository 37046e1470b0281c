"""Predictive value on simulated BG/NBD customers: parameters, P(alive), CLV, risk."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from patron.analytics.clv import BGNBD, GammaGamma
from patron.analytics.clv.simulate import simulate_bgnbd, simulate_gammagamma
from patron.analytics.predictive import (
    PREDICTION_COLUMNS,
    PredictionError,
    PredictiveSettings,
    predict_value,
)

TRUTH = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}
SPEND = {"p": 6.0, "q": 4.0, "v": 15.0}
AS_OF = dt.date(2025, 1, 1)


def _customers(n: int, seed: int) -> dict:
    """Simulated histories as the summary inputs: days, first and last purchase dates."""
    rng = np.random.default_rng(seed)
    weeks = rng.integers(20, 80, size=n).astype(np.float64)
    x, tx, big_t = simulate_bgnbd(weeks, **TRUTH, seed=rng)
    end = np.datetime64(AS_OF, "D")
    age_days = (big_t * 7).astype(np.int64)
    first = end - age_days.astype("timedelta64[D]")
    last = first + np.rint(tx * 7).astype(np.int64).astype("timedelta64[D]")
    monetary = np.zeros(n)
    repeat = x > 0
    monetary[repeat] = simulate_gammagamma(x[repeat].astype(np.int64), **SPEND, seed=rng)
    return {
        "purchase_days": (x + 1).astype(np.int64),
        "first": first,
        "last": last,
        "monetary": monetary,
        # what the model sees, in weeks
        "x": x,
        "tx": (last - first).astype(np.int64) / 7.0,
        "T": (end - first).astype(np.int64) / 7.0,
    }


@pytest.mark.parametrize("seed", [1, 2])
def test_recovers_the_simulated_parameters_and_agrees_with_bgnbd(seed: int) -> None:
    data = _customers(20_000, seed)

    result = predict_value(
        data["purchase_days"], data["first"], data["last"], AS_OF, data["monetary"]
    )

    fitted = result.params["bgnbd"]
    for key, true in TRUTH.items():
        assert fitted[key] == pytest.approx(true, rel=0.15), key
    gg = result.params["gammagamma"]
    assert result.params["clv_basis"] == "gammagamma"
    assert gg["p"] == pytest.approx(SPEND["p"], rel=0.25)
    # the same P(alive) and expected purchases as the model fitted on the same inputs
    direct = BGNBD().fit(data["x"], data["tx"], data["T"])
    frame = result.customers
    assert list(frame.columns) == list(PREDICTION_COLUMNS)
    np.testing.assert_allclose(
        frame["p_alive"], direct.p_alive(data["x"], data["tx"], data["T"]), atol=1e-6
    )
    np.testing.assert_allclose(
        frame["expected_purchases"],
        direct.expected_purchases(90 / 7, data["x"], data["tx"], data["T"]),
        rtol=1e-5,
        atol=1e-8,
    )
    # CLV is GammaGamma.clv with the same models
    model = GammaGamma.from_params(**gg)
    repeat = data["x"] > 0
    clv = model.clv(
        BGNBD.from_params(**fitted),
        data["x"],
        data["tx"],
        data["T"],
        np.where(repeat, data["monetary"], 0.0),
        months=12,
        discount_rate=0.01,
        time_unit="weeks",
    )
    np.testing.assert_allclose(frame["clv"], clv, rtol=1e-8)
    # never NaN, one-time buyers included
    assert not frame.isna().any().any()
    assert ((frame["p_alive"] >= 0) & (frame["p_alive"] <= 1)).all()
    assert (frame["clv"] >= 0).all() and (frame.loc[~repeat, "clv"] > 0).all()
    assert set(frame["risk_level"]) <= {"high", "medium", "low"}


def test_margin_scales_clv_and_risk_reasons_are_in_both_languages() -> None:
    data = _customers(3_000, 5)
    args = (data["purchase_days"], data["first"], data["last"], AS_OF, data["monetary"])

    full = predict_value(*args)
    half = predict_value(*args, settings=PredictiveSettings(margin_rate=0.5))

    np.testing.assert_allclose(half.customers["clv"], 0.5 * full.customers["clv"], rtol=1e-9)
    high = full.customers[full.customers["risk_level"] == "high"]
    assert len(high) and (high["risk_reasons_en"] != "").all()
    assert high["risk_reasons_zh"].str.contains("购买模型|未购买").all()


def test_mean_spend_fallback_when_the_spend_model_cannot_fit() -> None:
    # two repeat customers only: no Gamma-Gamma, CLV from mean spend
    days = np.array([3, 1, 2, 1, 1])
    first = np.array(["2024-01-01", "2024-03-01", "2024-02-01", "2024-06-01", "2024-09-01"])
    last = np.array(["2024-08-01", "2024-03-01", "2024-05-01", "2024-06-01", "2024-09-01"])
    money = np.array([40.0, 0.0, 10.0, 0.0, 0.0])

    result = predict_value(days, first, last, "2024-12-31", money)

    assert result.params["clv_basis"] == "mean_spend"
    assert "fewer than" in result.params["gammagamma_skipped"]
    frame = result.customers
    assert not frame.isna().any().any() and (frame["clv"] > 0).all()
    assert frame.loc[0, "clv"] > frame.loc[2, "clv"]  # spends more, buys more


def test_no_repeat_purchase_is_a_clear_error() -> None:
    with pytest.raises(PredictionError, match="repeat purchase"):
        predict_value(
            [1, 1],
            ["2024-01-01", "2024-02-01"],
            ["2024-01-01", "2024-02-01"],
            "2024-03-01",
            [0.0, 0.0],
        )


def test_inputs_are_checked() -> None:
    with pytest.raises(ValueError, match="first <= last <= as_of"):
        predict_value([2], ["2024-02-01"], ["2024-01-01"], "2024-03-01", [5.0])


def test_a_zero_value_repeat_purchase_leaves_the_spend_fit_not_the_purchase_model() -> None:
    # given simulated customers, and some whose repeat purchases were all worth nothing
    data = _customers(3_000, 9)
    zero = np.flatnonzero(data["x"] > 0)[:5]
    money = data["monetary"].copy()
    money[zero] = 0.0

    # when the value is predicted
    result = predict_value(data["purchase_days"], data["first"], data["last"], AS_OF, money)

    # then the spend model is fitted on the others (lifetimes' advice), not skipped
    assert result.params["gammagamma_skipped"] is None
    assert result.params["clv_basis"] == "gammagamma"
    others = (data["x"] > 0) & (money > 0)
    direct = GammaGamma().fit(data["x"][others], money[others])
    for key, value in direct.params_.items():
        assert result.params["gammagamma"][key] == pytest.approx(value, rel=1e-6), key
    # the zero-spend customers keep their own purchase history in the purchase model and get
    # the population's expected spend: CLV = margin x E[M | x=0] x discounted purchases
    frame = result.customers
    model = BGNBD.from_params(**result.params["bgnbd"])
    x, tx, big_t = data["x"][zero], data["tx"][zero], data["T"][zero]
    factor = 30.4375 / 7
    months = np.arange(0, 13) * factor
    cumulative = np.stack([model.expected_purchases(t, x, tx, big_t) for t in months])
    discounted = (np.diff(cumulative, axis=0) / 1.01 ** np.arange(1, 13)[:, None]).sum(axis=0)
    population = direct.expected_spend(0, 0.0)
    np.testing.assert_allclose(frame.loc[zero, "clv"], population * discounted, rtol=1e-6)
    assert (frame.loc[zero, "clv"] > 0).all()
    # and the value at risk is (1 - P(alive)) x CLV / P(alive)
    p = frame["p_alive"].to_numpy()
    np.testing.assert_allclose(
        frame["value_at_risk"], frame["clv"] * (1 - p) / np.maximum(p, 0.01), rtol=1e-9
    )


@pytest.mark.parametrize("name", ["mbgnbd", "paretonbd"])
def test_one_order_customers_can_have_left_under_mbgnbd_and_pareto(name: str) -> None:
    data = _customers(3_000, 4)

    result = predict_value(
        data["purchase_days"],
        data["first"],
        data["last"],
        AS_OF,
        data["monetary"],
        purchase_model=name,
    )

    one = data["x"] == 0
    p = result.customers["p_alive"].to_numpy()
    assert result.params["purchase_model"] == name and name in result.params
    assert (p[one] < 1.0).all()
    # the longer a one-order customer has been silent, the less likely alive
    order = np.argsort(data["T"][one])
    assert np.all(np.diff(p[one][order]) <= 1e-12)
