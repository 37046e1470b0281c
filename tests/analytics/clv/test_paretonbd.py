"""Pareto/NBD: agreement with lifetimes and Fader & Hardie, exact gradient, robustness."""

from __future__ import annotations

import numpy as np
import pytest
from clv_support import numeric_gradient, quiet
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad
from scipy.special import gammaln

from patron.analytics.clv import ParetoNBD
from patron.analytics.clv.simulate import simulate_paretonbd

NAMES = ("r", "alpha", "s", "beta")


@pytest.fixture(scope="module")
def peer(cdnow_rft):
    """lifetimes' Nelder-Mead, run to a tight tolerance so that it converges fully."""
    with quiet():
        from lifetimes import ParetoNBDFitter

        return ParetoNBDFitter().fit(*cdnow_rft, tol=1e-12, maxiter=20_000)


@pytest.fixture(scope="module")
def ours(cdnow_rft) -> ParetoNBD:
    return ParetoNBD().fit(*cdnow_rft)


def _peer_total_loglik(peer, x: np.ndarray, big_t: np.ndarray) -> float:
    # lifetimes' objective: -sum(ll) / mean(weights) in time rescaled so max T = 1
    return float(-peer._negative_log_likelihood_ + x.sum() * np.log(1.0 / big_t.max()))


def test_fit_reproduces_fader_hardie_and_lifetimes(ours: ParetoNBD, peer, cdnow_rft) -> None:
    # Fader & Hardie's CDNOW estimates: r=0.553, alpha=10.58, s=0.606, beta=11.67, LL=-9595.0
    assert [round(ours.params_[k], 2) for k in NAMES] == [0.55, 10.58, 0.61, 11.67]
    assert ours.log_likelihood_ == pytest.approx(-9595.0, abs=0.05)
    for k in NAMES:
        assert ours.params_[k] == pytest.approx(peer.params_[k], rel=1e-6)
    assert ours.log_likelihood_ == pytest.approx(
        _peer_total_loglik(peer, cdnow_rft[0], cdnow_rft[2]), abs=1e-6
    )
    assert ours.log_likelihood_ == pytest.approx(float(ours.loglik(*cdnow_rft).sum()), rel=1e-12)


def test_lifetimes_default_tolerance_agrees_to_four_digits(ours: ParetoNBD, cdnow_rft) -> None:
    with quiet():
        from lifetimes import ParetoNBDFitter

        np.random.seed(0)  # lifetimes starts Nelder-Mead from a random point
        default = ParetoNBDFitter().fit(*cdnow_rft)
    for k in NAMES:
        assert ours.params_[k] == pytest.approx(default.params_[k], rel=2e-4)
    # our optimum is at least as high as theirs
    assert ours.log_likelihood_ >= _peer_total_loglik(default, cdnow_rft[0], cdnow_rft[2]) - 1e-9


def test_standard_errors_match_a_numerical_hessian_of_the_loglik(
    ours: ParetoNBD, cdnow_rft
) -> None:
    log_theta = np.log([ours.params_[k] for k in NAMES])

    def total(v: np.ndarray) -> float:
        return float(
            ParetoNBD.from_params(**dict(zip(NAMES, np.exp(v), strict=True)))
            .loglik(*cdnow_rft)
            .sum()
        )

    h = 1e-4
    hess = np.empty((4, 4))
    for i in range(4):
        for j in range(4):
            ei, ej = np.eye(4)[i] * h, np.eye(4)[j] * h
            hess[i, j] = (
                total(log_theta + ei + ej)
                - total(log_theta + ei - ej)
                - total(log_theta - ei + ej)
                + total(log_theta - ei - ej)
            ) / (4 * h * h)
    se = np.exp(log_theta) * np.sqrt(np.diag(np.linalg.inv(-hess)))
    assert [ours.standard_errors_[k] for k in NAMES] == pytest.approx(se, rel=1e-3)


def test_predictions_match_lifetimes_at_the_same_parameters(peer, cdnow_rft) -> None:
    x, tx, big_t = cdnow_rft
    m = ParetoNBD.from_params(**{k: float(peer.params_[k]) for k in NAMES})
    with quiet():
        expected = [
            peer.conditional_expected_number_of_purchases_up_to_time(t, x, tx, big_t)
            for t in (1.0, 10.0, 39.0)
        ]
        p_alive = peer.conditional_probability_alive(x, tx, big_t)
        e_new = peer.expected_number_of_purchases_up_to_time(np.array([1.0, 10.0, 39.0]))
    for t, e in zip((1.0, 10.0, 39.0), expected, strict=True):
        assert m.expected_purchases(t, x, tx, big_t) == pytest.approx(e, rel=1e-9)
    assert m.p_alive(x, tx, big_t) == pytest.approx(p_alive, rel=1e-9)
    assert m.expected_purchases_new([1.0, 10.0, 39.0]) == pytest.approx(e_new, rel=1e-9)


