"""BG/NBD: agreement with lifetimes and the published CDNOW fit, invariants, recovery."""

from __future__ import annotations

import numpy as np
import pytest
from clv_support import lifetimes_total_loglik, numeric_gradient, quiet
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad
from scipy.special import betaln

from patron.analytics.clv import BGNBD, ConvergenceError
from patron.analytics.clv.bgnbd import bg_expectation, prepare_rft
from patron.analytics.clv.simulate import simulate_bgnbd

NAMES = ("r", "alpha", "a", "b")


@pytest.fixture(scope="module")
def peer(cdnow_rft):
    with quiet():
        from lifetimes import BetaGeoFitter

        return BetaGeoFitter().fit(*cdnow_rft)


@pytest.fixture(scope="module")
def ours(cdnow_rft) -> BGNBD:
    return BGNBD().fit(*cdnow_rft)


def test_fit_reproduces_the_published_cdnow_estimates(ours: BGNBD) -> None:
    # Fader, Hardie & Lee (2005), Section 5: r=0.243, alpha=4.414, a=0.793, b=2.426, LL=-9582.4
    assert ours.converged_
    assert [round(ours.params_[k], 4) for k in NAMES] == [0.2426, 4.4135, 0.7929, 2.4258]
    assert ours.log_likelihood_ == pytest.approx(-9582.43, abs=0.01)
    assert ours.n_ == 2357
    assert ours.n_iter_ > 0


def test_params_loglik_and_standard_errors_match_lifetimes(ours: BGNBD, peer, cdnow_rft) -> None:
    for k in NAMES:
        assert ours.params_[k] == pytest.approx(peer.params_[k], rel=1e-5)
        assert ours.standard_errors_[k] == pytest.approx(peer.standard_errors_[k], rel=1e-3)
    assert ours.log_likelihood_ == pytest.approx(
        lifetimes_total_loglik(peer, cdnow_rft[0], cdnow_rft[2]), abs=1e-6
    )
    assert ours.log_likelihood_ == pytest.approx(float(ours.loglik(*cdnow_rft).sum()), rel=1e-12)


def test_predictions_match_lifetimes_at_the_same_parameters(peer, cdnow_rft) -> None:
    x, tx, big_t = cdnow_rft
    m = BGNBD.from_params(**{k: float(peer.params_[k]) for k in NAMES})
    with quiet():
        for t in (1.0, 10.0, 39.0):
            expected = peer.conditional_expected_number_of_purchases_up_to_time(t, x, tx, big_t)
            assert m.expected_purchases(t, x, tx, big_t) == pytest.approx(expected, rel=1e-9)
        p_alive = peer.conditional_probability_alive(x, tx, big_t)
        e_new = peer.expected_number_of_purchases_up_to_time(np.array([1.0, 10.0, 39.0]))
        pmf = [peer.probability_of_n_purchases_up_to_time(39.0, n) for n in range(8)]
    assert m.p_alive(x, tx, big_t) == pytest.approx(p_alive, rel=1e-9)
    assert m.conditional_probability_alive(x, tx, big_t) == pytest.approx(p_alive, rel=1e-9)
    assert m.expected_purchases_new([1.0, 10.0, 39.0]) == pytest.approx(e_new, rel=1e-9)
    assert m.p_purchases(np.arange(8), 39.0) == pytest.approx(pmf, rel=1e-9)
    assert m.probability_of_n_purchases_up_to_time(39.0, 3) == pytest.approx(pmf[3], rel=1e-9)


def test_penalized_fit_matches_lifetimes(cdnow_rft) -> None:
    with quiet():
        from lifetimes import BetaGeoFitter

        peer = BetaGeoFitter(penalizer_coef=0.1).fit(*cdnow_rft)
    ours = BGNBD(penalizer_coef=0.1).fit(*cdnow_rft)
    for k in NAMES:
        assert ours.params_[k] == pytest.approx(peer.params_[k], rel=1e-5)


