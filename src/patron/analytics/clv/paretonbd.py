r"""Pareto/NBD (Schmittlein, Morrison & Colombo 1987) in the form of Fader & Hardie (2005).

Numerics. The likelihood (Fader & Hardie 2005, eq. (18)-(20)) is

.. math::
    L = \frac{\Gamma(r+x)\alpha^r\beta^s}{\Gamma(r)}\Big[
        \frac{1}{(\alpha+T)^{r+x}(\beta+T)^s} + s\,I\Big],\qquad
    I = \int_{t_x}^{T} (\alpha+\tau)^{-(r+x)} (\beta+\tau)^{-(s+1)}\,d\tau
    = \frac{A_0}{r+s+x},

the second term being the probability of dying at :math:`\tau \in (t_x, T]`. We write
:math:`I = F(t_x) - F(T)` with the tail integral :math:`F(t) = \int_t^\infty \dots d\tau`,
which is the hypergeometric function of eq. (19)-(20) after Euler's transformation:
for :math:`\alpha \ge \beta`,
:math:`F(t) = (\alpha+t)^{-(r+x)}(\beta+t)^{-s}\,{}_2F_1(1, r+x; r+s+x+1; z)/(r+s+x)`,
:math:`z = (\alpha-\beta)/(\alpha+t)` (symmetrically for :math:`\alpha < \beta`). That
``2F1(1, b; c; z)`` has positive, geometrically shrinking terms for any frequency, so it is
summed together with its parameter derivatives (exact gradient). ``I`` is then
``F(t_x) (1 - exp(D))`` with ``D = log F(T) - log F(t_x) <= 0`` assembled from ``log1p``
terms, so it is never negative (the invalid ``logaddexp`` of lifetimes #445 cannot happen),
and ``F`` is evaluated once per distinct (x, t) pair.

References
----------
.. [1] Schmittlein, D. C., Morrison, D. G. and Colombo, R. (1987), "Counting Your Customers:
   Who Are They and What Will They Do Next?", *Management Science* 33 (1), 1-24.
.. [2] Fader, P. S. and Hardie, B. G. S. (2005), "A Note on Deriving the Pareto/NBD Model and
   Related Expressions", http://brucehardie.com/notes/009/ : likelihood eq. (18) with
   ``A_0`` of eqs. (19)-(20), E[X(t)] eq. (27), P(alive) eqs. (36)-(37), conditional
   expectation eq. (41).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import digamma, expit, exprel, gammaln, logsumexp, xlogy

from ._compress import factorize
from ._special import log_hyp2f1_1b
from ._validation import FloatArray, check_counts, check_horizon, check_rft
from .base import _CountModel, as_output, unique_inverse

__all__ = ["ParetoNBD"]


@dataclass(frozen=True)
class _ParetoData:
    x: FloatArray
    tx: FloatArray
    T: FloatArray
    xu: FloatArray
    xi: NDArray[np.int64]
    tu: FloatArray
    ti: NDArray[np.int64]
    px: FloatArray  # distinct (x, t) pairs over t in {t_x, T}
    pt: FloatArray
    i_tx: NDArray[np.intp]
    i_t: NDArray[np.intp]


def _log_tail(
    x: FloatArray, t: FloatArray, r: float, alpha: float, s: float, beta: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``log F(t)``, the ``log 2F1`` part of it, and ``d log F / d(r, alpha, s, beta)``."""
    k = r + s + x
    la, lb = np.log(alpha + t), np.log(beta + t)
    grad = np.empty((4, x.shape[0])).T
    if alpha >= beta:
        z = (alpha - beta) / (alpha + t)
        lh, h_b, h_c, h_z = log_hyp2f1_1b(r + x, k + 1.0, z)
        log_f = -np.log(k) - (r + x) * la - s * lb + lh
        grad[:, 0] = -1.0 / k - la + h_b + h_c
        grad[:, 1] = -(r + x) / (alpha + t) + h_z * (beta + t) / (alpha + t) ** 2
        grad[:, 2] = -1.0 / k - lb + h_c
        grad[:, 3] = -s / (beta + t) - h_z / (alpha + t)
    else:
        z = (beta - alpha) / (beta + t)
        lh, h_b, h_c, h_z = log_hyp2f1_1b(s + 1.0, k + 1.0, z)
        log_f = -np.log(k) + (1.0 - r - x) * la - (s + 1.0) * lb + lh
        grad[:, 0] = -1.0 / k - la + h_c
        grad[:, 1] = (1.0 - r - x) / (alpha + t) - h_z / (beta + t)
        grad[:, 2] = -1.0 / k - lb + h_b + h_c
        grad[:, 3] = -(s + 1.0) / (beta + t) + h_z * (alpha + t) / (beta + t) ** 2
    return log_f, lh, grad