def _loglik_by_quadrature(x, tx, big_t, r, alpha, s, beta) -> float:
    """Eq. (18) with the drop-out integral done by scipy.integrate.quad (no 2F1 at all)."""
    lead = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    # scale everything by (alpha + t_x)^-(r+x) (beta + t_x)^-s to stay in range
    ref = -(r + x) * np.log(alpha + tx) - s * np.log(beta + tx)
    alive = np.exp(-(r + x) * np.log(alpha + big_t) - s * np.log(beta + big_t) - ref)

    def f(tau: float) -> float:
        return np.exp(-(r + x) * np.log(alpha + tau) - (s + 1) * np.log(beta + tau) - ref)

    scale = (alpha + tx) / (r + x + 1)
    points = [tx + scale * k for k in (1, 10, 100) if tx + scale * k < big_t]
    dead = quad(f, tx, big_t, epsabs=0, epsrel=1e-12, limit=400, points=points or None)[0]
    return float(lead + ref + np.log(alive + s * dead))


@pytest.mark.parametrize(
    ("x", "tx", "big_t", "params"),
    [
        (2, 30.43, 38.86, (0.55, 10.58, 0.61, 11.67)),
        (0, 0.0, 38.86, (0.55, 10.58, 0.61, 11.67)),
        (5, 38.86, 38.86, (0.55, 10.58, 0.61, 11.67)),  # last purchase at T: no drop-out term
        (5, 38.0, 38.86, (0.55, 0.05, 0.61, 300.0)),  # alpha << beta
        (0, 0.0, 38.86, (0.55, 0.05, 0.61, 300.0)),  # z = 0.9998: the quadrature branch
        (3, 1.0, 38.86, (2.0, 900.0, 0.3, 0.01)),  # alpha >> beta
        (500, 30.0, 38.86, (0.55, 10.58, 0.61, 11.67)),  # heavy buyer
        (500, 38.8, 38.86, (0.55, 10.58, 1.0, 11.67)),  # s = 1
    ],
)
def test_loglik_matches_direct_integration(x, tx, big_t, params) -> None:
    m = ParetoNBD.from_params(**dict(zip(NAMES, params, strict=True)))
    expected = _loglik_by_quadrature(x, tx, big_t, *params)
    assert float(m.loglik(x, tx, big_t)) == pytest.approx(expected, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize(
    "theta",
    [
        [0.55, 0.27, 0.61, 0.30],  # alpha < beta (CDNOW, internal units)
        [0.55, 0.30, 0.61, 0.27],  # alpha > beta
        [0.55, 0.30, 0.61, 0.30],  # alpha == beta
        [0.55, 0.001, 0.61, 2.0],  # z close to 1 for small t: quadrature branch
        [3.0, 5.0, 0.05, 0.01],
    ],
)
def test_analytic_gradient_matches_finite_differences(cdnow_rft, theta) -> None:
    x, tx, big_t = cdnow_rft
    model = ParetoNBD()
    data = model._prepare(x, tx / 38.86, big_t / 38.86)
    th = np.array(theta)
    _, grad = model._rows(th, data, True)

    def total(v: np.ndarray) -> float:
        return float(model._rows(v, data, False)[0].sum())

    assert grad.sum(axis=0) == pytest.approx(numeric_gradient(total, th), rel=1e-6, abs=1e-6)


def test_invariants(ours: ParetoNBD, cdnow_rft) -> None:
    x, tx, big_t = cdnow_rft
    p = ours.p_alive(x, tx, big_t)
    assert np.all((p >= 0) & (p <= 1))
    e = ours.expected_purchases(10.0, x, tx, big_t)
    assert np.all(e >= 0) and np.all(ours.expected_purchases(20.0, x, tx, big_t) >= e)
    n = np.arange(3000)
    for t in (0.0, 5.0, 39.0, 200.0):
        pmf = ours.p_purchases(n, t)
        assert pmf.sum() == pytest.approx(1.0, abs=1e-9)
        assert np.sum(n * pmf) == pytest.approx(float(ours.expected_purchases_new(t)), rel=1e-7)


def test_p_purchases_matches_direct_integration(ours: ParetoNBD) -> None:
    r, alpha, s, beta = (ours.params_[k] for k in NAMES)
    t = 39.0
    for n in (0, 1, 4, 20):

        def nb(tau: float, n: int = n) -> float:
            q = tau / (alpha + tau)
            return np.exp(
                gammaln(r + n) - gammaln(r) - gammaln(n + 1) + r * np.log1p(-q) + n * np.log(q)
            )

        dead = quad(
            lambda u, nb=nb: nb(u) * s * beta**s / (beta + u) ** (s + 1), 0, t, epsrel=1e-12
        )[0]
        expected = nb(t) * (beta / (beta + t)) ** s + dead
        assert float(ours.p_purchases(n, t)) == pytest.approx(expected, rel=1e-9)


def test_heavy_buyers_stay_finite_where_lifetimes_gives_nan() -> None:
    params = {"r": 0.55, "alpha": 10.58, "s": 0.61, "beta": 11.67}
    x, tx, big_t = np.array([10_000.0]), np.array([38.86]), np.array([38.86])
    with quiet():
        import pandas as pd
        from lifetimes import ParetoNBDFitter

        peer = ParetoNBDFitter()
        peer.params_ = pd.Series(params)
        assert np.isnan(peer.conditional_probability_alive(x, tx, big_t)).all()
    m = ParetoNBD.from_params(**params)
    assert m.p_alive(x, tx, big_t)[0] == 1.0
    assert np.isfinite(m.loglik(x, tx, big_t)).all()
    assert m.expected_purchases(10.0, x, tx, big_t)[0] > 1000


@settings(max_examples=60, deadline=None)
@given(
    x=st.integers(0, 10_000),
    frac=st.floats(0.0, 1.0),
    big_t=st.floats(0.5, 500.0),
    r=st.floats(0.01, 20.0),
    alpha=st.floats(1e-3, 1e3),
    s=st.floats(0.01, 20.0),
    beta=st.floats(1e-3, 1e3),
)
def test_extremes_stay_finite(x, frac, big_t, r, alpha, s, beta) -> None:
    m = ParetoNBD.from_params(r=r, alpha=alpha, s=s, beta=beta)
    tx = 0.0 if x == 0 else frac * big_t
    assert np.isfinite(m.loglik(x, tx, big_t))
    assert 0.0 <= m.p_alive(x, tx, big_t) <= 1.0
    e = m.expected_purchases(30.0, x, tx, big_t)
    assert np.isfinite(e) and e >= 0.0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_recovers_simulated_parameters(seed: int) -> None:
    truth = {"r": 0.55, "alpha": 10.5, "s": 0.6, "beta": 11.7}
    rng = np.random.default_rng(seed)
    x, tx, big_t = simulate_paretonbd(rng.uniform(5, 52, 30_000), seed=rng, **truth)
    fit = ParetoNBD().fit(x, tx, big_t)
    for k, v in truth.items():
        assert abs(fit.params_[k] - v) < 4 * fit.standard_errors_[k], (k, fit.params_)


def _evaluations_until_the_fit_fails(
    monkeypatch: pytest.MonkeyPatch, rows: np.ndarray, weights: np.ndarray
) -> tuple[int, str]:
    from patron.analytics.clv import ConvergenceError, base

    calls = [0]
    original = base._minimize_starts

    def counting(objective, starts, **kwargs):  # type: ignore[no-untyped-def]
        def counted(log_theta):  # type: ignore[no-untyped-def]
            calls[0] += 1
            return objective(log_theta)

        return original(counted, starts, **kwargs)

    monkeypatch.setattr(base, "_minimize_starts", counting)
    with pytest.raises(ConvergenceError) as failed, np.errstate(all="ignore"):
        ParetoNBD(max_shape=1e4).fit(rows[:, 0], rows[:, 1], rows[:, 2], weights=weights)
    return calls[0], str(failed.value)


def test_a_fit_walking_a_ridge_fails_as_it_would_without_the_ridge_stop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given buyers who never drop out (Poisson purchases, whole weeks, distinct rows with
    # their counts as a run fits them): s -> 0 as beta -> infinity is a ridge the likelihood
    # climbs for ever, by less and less
    from patron.analytics.clv import base

    rng = np.random.default_rng(5)
    big_t = rng.integers(14, 80, 5_000).astype(float)
    x = rng.poisson(rng.gamma(1.5, 0.03, 5_000) * big_t).astype(float)
    tx = np.where(x > 0, np.floor(big_t * rng.beta(x + 1.0, 1.0)), 0.0)
    rows, counts = np.unique(np.stack([x, tx, big_t], axis=1), axis=0, return_counts=True)

    # when the fit runs with the ridge stop, and without it
    stopped, message = _evaluations_until_the_fit_fails(monkeypatch, rows, counts.astype(float))
    monkeypatch.setattr(base, "_RIDGE_STEPS", 10**9)
    walked, _ = _evaluations_until_the_fit_fails(monkeypatch, rows, counts.astype(float))

    # then it fails either way (without the stop, on the Hessian at the end of the walk), with
    # the reason, and the stop spares the last steps and the stalled line search
    assert "goes to 0 or infinity" in message
    assert stopped < walked, (stopped, walked)
