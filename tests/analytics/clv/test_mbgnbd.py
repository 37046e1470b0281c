"""MBG/NBD: agreement with lifetimes' ModifiedBetaGeoFitter, invariants, recovery."""

from __future__ import annotations

import numpy as np
import pytest
from clv_support import lifetimes_total_loglik, numeric_gradient, quiet
from hypothesis import given, settings
from hypothesis import strategies as st

from patron.analytics.clv import MBGNBD
from patron.analytics.clv.bgnbd import prepare_rft
from patron.analytics.clv.simulate import simulate_mbgnbd

NAMES = ("r", "alpha", "a", "b")


@pytest.fixture(scope="module")
def peer(cdnow_rft):
    with quiet():
        from lifetimes import ModifiedBetaGeoFitter

        return ModifiedBetaGeoFitter().fit(*cdnow_rft)


@pytest.fixture(scope="module")
def ours(cdnow_rft) -> MBGNBD:
    return MBGNBD().fit(*cdnow_rft)


def test_params_loglik_and_standard_errors_match_lifetimes(ours: MBGNBD, peer, cdnow_rft) -> None:
    # lifetimes on CDNOW: r=0.5248, alpha=6.1830, a=0.8914, b=1.6140
    assert [round(ours.params_[k], 4) for k in NAMES] == [0.5248, 6.1830, 0.8914, 1.6140]
    for k in NAMES:
        assert ours.params_[k] == pytest.approx(peer.params_[k], rel=1e-5)
        assert ours.standard_errors_[k] == pytest.approx(peer.standard_errors_[k], rel=1e-3)
    assert ours.log_likelihood_ == pytest.approx(
        lifetimes_total_loglik(peer, cdnow_rft[0], cdnow_rft[2]), abs=1e-6
    )
    assert ours.log_likelihood_ == pytest.approx(float(ours.loglik(*cdnow_rft).sum()), rel=1e-12)


def test_predictions_match_lifetimes_at_the_same_parameters(peer, cdnow_rft) -> None:
    x, tx, big_t = cdnow_rft
    m = MBGNBD.from_params(**{k: float(peer.params_[k]) for k in NAMES})
    with quiet():
        expected = [
            peer.conditional_expected_number_of_purchases_up_to_time(t, x, tx, big_t)
            for t in (1.0, 10.0, 39.0)
        ]
        p_alive = peer.conditional_probability_alive(x, tx, big_t)
        e_new = peer.expected_number_of_purchases_up_to_time(np.array([1.0, 10.0, 39.0]))
        pmf = [peer.probability_of_n_purchases_up_to_time(39.0, n) for n in range(8)]
    for t, e in zip((1.0, 10.0, 39.0), expected, strict=True):
        assert m.expected_purchases(t, x, tx, big_t) == pytest.approx(e, rel=1e-9)
    assert m.p_alive(x, tx, big_t) == pytest.approx(p_alive, rel=1e-9)
    assert m.expected_purchases_new([1.0, 10.0, 39.0]) == pytest.approx(e_new, rel=1e-9)
    assert m.p_purchases(np.arange(8), 39.0) == pytest.approx(pmf, rel=1e-7)


def test_analytic_gradient_matches_finite_differences(cdnow_rft) -> None:
    x, tx, big_t = cdnow_rft
    data = prepare_rft(x, tx / 38.86, big_t / 38.86)
    model = MBGNBD()
    for theta in ([0.52, 0.16, 0.89, 1.6], [2.0, 0.01, 0.3, 0.2], [0.05, 4.0, 6.0, 9.0]):
        th = np.array(theta)
        _, grad = model._rows(th, data, True)

        def total(v: np.ndarray) -> float:
            return float(model._rows(v, data, False)[0].sum())

        assert grad.sum(axis=0) == pytest.approx(numeric_gradient(total, th), rel=1e-6)


def test_invariants(ours: MBGNBD, cdnow_rft) -> None:
    x, tx, big_t = cdnow_rft
    p = ours.p_alive(x, tx, big_t)
    assert np.all((p >= 0) & (p <= 1))
    assert np.all(p[x == 0] < 1.0)  # unlike the BG/NBD, non-repeaters may have dropped out
    e = ours.expected_purchases(10.0, x, tx, big_t)
    assert np.all(e >= 0) and np.all(ours.expected_purchases(20.0, x, tx, big_t) >= e)
    n = np.arange(20_000)
    for t in (0.0, 5.0, 39.0, 200.0):
        pmf = ours.p_purchases(n, t)
        assert pmf.sum() == pytest.approx(1.0, abs=1e-10)
        assert np.sum(n * pmf) == pytest.approx(float(ours.expected_purchases_new(t)), rel=1e-8)


@settings(max_examples=50, deadline=None)
@given(
    x=st.integers(0, 10_000),
    frac=st.floats(0.0, 1.0),
    big_t=st.floats(0.5, 500.0),
    r=st.floats(0.01, 20.0),
    alpha=st.floats(0.01, 100.0),
    a=st.floats(0.01, 5.0),
    b=st.floats(0.01, 5.0),
)
def test_extremes_stay_finite(x, frac, big_t, r, alpha, a, b) -> None:
    m = MBGNBD.from_params(r=r, alpha=alpha, a=a, b=b)
    tx = 0.0 if x == 0 else frac * big_t
    assert np.isfinite(m.loglik(x, tx, big_t))
    assert 0.0 <= m.p_alive(x, tx, big_t) <= 1.0
    e = m.expected_purchases(30.0, x, tx, big_t)
    assert np.isfinite(e) and e >= 0.0


@pytest.mark.parametrize("seed", [1, 2])
def test_recovers_simulated_parameters(seed: int) -> None:
    truth = {"r": 0.5, "alpha": 6.0, "a": 0.9, "b": 1.6}
    rng = np.random.default_rng(seed)
    x, tx, big_t = simulate_mbgnbd(rng.uniform(5, 52, 30_000), seed=rng, **truth)
    fit = MBGNBD().fit(x, tx, big_t)
    # Over 20 seeds the z-scores of r and b have a s.d. of about 1.3 (their sampling
    # distributions are skewed at this size), so 4 standard errors keeps false alarms rare.
    for k, v in truth.items():
        assert abs(fit.params_[k] - v) < 4 * fit.standard_errors_[k], (k, fit.params_)
