"""Draw customer histories from the CLV models (vectorised; for tests and benchmarks).

Each sampler draws the latent customer parameters, then the summary statistics directly from
their distributions (no event-by-event loop): for the Poisson models, given ``N`` purchases in
a window the time of the ``k``-th is the window length times a Beta(k, N - k + 1) variable.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ._validation import FloatArray, as_float, check_counts

__all__ = [
    "simulate_bgbb",
    "simulate_bgnbd",
    "simulate_gammagamma",
    "simulate_mbgnbd",
    "simulate_paretonbd",
]


def _rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _kth_arrival(
    rng: np.random.Generator, k: FloatArray, n: FloatArray, window: FloatArray
) -> FloatArray:
    """Time of the k-th of n uniform arrivals in (0, window]; 0 where k == 0."""
    pos = k > 0
    out = np.zeros(k.shape)
    out[pos] = window[pos] * rng.beta(k[pos], n[pos] - k[pos] + 1.0)
    return out


def _geometric_counts(
    rng: np.random.Generator, T: ArrayLike, r: float, alpha: float, p: FloatArray, shift: int
) -> tuple[FloatArray, FloatArray, FloatArray]:
    big_t = as_float(T, "T")
    lam = rng.gamma(r, 1.0 / alpha, size=big_t.shape)
    n = rng.poisson(lam * big_t).astype(np.float64)
    # purchases made before dropping out
    deaths = rng.geometric(np.clip(p, 1e-12, 1.0)).astype(np.float64) - shift
    x = np.minimum(deaths, n)
    return x, _kth_arrival(rng, x, n, big_t), big_t


def simulate_bgnbd(
    T: ArrayLike,
    *,
    r: float,
    alpha: float,
    a: float,
    b: float,
    seed: int | np.random.Generator | None = None,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(frequency, recency, T) of customers with ages ``T`` under the BG/NBD.

    Examples
    --------
    >>> x, tx, T = simulate_bgnbd(np.full(5, 52.0), r=0.25, alpha=4.0, a=0.8, b=2.5, seed=1)
    >>> bool(np.all((tx <= T) & ((x > 0) | (tx == 0))))
    True
    """
    rng = _rng(seed)
    p = rng.beta(a, b, size=np.shape(T))
    return _geometric_counts(rng, T, r, alpha, p, shift=0)


def simulate_mbgnbd(
    T: ArrayLike,
    *,
    r: float,
    alpha: float,
    a: float,
    b: float,
    seed: int | np.random.Generator | None = None,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(frequency, recency, T) under the MBG/NBD (drop-out also possible at time 0)."""
    rng = _rng(seed)
    p = rng.beta(a, b, size=np.shape(T))
    return _geometric_counts(rng, T, r, alpha, p, shift=1)


def simulate_paretonbd(
    T: ArrayLike,
    *,
    r: float,
    alpha: float,
    s: float,
    beta: float,
    seed: int | np.random.Generator | None = None,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(frequency, recency, T) of customers with ages ``T`` under the Pareto/NBD."""
    rng = _rng(seed)
    big_t = as_float(T, "T")
    lam = rng.gamma(r, 1.0 / alpha, size=big_t.shape)
    mu = rng.gamma(s, 1.0 / beta, size=big_t.shape)
    life = rng.standard_exponential(big_t.shape) / np.maximum(mu, 1e-300)
    window = np.minimum(life, big_t)
    n = rng.poisson(lam * window).astype(np.float64)
    return n, _kth_arrival(rng, n, n, window), big_t


def simulate_bgbb(
    n_periods: ArrayLike,
    *,
    alpha: float,
    beta: float,
    gamma: float,
    delta: float,
    seed: int | np.random.Generator | None = None,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(frequency, recency, n_periods) under the BG/BB (a drop-out check precedes each
    opportunity)."""
    rng = _rng(seed)
    n = check_counts(n_periods, "n_periods")
    p = rng.beta(alpha, beta, size=n.shape)
    theta = rng.beta(gamma, delta, size=n.shape)
    alive = np.minimum(rng.geometric(np.clip(theta, 1e-12, 1.0)) - 1.0, n)  # opportunities survived
    top = int(np.max(n, initial=0))
    j = np.arange(1, top + 1, dtype=np.float64)
    buys = (rng.random((n.shape[0], top)) < p[:, None]) & (j[None, :] <= alive[:, None])
    x = buys.sum(axis=1).astype(np.float64)
    tx = np.max(np.where(buys, j[None, :], 0.0), axis=1, initial=0.0)
    return x, tx, n


def simulate_gammagamma(
    frequency: ArrayLike,
    *,
    p: float,
    q: float,
    v: float,
    seed: int | np.random.Generator | None = None,
) -> FloatArray:
    """Mean spend over ``frequency`` (>= 1) transactions under the Gamma-Gamma model."""
    rng = _rng(seed)
    x = check_counts(frequency, "frequency", minimum=1)
    nu = rng.gamma(q, 1.0 / v, size=x.shape)
    return np.asarray(rng.gamma(p * x, 1.0 / (nu * x)), dtype=np.float64)