def test_analytic_gradient_matches_finite_differences(cdnow_rft) -> None:
    x, tx, big_t = cdnow_rft
    data = prepare_rft(x, tx / 38.86, big_t / 38.86)
    model = BGNBD()
    for theta in ([0.24, 0.11, 0.79, 2.4], [1.3, 0.02, 0.4, 0.3], [0.05, 3.0, 5.0, 0.8]):
        th = np.array(theta)
        _, grad = model._rows(th, data, True)

        def total(v: np.ndarray) -> float:
            return float(model._rows(v, data, False)[0].sum())

        assert grad.sum(axis=0) == pytest.approx(numeric_gradient(total, th), rel=1e-6)


def test_weights_are_equivalent_to_repeated_rows(cdnow_rft) -> None:
    x, tx, big_t = cdnow_rft
    rows = np.column_stack(cdnow_rft)
    uniq, counts = np.unique(rows, axis=0, return_counts=True)
    weighted = BGNBD().fit(uniq[:, 0], uniq[:, 1], uniq[:, 2], weights=counts)
    plain = BGNBD().fit(x, tx, big_t)
    for k in NAMES:
        assert weighted.params_[k] == pytest.approx(plain.params_[k], rel=1e-6)
    assert weighted.log_likelihood_ == pytest.approx(plain.log_likelihood_, rel=1e-10)
    assert weighted.n_ == plain.n_


def test_time_unit_changes_only_alpha_and_the_loglik_offset(cdnow_rft, ours: BGNBD) -> None:
    x, tx, big_t = cdnow_rft
    days = BGNBD().fit(x, tx * 7, big_t * 7)
    assert days.params_["alpha"] == pytest.approx(7 * ours.params_["alpha"], rel=1e-6)
    for k in ("r", "a", "b"):
        assert days.params_[k] == pytest.approx(ours.params_[k], rel=1e-6)
    # the density of purchase times carries a factor (time unit)^-x
    assert days.log_likelihood_ == pytest.approx(
        ours.log_likelihood_ - x.sum() * np.log(7), rel=1e-9
    )


def test_invariants(ours: BGNBD, cdnow_rft) -> None:
    x, tx, big_t = cdnow_rft
    p = ours.p_alive(x, tx, big_t)
    assert np.all((p >= 0) & (p <= 1))
    assert np.all(p[x == 0] == 1.0)
    e10, e20 = (
        ours.expected_purchases(10.0, x, tx, big_t),
        ours.expected_purchases(20.0, *cdnow_rft),
    )
    assert np.all(e10 >= 0) and np.all(e20 >= e10)
    assert np.all(ours.expected_purchases(0.0, x, tx, big_t) == 0.0)
    n = np.arange(20_000)
    for t in (0.0, 5.0, 39.0, 200.0):
        pmf = ours.p_purchases(n, t)
        assert pmf.sum() == pytest.approx(1.0, abs=1e-10)
        assert np.sum(n * pmf) == pytest.approx(float(ours.expected_purchases_new(t)), rel=1e-8)


def _expectation_by_quadrature(t: float, r: float, alpha: float, a: float, b: float) -> float:
    """E[X(t)] = E_p[(1 - (alpha / (alpha + p t))^r) / p], p ~ Beta(a, b): independent of 2F1."""

    def integrand(p: float) -> float:
        return (
            -np.expm1(-r * np.log1p(p * t / alpha))
            / p
            * np.exp((a - 1) * np.log(p) + (b - 1) * np.log1p(-p) - betaln(a, b))
        )

    value, _ = quad(integrand, 0, 1, epsabs=0, epsrel=1e-10, limit=400, points=[1e-6, 1e-3, 0.5])
    return value


