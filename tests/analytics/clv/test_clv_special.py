"""The log-space special functions, checked against independent references."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad
from scipy.special import gammaln, hyp2f1, xlogy

from patron.analytics.clv._special import log_diff_exp, log_hyp2f1_1b


def _series_reference(b: float, c: float, z: float) -> float:
    """log 2F1(1, b; c; z) by brute force: every term from gammaln, summed with math.fsum."""
    n = np.arange(int(60 / (1 - z)) + 2000, dtype=float)
    log_terms = gammaln(b + n) - gammaln(b) - gammaln(c + n) + gammaln(c) + xlogy(n, z)
    top = log_terms.max()
    return float(top + np.log(math.fsum(np.exp(log_terms - top))))


def _euler_integral(b: float, c: float, z: float) -> float:
    """2F1(1, b; c; z) = (c - 1) int_0^1 (1 - t)^(c - 2) (1 - z t)^(-b) dt, c > 1 (A&S 15.3.1)."""
    value, _ = quad(
        lambda t: (1 - t) ** (c - 2) * (1 - z * t) ** (-b), 0, 1, epsabs=0, epsrel=1e-13, limit=200
    )
    return (c - 1) * value


@pytest.mark.parametrize(("b", "c", "z"), [(0.5, 1.7, 0.3), (2.0, 3.0, 0.95), (3.0, 4.5, 0.999)])
def test_log_hyp2f1_1b_matches_the_euler_integral(b: float, c: float, z: float) -> None:
    log_h, _, _, _ = log_hyp2f1_1b(b, c, z)
    assert float(log_h) == pytest.approx(np.log(_euler_integral(b, c, z)), rel=1e-11)


@pytest.mark.parametrize(
    ("b", "c", "z"),
    [
        (0.5, 1.7, 0.0),
        (0.5, 1.7, 0.3),
        (2.0, 3.0, 0.5),
        (30.6, 31.2, 0.85),  # heavy buyer, z just below the series limit
        (1.6, 400.0, 0.95),  # above 0.9: panel quadrature of the Euler integral
        (94.0, 144.0, 0.9375),  # SciPy's hyp2f1 returns inf here
        (250.5, 251.3, 0.99),
        (3.0, 4.5, 0.9999),
        (0.05, 1.06, 0.99999),
    ],
)
def test_log_hyp2f1_1b_matches_brute_force_summation(b: float, c: float, z: float) -> None:
    # given an independent, brute-force summation of the series
    expected = _series_reference(b, c, z)
    # when
    log_h, _, _, _ = log_hyp2f1_1b(b, c, z)
    # then
    assert float(log_h) == pytest.approx(expected, rel=1e-11, abs=1e-11)


@pytest.mark.parametrize("z", [0.0, 0.2, 0.6, 0.89, 0.93, 0.999])
def test_log_hyp2f1_1b_derivatives_match_central_differences(z: float) -> None:
    b, c = 1.7, 3.9
    _, d_b, d_c, d_z = log_hyp2f1_1b(b, c, z)
    h = 1e-6

    def f(bb: float, cc: float, zz: float) -> float:
        return float(np.log(hyp2f1(1.0, bb, cc, zz)))

    assert float(d_b) == pytest.approx((f(b + h, c, z) - f(b - h, c, z)) / (2 * h), rel=1e-7)
    assert float(d_c) == pytest.approx((f(b, c + h, z) - f(b, c - h, z)) / (2 * h), rel=1e-7)
    hz = h * (1 - z) if z > 0 else h
    z_lo = max(z - hz, 0.0)
    numeric_z = (f(b, c, z + hz) - f(b, c, z_lo)) / (z + hz - z_lo)
    assert float(d_z) == pytest.approx(numeric_z, rel=1e-6)


def test_log_hyp2f1_1b_is_vectorised_and_keeps_shape() -> None:
    b = np.full((2, 3), 1.5)
    out = log_hyp2f1_1b(b, b + 1.0, np.array([0.1, 0.5, 0.95]))
    assert all(o.shape == (2, 3) for o in out)


@settings(max_examples=150, deadline=None)
@given(
    b=st.floats(1e-3, 1e4),
    gap=st.floats(1e-3, 50.0).filter(lambda g: g > 0),
    z=st.floats(0.0, 0.9999),
)
def test_log_hyp2f1_1b_is_finite_everywhere_it_is_defined(b: float, gap: float, z: float) -> None:
    # the domain of the Pareto/NBD terms: 0 < b < c and c > 1
    out = log_hyp2f1_1b(b, max(b, 1.0) + gap, z)
    assert all(np.isfinite(o) for o in out)
    assert float(out[0]) >= 0.0  # every term is positive and the first is 1


def test_log_diff_exp_is_exact_and_handles_equal_arguments() -> None:
    out = log_diff_exp(
        np.array([0.0, 1000.0, -5.0, 2.0]), np.array([np.log(0.25), 999.0, -5.0, -np.inf])
    )
    assert out[0] == pytest.approx(np.log(0.75), rel=1e-15)
    assert out[1] == pytest.approx(1000.0 + np.log1p(-np.exp(-1.0)), rel=1e-15)
    assert out[2] == -np.inf
    assert out[3] == pytest.approx(2.0, rel=1e-15)


def test_rows_sharing_z_give_the_values_each_row_has_alone() -> None:
    # many rows on few z (the integrand's z-factors computed once and shared) against each
    # row evaluated on its own, and against the brute-force series
    rng = np.random.default_rng(8)
    n = 600
    c = 1.5 + rng.gamma(1.0, 30.0, n)
    b = c * rng.uniform(0.01, 0.99, n)
    z = rng.choice(np.array([0.91, 0.95, 0.99, 0.999]), n)
    together = log_hyp2f1_1b(b, c, z)
    for i in rng.choice(n, 25, replace=False):
        alone = log_hyp2f1_1b(b[i : i + 1], c[i : i + 1], z[i : i + 1])
        for a, t in zip(alone, together, strict=True):
            assert float(t[i]) == pytest.approx(float(a[0]), rel=1e-14, abs=1e-14)
        assert float(together[0][i]) == pytest.approx(
            _series_reference(b[i], c[i], z[i]), rel=1e-11
        )