@dataclass(frozen=True)
class _Terms:
    """The two parts of the likelihood bracket, in logs, and what their gradients need."""

    a_term: FloatArray  # log of the "alive at T" part: -(r+x) log(alpha+T) - s log(beta+T)
    b_term: FloatArray  # log(s I), the "dropped out in (t_x, T]" part
    g_tail: FloatArray  # d log F / d theta per distinct (x, t) pair
    ratio: FloatArray  # 1 / expm1(-D), how d log I mixes the two tail gradients
    la_t: FloatArray
    lb_t: FloatArray


def _log_terms(theta: FloatArray, d: _ParetoData) -> _Terms:
    """Both parts of eq. (18)'s bracket: ``L = lead * (exp(A) + exp(B))``.

    ``I = F(t_x) - F(T) = F(t_x) (1 - exp(D))`` with ``D <= 0`` assembled from ``log1p``
    terms and the difference of the two ``log 2F1`` values, so ``I`` is accurate even when
    ``t_x`` is close to ``T`` and exactly 0 when they are equal.
    """
    r, alpha, s, beta = (float(v) for v in theta)
    x, tx, big_t = d.x, d.tx, d.T
    log_f, lh, g_f = _log_tail(d.px, d.pt, r, alpha, s, beta)
    gap = big_t - tx
    g_alpha = np.log1p(gap / (alpha + tx))  # log((alpha+T)/(alpha+t_x)), exact for small gaps
    g_beta = np.log1p(gap / (beta + tx))
    dlh = lh[d.i_t] - lh[d.i_tx]
    if alpha >= beta:
        diff = -(r + x) * g_alpha - s * g_beta + dlh
    else:
        diff = (1.0 - r - x) * g_alpha - (s + 1.0) * g_beta + dlh
    pos = diff < 0  # D = log F(T) - log F(t_x) <= 0; D = 0 where t_x == T (no drop-out term)
    safe = np.where(pos, diff, -1.0)
    log_i = np.where(pos, log_f[d.i_tx] + np.log(-np.expm1(safe)), -np.inf)
    la_t = np.log(alpha + d.tu)[d.ti]
    lb_t = np.log(beta + d.tu)[d.ti]
    a_term = -(r + x) * la_t - s * lb_t
    ratio = np.exp(safe) / -np.expm1(safe)  # = 1 / expm1(-D), without overflow
    return _Terms(a_term, np.log(s) + log_i, g_f, ratio, la_t, lb_t)