@pytest.mark.parametrize(
    ("t", "r", "alpha", "a", "b"),
    [
        (39.0, 0.2426, 4.4135, 0.7929, 2.4258),
        (10.0, 0.3, 2.0, 0.4, 0.3),  # a + b < 1 (lifetimes #442)
        (10.0, 0.3, 2.0, 1.00000001, 0.9),  # a = 1: removable singularity
        (10.0, 0.3, 2.0, 0.6, 0.4),  # a + b = 1: removable singularity
        (5.0, 200.24, 40.0, 0.79, 202.4),  # a heavy buyer's updated parameters
        (5.0, 10000.24, 40.0, 0.79, 10002.4),
        (500.0, 0.5, 0.1, 3.0, 0.05),
    ],
)
def test_expectation_matches_an_independent_integral(t, r, alpha, a, b) -> None:
    value = float(bg_expectation(t, r, alpha, a, b))
    assert value == pytest.approx(_expectation_by_quadrature(t, r, alpha, a, b), rel=1e-7)


@settings(max_examples=60, deadline=None)
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
    # heavy buyers (x up to 1e4) and a + b < 1 included
    m = BGNBD.from_params(r=r, alpha=alpha, a=a, b=b)
    tx = 0.0 if x == 0 else frac * big_t
    ll = m.loglik(x, tx, big_t)
    p = m.p_alive(x, tx, big_t)
    e = m.expected_purchases(30.0, x, tx, big_t)
    assert np.isfinite(ll)
    assert 0.0 <= p <= 1.0
    assert np.isfinite(e) and e >= 0.0
    assert np.isfinite(m.expected_purchases_new(30.0))


def test_predictions_keep_the_input_shape(ours: BGNBD) -> None:
    x = np.array([[0.0, 1.0], [2.0, 3.0]])
    tx = np.array([[0.0, 5.0], [10.0, 20.0]])
    assert ours.p_alive(x, tx, 30.0).shape == (2, 2)
    assert ours.expected_purchases(np.array([1.0, 2.0]), x, tx, 30.0).shape == (2, 2)
    assert ours.loglik(x, tx, 30.0).shape == (2, 2)
    assert ours.p_alive(2, 10.0, 30.0).shape == ()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_recovers_simulated_parameters(seed: int) -> None:
    truth = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}
    rng = np.random.default_rng(seed)
    x, tx, big_t = simulate_bgnbd(rng.uniform(5, 52, 30_000), seed=rng, **truth)
    fit = BGNBD().fit(x, tx, big_t)
    # Over 20 seeds the z-scores of r and b have a s.d. of about 1.3 (their sampling
    # distributions are skewed at this size), so 4 standard errors keeps false alarms rare.
    for k, v in truth.items():
        assert abs(fit.params_[k] - v) < 4 * fit.standard_errors_[k], (k, fit.params_)


def test_unidentified_data_raise_convergence_error() -> None:
    # nobody ever buys again: the likelihood keeps rising as r -> 0
    with pytest.raises(ConvergenceError) as err:
        BGNBD().fit(np.zeros(50), np.zeros(50), np.linspace(1, 50, 50))
    assert err.value.result is not None


def test_iteration_limit_raises_convergence_error(cdnow_rft) -> None:
    with pytest.raises(ConvergenceError) as err:
        BGNBD(max_iter=2).fit(*cdnow_rft)
    assert err.value.result is not None
    assert np.all(np.isfinite(err.value.result.x))


def test_a_plus_b_below_one_is_finite_where_lifetimes_gives_nan() -> None:
    # lifetimes #442: log(2F1) of a negative value when a + b < 1 and x = 0
    params = {"r": 1.84, "alpha": 14.6, "a": 0.497, "b": 0.463}
    with quiet():
        import pandas as pd
        from lifetimes import BetaGeoFitter

        peer = BetaGeoFitter()
        peer.params_ = pd.Series(params)
        theirs = peer.conditional_expected_number_of_purchases_up_to_time(
            10.0, np.array([0.0]), np.array([0.0]), np.array([20.0])
        )
    assert np.isnan(theirs).all()
    ours = BGNBD.from_params(**params).expected_purchases(10.0, 0, 0.0, 20.0)
    # x = 0: alive for sure, so this is E[X(10)] at (r, alpha + T, a, b)
    expected = _expectation_by_quadrature(10.0, 1.84, 14.6 + 20.0, 0.497, 0.463)
    assert float(ours) == pytest.approx(expected, rel=1e-7)
