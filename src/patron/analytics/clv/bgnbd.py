"""BG/NBD: the beta-geometric / negative binomial distribution model.

References
----------
.. [1] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005), "'Counting Your Customers' the
   Easy Way: An Alternative to the Pareto/NBD Model", *Marketing Science* 24 (2), 275-284.
   Likelihood eq. (6), P(X(t) = x) eq. (8), E[X(t)] eq. (9), conditional expectation eq. (10).
.. [2] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2008), "Computing P(alive) Using the
   BG/NBD Model", http://brucehardie.com/notes/021/ .
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import betainc, betaln, digamma, expit, gammaln, xlogy

from ._compress import factorize
from ._special import hyp2f1
from ._validation import FloatArray, check_counts, check_horizon, check_rft
from .base import _CountModel, as_output, unique_inverse

__all__ = ["BGNBD", "bg_expectation"]

_NEAR_POLE = 1e-4


@dataclass(frozen=True)
class _RFTData:
    """Rows (x, t_x, T) with their distinct x, t_x and T values and each row's index there.

    Terms that depend on one column only (``gammaln(r + x)``, ``log(alpha + T)``, ...) are
    computed once per distinct value and gathered, which is cheaper than recomputing them.
    """

    x: FloatArray
    pos: NDArray[np.bool_]
    xu: FloatArray
    xi: NDArray[np.int64]
    tu: FloatArray
    ti: NDArray[np.int64]
    txu: FloatArray
    txi: NDArray[np.int64]


def prepare_rft(x: FloatArray, tx: FloatArray, big_t: FloatArray) -> _RFTData:
    """Index rows by their distinct values (shared by BG/NBD and MBG/NBD)."""
    xu, xi = factorize(x)
    tu, ti = factorize(big_t)
    txu, txi = factorize(tx)
    return _RFTData(x, x > 0, xu, xi, tu, ti, txu, txi)


def _bg_core(
    t: FloatArray, r: FloatArray, alpha: FloatArray, a: float, b: FloatArray
) -> FloatArray:
    z = t / (alpha + t)
    c = a + b - 1.0
    g = hyp2f1(c - r, a - 1.0, c, z)
    bracket = 1.0 - np.exp((a - 1.0) * np.log1p(-z)) * g
    return np.asarray(c / (a - 1.0) * bracket, dtype=np.float64)


def bg_expectation(
    t: ArrayLike, r: ArrayLike, alpha: ArrayLike, a: float, b: ArrayLike
) -> FloatArray:
    r"""Expected BG/NBD repeat purchases in :math:`(0, t]`, eq. (9) of [1]_.

    .. math::
        E[X(t)] = \frac{a+b-1}{a-1}\Big[1 - \big(\tfrac{\alpha}{\alpha+t}\big)^r
        {}_2F_1\big(r, b; a+b-1; \tfrac{t}{\alpha+t}\big)\Big]

    evaluated in the Euler-transformed form
    :math:`(\alpha/(\alpha+t))^r\,{}_2F_1(r, b; c; z) = (1-z)^{a-1}{}_2F_1(c-r, a-1; c; z)`
    with :math:`c = a+b-1`, whose parameters stay small for heavy buyers (eq. (10) is this
    expression at ``r + x, alpha + T, b + x``), so the result is finite for any frequency.
    The removable singularities at ``a = 1`` and ``a + b = 1`` are bridged by linear
    interpolation across ``±1e-4`` (relative error below 1e-8).

    Examples
    --------
    >>> round(float(bg_expectation(39.0, 0.2426, 4.4135, 0.7929, 2.4258)), 4)
    1.1951
    """
    t_, r_, al_, b_ = (np.asarray(v, dtype=np.float64) for v in np.broadcast_arrays(t, r, alpha, b))
    if abs(a - 1.0) < _NEAR_POLE:
        lo = _bg_guard_c(t_, r_, al_, 1.0 - _NEAR_POLE, b_)
        hi = _bg_guard_c(t_, r_, al_, 1.0 + _NEAR_POLE, b_)
        return lo + (a - 1.0 + _NEAR_POLE) / (2 * _NEAR_POLE) * (hi - lo)
    return _bg_guard_c(t_, r_, al_, a, b_)


def _bg_guard_c(
    t: FloatArray, r: FloatArray, alpha: FloatArray, a: float, b: FloatArray
) -> FloatArray:
    """:func:`_bg_core`, interpolating in ``b`` across the pole of ``c = a + b - 1`` at 0."""
    near = np.abs(a + b - 1.0) < _NEAR_POLE
    if not near.any():
        return _bg_core(t, r, alpha, a, b)
    out = _bg_core(t, r, alpha, a, np.where(near, b + 1.0, b))
    b_lo, b_hi = 1.0 - a - _NEAR_POLE, 1.0 - a + _NEAR_POLE
    lo = _bg_core(t[near], r[near], alpha[near], a, np.full(near.sum(), b_lo))
    hi = _bg_core(t[near], r[near], alpha[near], a, np.full(near.sum(), b_hi))
    out[near] = lo + (b[near] - b_lo) / (b_hi - b_lo) * (hi - lo)
    return out


class _GammaBetaModel(_CountModel[_RFTData]):
    """What BG/NBD and MBG/NBD share: parameters (r, alpha, a, b), with alpha in time units,
    and the compressed (x, t_x, T) data."""

    _param_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "a", "b")
    _shape_names: ClassVar[tuple[str, ...]] = ("r", "a", "b")
    _start: ClassVar[tuple[float, ...]] = (1.0, 1.0, 1.0, 1.0)

    def _prepare(self, x: FloatArray, tx: FloatArray, big_t: FloatArray) -> _RFTData:
        return prepare_rft(x, tx, big_t)

    def _unit_factors(self, t_max: float) -> FloatArray:
        return np.array([1.0, t_max, 1.0, 1.0])


class BGNBD(_GammaBetaModel):
    r"""BG/NBD model of repeat purchasing (Fader, Hardie & Lee 2005).

    While alive, a customer buys as a Poisson process with rate
    :math:`\lambda \sim \text{Gamma}(r, \alpha)`; after each purchase they drop out with
    probability :math:`p \sim \text{Beta}(a, b)`.

    Parameters
    ----------
    penalizer_coef : float, default 0.0
        L2 penalty on the parameters (internal units, time rescaled so max ``T`` is 1),
        added to the mean negative log-likelihood as in lifetimes.
    tol : float, default 1e-9
        Gradient tolerance of L-BFGS-B on the mean negative log-likelihood.
    max_iter : int, default 2000
        Iteration limit of the optimiser.
    initial_params : dict, optional
        Starting values in the caller's units; by default a few fixed starts are tried.
    max_shape : float, optional
        Upper bound on the shape parameters (``r``, ``a``, ``b``). A fit that reaches it
        raises :class:`ConvergenceError` (without trying its other starts): the likelihood
        keeps rising towards rates that are all alike, a limit the data do not identify
        (only a ratio of parameters is). None (the default) leaves them free up to ``e^20``.

    Attributes
    ----------
    params_ : dict
        ``r``, ``alpha`` (in the caller's time unit), ``a``, ``b``.
    log_likelihood_ : float
        Total log-likelihood, eq. (6) of [1]_, in the caller's time unit.
    standard_errors_ : dict
        Asymptotic standard errors from the Hessian (delta method on log-parameters).
    converged_, n_iter_, n_ : bool, int, int
        Optimiser status, its iterations and the number of customers (sum of weights).

    References
    ----------
    .. [1] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005), Marketing Science 24 (2),
       275-284, eqs. (6), (8), (9), (10).
    .. [2] Fader, Hardie and Lee (2008), "Computing P(alive) Using the BG/NBD Model".

    Examples
    --------
    >>> m = BGNBD.from_params(r=0.2426, alpha=4.4135, a=0.7929, b=2.4258)
    >>> m.p_alive([0, 2], [0.0, 30.43], [38.86, 38.86]).round(4)
    array([1.    , 0.7266])
    """

    def _rows(
        self, theta: FloatArray, data: _RFTData, with_grad: bool
    ) -> tuple[FloatArray, FloatArray]:
        """Per-row log-likelihood, eq. (6) of [1]_, and its gradient in (r, alpha, a, b)."""
        r, alpha, a, b = (float(v) for v in theta)
        xu, xi = data.xu, data.xi
        la_t = np.log(alpha + data.tu)[data.ti]
        la_tx = np.log(alpha + data.txu)[data.txi]
        rx = r + data.x
        a3 = -rx * la_t
        head = np.log(a) - np.log(b + np.maximum(xu, 1.0) - 1.0)
        a4 = np.where(data.pos, head[xi] - rx * la_tx, -np.inf)
        m = np.logaddexp(a3, a4)
        lx = gammaln(r + xu) - gammaln(r) + betaln(a, b + xu) - betaln(a, b) + r * np.log(alpha)
        ll = lx[xi] + m
        if not with_grad:
            return ll, np.empty(0)
        w4 = np.exp(a4 - m)  # posterior weight of "dropped out after the last purchase"
        inv_t = (1.0 / (alpha + data.tu))[data.ti]
        inv_tx = (1.0 / (alpha + data.txu))[data.txi]
        ab = digamma(a + b) - digamma(a + b + xu)
        inv_b = np.where(xu > 0, 1.0 / (b + np.maximum(xu, 1.0) - 1.0), 0.0)
        grad = np.empty((4, rx.shape[0])).T  # column-major: contiguous columns
        grad[:, 0] = (digamma(r + xu) - digamma(r) + np.log(alpha))[xi] - la_t + w4 * (la_t - la_tx)
        grad[:, 1] = r / alpha - rx * (inv_t + w4 * (inv_tx - inv_t))
        grad[:, 2] = ab[xi] + w4 / a
        grad[:, 3] = (digamma(b + xu) - digamma(b) + ab)[xi] - w4 * inv_b[xi]
        return ll, grad

    def p_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> FloatArray:
        """Probability that a customer with history (x, t_x, T) is still alive ([2]_).

        Computed as ``expit(-log_odds)`` so it stays in [0, 1] for any frequency.
        """
        r, alpha, a, b = self._params()
        x, tx, big_t = check_rft(frequency, recency, T, fit=False)
        log_odds = (
            (r + x) * np.log1p((big_t - tx) / (alpha + tx))
            + np.log(a)
            - np.log(b + np.maximum(x, 1.0) - 1.0)
        )
        return as_output(np.where(x > 0, expit(-log_odds), 1.0), x.shape)

    def expected_purchases(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """Expected repeat purchases in (T, T + t] given the history, eq. (10) of [1]_.

        Equal to ``p_alive * E[X(t)]`` of eq. (9) at the updated parameters
        ``(r + x, alpha + T, a, b + x)``; the hypergeometric part depends on (x, T) only and is
        evaluated once per distinct pair.
        """
        r, alpha, a, b = self._params()
        tt = check_horizon(t)
        x, _, big_t = check_rft(frequency, recency, T, fit=False)
        tt, x, big_t = np.broadcast_arrays(tt, x, big_t)
        (tu, xu, bu), inv = unique_inverse([tt, x, big_t])
        e_alive = bg_expectation(tu, r + xu, alpha + bu, a, b + xu)[inv]
        p = np.broadcast_to(self.p_alive(frequency, recency, T), x.shape).ravel()
        return as_output(p * e_alive, x.shape)

    def expected_purchases_new(self, t: ArrayLike) -> FloatArray:
        """Expected repeat purchases of a new customer in (0, t], eq. (9) of [1]_."""
        r, alpha, a, b = self._params()
        tt = check_horizon(t)
        return as_output(bg_expectation(tt.ravel(), r, alpha, a, b), tt.shape)

    def p_purchases(self, n: ArrayLike, t: ArrayLike) -> FloatArray:
        """Probability of exactly ``n`` repeat purchases in (0, t] for a new customer, eq. (8).

        The finite sum of eq. (8) is the survival function of a negative binomial, evaluated
        as a regularised incomplete beta function (no cancellation).
        """
        r, alpha, a, b = self._params()
        nn, tt = np.broadcast_arrays(check_counts(n, "n"), check_horizon(t))
        q = tt / (alpha + tt)
        log_nb = gammaln(r + nn) - gammaln(r) - gammaln(nn + 1.0) + r * np.log1p(-q) + xlogy(nn, q)
        first = np.exp(betaln(a, b + nn) - betaln(a, b) + log_nb)
        n1 = np.maximum(nn, 1.0)
        second = np.exp(betaln(a + 1.0, b + n1 - 1.0) - betaln(a, b)) * betainc(n1, r, q)
        return as_output(np.where(nn > 0, first + second, first), nn.shape)
