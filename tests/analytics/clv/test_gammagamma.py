"""Gamma-Gamma and CLV: agreement with lifetimes on CDNOW, recovery, q < 1."""

from __future__ import annotations

import numpy as np
import pytest
from clv_support import numeric_gradient, quiet

from patron.analytics.clv import BGNBD, GammaGamma, ParetoNBD
from patron.analytics.clv.gammagamma import _gg_rows
from patron.analytics.clv.simulate import simulate_gammagamma

NAMES = ("p", "q", "v")


@pytest.fixture(scope="module")
def repeaters(cdnow_rfm):
    x, _, _, m = cdnow_rfm
    return x[x > 0], m[x > 0]


@pytest.fixture(scope="module")
def peer(repeaters):
    with quiet():
        from lifetimes import GammaGammaFitter

        return GammaGammaFitter().fit(*repeaters)


@pytest.fixture(scope="module")
def ours(repeaters) -> GammaGamma:
    return GammaGamma().fit(*repeaters)


def test_fit_matches_lifetimes_and_the_published_values(ours: GammaGamma, peer, repeaters) -> None:
    # Fader & Hardie (2013) on CDNOW: p=6.25, q=3.74, v=15.44
    assert [round(ours.params_[k], 2) for k in NAMES] == [6.25, 3.74, 15.45]
    for k in NAMES:
        assert ours.params_[k] == pytest.approx(peer.params_[k], rel=1e-5)
        assert ours.standard_errors_[k] == pytest.approx(peer.standard_errors_[k], rel=1e-3)
    n = repeaters[0].shape[0]
    assert ours.log_likelihood_ == pytest.approx(-peer._negative_log_likelihood_ * n, abs=1e-6)
    assert ours.log_likelihood_ == pytest.approx(float(ours.loglik(*repeaters).sum()), rel=1e-12)


def test_expected_spend_and_clv_match_lifetimes(peer, cdnow_rfm) -> None:
    x, tx, big_t, m = cdnow_rfm
    gg = GammaGamma.from_params(**{k: float(peer.params_[k]) for k in NAMES})
    with quiet():
        import pandas as pd
        from lifetimes import BetaGeoFitter, ParetoNBDFitter

        spend = np.asarray(peer.conditional_expected_average_profit(x, m))
        bg_peer = BetaGeoFitter().fit(x, tx, big_t)
        pnbd_peer = ParetoNBDFitter().fit(x, tx, big_t, tol=1e-10)
        series = [pd.Series(v) for v in (x, tx, big_t, m)]
        clv = {
            freq: peer.customer_lifetime_value(
                model, *series, time=12, discount_rate=0.01, freq=freq
            )
            for freq, model in (("W", bg_peer), ("D", pnbd_peer))
        }
    assert gg.expected_spend(x, m) == pytest.approx(spend, rel=1e-12)
    assert gg.conditional_expected_average_profit(x, m) == pytest.approx(spend, rel=1e-12)
    bg = BGNBD.from_params(**{k: float(v) for k, v in bg_peer.params_.items()})
    pnbd = ParetoNBD.from_params(**{k: float(v) for k, v in pnbd_peer.params_.items()})
    ours_w = gg.customer_lifetime_value(bg, x, tx, big_t, m, time=12, discount_rate=0.01, freq="W")
    ours_d = gg.customer_lifetime_value(pnbd, x, tx, big_t, m, freq="D")
    assert ours_w == pytest.approx(np.asarray(clv["W"]), rel=1e-8)
    assert ours_d == pytest.approx(np.asarray(clv["D"]), rel=1e-8)


def test_clv_is_discounted_margin_over_the_horizon(ours: GammaGamma, cdnow_rfm) -> None:
    x, tx, big_t, m = cdnow_rfm
    bg = BGNBD().fit(x, tx, big_t)
    per_week = 30.4375 / 7
    undiscounted = ours.clv(bg, x, tx, big_t, m, months=6, discount_rate=0.0, time_unit="weeks")
    expected = ours.expected_spend(x, m) * bg.expected_purchases(6 * per_week, x, tx, big_t)
    assert undiscounted == pytest.approx(expected, rel=1e-10)
    half = ours.clv(bg, x, tx, big_t, m, months=6, time_unit="weeks", margin=0.5)
    full = ours.clv(bg, x, tx, big_t, m, months=6, time_unit="weeks")
    assert half == pytest.approx(full / 2, rel=1e-12)
    assert np.all(full < undiscounted + 1e-12)
    assert np.all(ours.clv(bg, x, tx, big_t, m, months=0) == 0.0)


def test_analytic_gradient_matches_finite_differences(repeaters) -> None:
    x, m = repeaters
    for theta in ([6.25, 3.74, 0.44], [0.5, 0.8, 3.0], [20.0, 30.0, 0.01]):
        th = np.array(theta)
        _, grad = _gg_rows(th, x, m / m.mean(), True)

        def total(v: np.ndarray) -> float:
            return float(_gg_rows(v, x, m / m.mean(), False)[0].sum())

        assert grad.sum(axis=0) == pytest.approx(numeric_gradient(total, th), rel=1e-6)


def test_currency_unit_changes_only_v(ours: GammaGamma, repeaters) -> None:
    x, m = repeaters
    cents = GammaGamma().fit(x, m * 100)
    assert cents.params_["v"] == pytest.approx(100 * ours.params_["v"], rel=1e-6)
    assert cents.params_["p"] == pytest.approx(ours.params_["p"], rel=1e-6)
    assert cents.log_likelihood_ == pytest.approx(
        ours.log_likelihood_ - x.size * np.log(100), rel=1e-9
    )


def test_heavy_tailed_spend_gives_infinite_not_negative_expectations() -> None:
    # lifetimes #146: with q < 1 the population mean does not exist
    gg = GammaGamma.from_params(p=0.2, q=0.5, v=10.0)
    spend = gg.expected_spend([0, 1, 3, 10], [0.0, 5.0, 5.0, 5.0])
    assert np.isinf(spend[0]) and np.isinf(spend[1])  # p x + q <= 1
    assert np.all(np.isfinite(spend[2:])) and np.all(spend[2:] > 0)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_recovers_simulated_parameters(seed: int) -> None:
    truth = {"p": 6.25, "q": 3.74, "v": 15.4}
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 15, 30_000).astype(float)
    fit = GammaGamma().fit(x, simulate_gammagamma(x, seed=rng, **truth))
    for k, v in truth.items():
        assert abs(fit.params_[k] - v) < 4 * fit.standard_errors_[k], (k, fit.params_)
