"""BG/BB: agreement with lifetimes and Fader, Hardie & Shang on the donation data."""

from __future__ import annotations

import numpy as np
import pytest
from clv_support import numeric_gradient, quiet
from hypothesis import given, settings
from hypothesis import strategies as st

from patron.analytics.clv import BGBB
from patron.analytics.clv.bgbb import _bgbb_rows
from patron.analytics.clv.simulate import simulate_bgbb

NAMES = ("alpha", "beta", "gamma", "delta")


@pytest.fixture(scope="module")
def peer(donations):
    x, tx, n, w = donations
    with quiet():
        from lifetimes import BetaGeoBetaBinomFitter

        return BetaGeoBetaBinomFitter().fit(x, tx, n, w)


@pytest.fixture(scope="module")
def ours(donations) -> BGBB:
    x, tx, n, w = donations
    return BGBB().fit(x, tx, n, weights=w)


def test_fit_reproduces_fader_hardie_shang_and_lifetimes(ours: BGBB, peer, donations) -> None:
    # Fader, Hardie & Shang (2010): alpha=1.204, beta=0.750, gamma=0.657, delta=2.783, LL=-33,225.6
    assert [round(ours.params_[k], 3) for k in NAMES] == [1.204, 0.750, 0.657, 2.783]
    assert ours.log_likelihood_ == pytest.approx(-33225.58, abs=0.01)
    assert ours.n_ == 11_104
    w = donations[3]
    assert ours.log_likelihood_ == pytest.approx(
        -peer._negative_log_likelihood_ * w.sum(), abs=1e-6
    )
    for k in NAMES:
        assert ours.params_[k] == pytest.approx(peer.params_[k], rel=1e-5)
        assert ours.standard_errors_[k] == pytest.approx(peer.standard_errors_[k], rel=1e-3)


def test_predictions_match_lifetimes_at_the_same_parameters(peer, donations) -> None:
    x, tx, n, w = donations
    m = BGBB.from_params(**{k: float(peer.params_[k]) for k in NAMES})
    with quiet():
        for future in (1, 5, 10):
            e = peer.conditional_expected_number_of_purchases_up_to_time(future, x, tx, n)
            p = peer.conditional_probability_alive(future, x, tx, n)
            assert m.expected_purchases(future, x, tx, n) == pytest.approx(e, rel=1e-9)
            assert m.conditional_probability_alive(future, x, tx, n) == pytest.approx(p, rel=1e-9)
        table = peer.expected_number_of_transactions_in_first_n_periods(6)
    expected = table["model"].to_numpy() / w.sum()
    assert m.p_purchases(table.index.to_numpy(), 6) == pytest.approx(expected, rel=1e-9)


def test_analytic_gradient_matches_finite_differences(donations) -> None:
    x, tx, n, w = donations
    for theta in ([1.2, 0.75, 0.66, 2.8], [0.2, 5.0, 3.0, 0.3], [1.0, 1.0, 1.0, 1.0]):
        th = np.array(theta)
        _, grad = _bgbb_rows(th, x, tx, n, True)

        def total(v: np.ndarray) -> float:
            return float(w @ _bgbb_rows(v, x, tx, n, False)[0])

        assert w @ grad == pytest.approx(numeric_gradient(total, th, rel=1e-5), rel=1e-6)


def test_invariants(ours: BGBB, donations) -> None:
    x, tx, n, _ = donations
    p = ours.p_alive(x, tx, n)
    assert np.all((p >= 0) & (p <= 1))
    assert np.all(ours.p_alive(x, tx, n, m_periods_in_future=3) <= p + 1e-15)
    assert np.all(np.diff([ours.expected_purchases(k, x, tx, n) for k in range(6)], axis=0) >= 0)
    for opportunities in (0, 1, 6, 30):
        k = np.arange(opportunities + 1)
        pmf = ours.p_purchases(k, opportunities)
        assert pmf.sum() == pytest.approx(1.0, abs=1e-12)
        new = float(ours.expected_purchases_new(opportunities))
        assert np.sum(k * pmf) == pytest.approx(new, rel=1e-10, abs=1e-14)
    assert float(ours.p_purchases(7, 6)) == 0.0


@pytest.mark.parametrize("gamma", [1.0, 1.0 + 1e-12, 0.3, 3.0])
def test_expectations_are_exact_at_gamma_one(gamma: float) -> None:
    # eq. (13) divides by (gamma - 1); the telescoped sum does not
    m = BGBB.from_params(alpha=1.2, beta=0.75, gamma=gamma, delta=2.8)
    e = m.expected_purchases(10, 3, 5, 6)
    assert np.isfinite(e) and e > 0
    k = np.arange(11)
    assert float(m.expected_purchases_new(10)) == pytest.approx(
        np.sum(k * m.p_purchases(k, 10)), rel=1e-12
    )


@settings(max_examples=50, deadline=None)
@given(
    n=st.integers(1, 200),
    data=st.data(),
    alpha=st.floats(0.01, 50.0),
    beta=st.floats(0.01, 50.0),
    gamma=st.floats(0.01, 50.0),
    delta=st.floats(0.01, 50.0),
)
def test_extremes_stay_finite(n, data, alpha, beta, gamma, delta) -> None:
    tx = data.draw(st.integers(0, n))
    x = data.draw(st.integers(min(tx, 1), tx)) if tx else 0
    m = BGBB.from_params(alpha=alpha, beta=beta, gamma=gamma, delta=delta)
    assert np.isfinite(m.loglik(x, tx, n))
    assert 0.0 <= m.p_alive(x, tx, n) <= 1.0
    assert np.isfinite(m.expected_purchases(10, x, tx, n))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_recovers_simulated_parameters(seed: int) -> None:
    truth = {"alpha": 1.2, "beta": 0.75, "gamma": 0.66, "delta": 2.8}
    x, tx, n = simulate_bgbb(np.full(40_000, 8), seed=seed, **truth)
    fit = BGBB().fit(x, tx, n)
    for k, v in truth.items():
        assert abs(fit.params_[k] - v) < 4 * fit.standard_errors_[k], (k, fit.params_)