class ParetoNBD(_CountModel[_ParetoData]):
    r"""Pareto/NBD model (Schmittlein et al. 1987; Fader & Hardie 2005).

    While alive, purchases follow a Poisson process with rate
    :math:`\lambda \sim \text{Gamma}(r, \alpha)`; the lifetime is exponential with rate
    :math:`\mu \sim \text{Gamma}(s, \beta)`.

    Parameters
    ----------
    penalizer_coef, tol, max_iter, initial_params, max_shape
        As for :class:`~patron.analytics.clv.BGNBD`.

    Attributes
    ----------
    params_ : dict
        ``r``, ``alpha``, ``s``, ``beta`` (``alpha`` and ``beta`` in the caller's time unit).
    log_likelihood_ : float
        Total log-likelihood, eq. (18) of [2]_, in the caller's time unit.
    standard_errors_, converged_, n_iter_, n_
        As for :class:`~patron.analytics.clv.BGNBD`.

    References
    ----------
    .. [1] Schmittlein, Morrison and Colombo (1987), Management Science 33 (1), 1-24.
    .. [2] Fader and Hardie (2005), "A Note on Deriving the Pareto/NBD Model and Related
       Expressions", eqs. (18)-(20), (27), (36)-(37), (41).

    Examples
    --------
    >>> m = ParetoNBD.from_params(r=0.5533, alpha=10.5776, s=0.6061, beta=11.6650)
    >>> m.p_alive([0, 2], [0.0, 30.43], [38.86, 38.86]).round(4)
    array([0.2951, 0.8691])
    """

    _param_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "s", "beta")
    _shape_names: ClassVar[tuple[str, ...]] = ("r", "s")
    _start: ClassVar[tuple[float, ...]] = (1.0, 1.0, 1.0, 1.0)

    def _prepare(self, x: FloatArray, tx: FloatArray, big_t: FloatArray) -> _ParetoData:
        xu, xi = factorize(x)
        tu, ti = factorize(big_t)
        n = x.shape[0]
        (px, pt), inv = unique_inverse([np.concatenate([x, x]), np.concatenate([tx, big_t])])
        return _ParetoData(x, tx, big_t, xu, xi, tu, ti, px, pt, inv[:n], inv[n:])

    def _unit_factors(self, t_max: float) -> FloatArray:
        return np.array([1.0, t_max, 1.0, t_max])

    def _rows(
        self, theta: FloatArray, data: _ParetoData, with_grad: bool
    ) -> tuple[FloatArray, FloatArray]:
        """Per-row log-likelihood, eq. (18) of [2]_, and its exact gradient."""
        r, alpha, s, beta = (float(v) for v in theta)
        terms = _log_terms(theta, data)
        m = np.logaddexp(terms.a_term, terms.b_term)
        lead = gammaln(r + data.xu) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
        ll = lead[data.xi] + m
        if not with_grad:
            return ll, np.empty(0)
        w_b = np.exp(terms.b_term - m)
        w_a = 1.0 - w_b
        rx = r + data.x
        # d log I = d log F(t_x) + (d log F(t_x) - d log F(T)) / expm1(-D)
        g_f, ratio = terms.g_tail, terms.ratio
        d_i = [g_f[:, j][data.i_tx] for j in range(4)]
        d_i = [g + (g - g_f[:, j][data.i_t]) * ratio for j, g in enumerate(d_i)]
        inv_at = (1.0 / (alpha + data.tu))[data.ti]
        inv_bt = (1.0 / (beta + data.tu))[data.ti]
        grad = np.empty((4, ll.shape[0])).T  # column-major: contiguous columns
        grad[:, 0] = (digamma(r + data.xu) - digamma(r) + np.log(alpha))[data.xi]
        grad[:, 0] += w_b * d_i[0] - w_a * terms.la_t
        grad[:, 1] = r / alpha + w_b * d_i[1] - w_a * rx * inv_at
        grad[:, 2] = np.log(beta) + w_b * (1.0 / s + d_i[2]) - w_a * terms.lb_t
        grad[:, 3] = s / beta + w_b * d_i[3] - w_a * s * inv_bt
        return ll, grad

    def p_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> FloatArray:
        """P(alive | x, t_x, T), eqs. (36)-(37) of [2]_, as ``expit(A - B)`` (always in [0, 1])."""
        theta, data, shape = self._inputs(frequency, recency, T)
        terms = _log_terms(theta, data)
        return as_output(expit(terms.a_term - terms.b_term), shape)

    def expected_purchases(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        r"""Expected repeat purchases in (T, T + t] given the history, eq. (41) of [2]_.

        .. math:: P(\text{alive}) \frac{(r+x)(\beta+T)}{(\alpha+T)(s-1)}
                  \Big[1 - \Big(\frac{\beta+T}{\beta+T+t}\Big)^{s-1}\Big],

        with the bracket over ``s - 1`` written as ``L exprel(-(s-1) L)``,
        ``L = log1p(t / (beta + T))``, which is exact at ``s = 1`` too.
        """
        r, alpha, s, beta = self._params()
        tt = check_horizon(t)
        x, _, big_t = check_rft(frequency, recency, T, fit=False)
        tt, x, big_t = np.broadcast_arrays(tt, x, big_t)
        p = np.broadcast_to(self.p_alive(frequency, recency, T), x.shape)
        lg = np.log1p(tt / (beta + big_t))
        rate = (r + x) * (beta + big_t) / (alpha + big_t)
        return as_output(p * rate * lg * exprel(-(s - 1.0) * lg), x.shape)

    def expected_purchases_new(self, t: ArrayLike) -> FloatArray:
        """Expected repeat purchases of a new customer in (0, t], eq. (27) of [2]_."""
        r, alpha, s, beta = self._params()
        tt = check_horizon(t)
        lg = np.log1p(tt / beta)
        return as_output(r * beta / alpha * lg * exprel(-(s - 1.0) * lg), tt.shape)

    def p_purchases(self, n: ArrayLike, t: ArrayLike) -> FloatArray:
        r"""Probability of exactly ``n`` repeat purchases in (0, t] for a new customer.

        The closed form in [2]_ subtracts hypergeometric terms; we integrate over the death
        time instead,

        .. math:: P(X(t)=n) = \text{NB}_n(t)\Big(\frac{\beta}{\beta+t}\Big)^s
                  + \int_0^t \text{NB}_n(\tau)\frac{s\beta^s}{(\beta+\tau)^{s+1}}d\tau,

        with Gauss-Legendre quadrature on 48 geometrically shrinking panels towards 0
        (every scale of the integrand is resolved; no cancellation).
        """
        r, alpha, s, beta = self._params()
        nn, tt = np.broadcast_arrays(check_counts(n, "n"), check_horizon(t))
        shape = nn.shape
        nn, tt = nn.ravel()[:, None], tt.ravel()[:, None]
        c = gammaln(r + nn) - gammaln(r) - gammaln(nn + 1.0)

        def log_nb(tau: FloatArray) -> FloatArray:
            q = tau / (alpha + tau)
            return np.asarray(c + r * np.log1p(-q) + xlogy(nn, q), dtype=np.float64)

        alive = log_nb(tt) + s * (np.log(beta) - np.log(beta + tt))
        nodes, weights = _panel_rule()
        tau = tt * nodes[None, :]
        log_w = np.log(np.maximum(tt, 1e-300) * weights[None, :])
        dead = log_nb(tau) + np.log(s) + s * np.log(beta) - (s + 1.0) * np.log(beta + tau)
        total = np.logaddexp(alive[:, 0], logsumexp(dead + log_w, axis=1))
        out = np.where(tt[:, 0] > 0, np.exp(total), (nn[:, 0] == 0).astype(float))
        return as_output(out, shape)


def _panel_rule() -> tuple[FloatArray, FloatArray]:
    """Nodes and weights on (0, 1): 16-point Gauss-Legendre on panels [2^-(k+1), 2^-k]."""
    g_nodes, g_weights = np.polynomial.legendre.leggauss(16)
    edges = 2.0 ** -np.arange(48.0)
    lo, hi = np.append(edges[1:], 0.0), edges
    mid, half = (hi + lo) / 2, (hi - lo) / 2
    nodes = (mid[:, None] + half[:, None] * g_nodes[None, :]).ravel()
    weights = (half[:, None] * g_weights[None, :]).ravel()
    return nodes, weights
