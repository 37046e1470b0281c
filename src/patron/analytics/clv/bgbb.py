r"""BG/BB: beta-geometric / beta-binomial model for discrete transaction opportunities.

At each of ``n`` opportunities an alive customer transacts with probability
:math:`p \sim \text{Beta}(\alpha, \beta)`; before each opportunity they drop out with
probability :math:`\theta \sim \text{Beta}(\gamma, \delta)`. Data per customer: ``x``
transactions, the last at opportunity ``t_x``, out of ``n``.

All expressions are sums of positive beta-function ratios, evaluated with ``logsumexp``.
Eq. (13)'s factor :math:`\delta/(\gamma-1)[\dots]` is telescoped into a positive sum, so it
stays exact at :math:`\gamma = 1`.

References
----------
.. [1] Fader, P. S., Hardie, B. G. S. and Shang, J. (2010), "Customer-Base Analysis in a
   Discrete-Time Noncontractual Setting", *Marketing Science* 29 (6), 1086-1108:
   likelihood (Section 3), P(X(n) = x) eq. (7), E[X(n)] eq. (8), conditional expectation
   eq. (13), P(alive) eq. (A10).
"""

from __future__ import annotations

from typing import ClassVar, Self

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import betaln, digamma, gammaln, logsumexp

from ._validation import FloatArray, check_counts, check_weights
from .base import _Model, as_output, compress_rows, summed_loglik

__all__ = ["BGBB"]


def _check_xtn(
    frequency: ArrayLike, recency: ArrayLike, n_periods: ArrayLike, *, fit: bool
) -> tuple[FloatArray, FloatArray, FloatArray]:
    x = check_counts(frequency, "frequency")
    tx = check_counts(recency, "recency")
    n = check_counts(n_periods, "n_periods")
    if fit:
        if not (x.shape == tx.shape == n.shape):
            raise ValueError(
                "frequency, recency and n_periods must have the same shape, got "
                f"{x.shape}, {tx.shape} and {n.shape}"
            )
        if x.size == 0:
            raise ValueError("frequency is empty: there are no customers to fit")
    try:
        x, tx, n = (np.asarray(v) for v in np.broadcast_arrays(x, tx, n))
    except ValueError:
        raise ValueError(
            f"frequency, recency and n_periods have incompatible shapes: {x.shape}, "
            f"{tx.shape}, {n.shape}"
        ) from None
    if np.any(x > tx):
        raise ValueError("frequency must be <= recency (x transactions end at opportunity t_x)")
    if np.any(tx > n):
        raise ValueError("recency must be <= n_periods")
    if np.any((x == 0) & (tx != 0)):
        raise ValueError("recency must be 0 where frequency is 0")
    return x, tx, n


def _beta_grads(
    p: tuple[float, float, float, float],
    x: FloatArray,
    ya: FloatArray,
    e: float,
    yg: FloatArray,
) -> list[FloatArray]:
    """d/d(alpha, beta, gamma, delta) of log B(alpha+x, beta+ya) + log B(gamma+e, delta+yg)."""
    al, be, ga, de = p
    s_ab = digamma(al + be + x + ya)
    s_gd = digamma(ga + de + e + yg)
    return [
        digamma(al + x) - s_ab,
        digamma(be + ya) - s_ab,
        digamma(ga + e) - s_gd,
        digamma(de + yg) - s_gd,
    ]


def _bgbb_rows(
    theta: FloatArray, x: FloatArray, tx: FloatArray, n: FloatArray, with_grad: bool
) -> tuple[FloatArray, FloatArray]:
    """Per-row log-likelihood (alive term + sum over drop-out times) and gradient."""
    al, be, ga, de = (float(v) for v in theta)
    norm = betaln(al, be) + betaln(ga, de)
    k = int(np.max(n - tx)) if x.size else 0
    i = np.arange(k, dtype=np.float64)[None, :]
    valid = i < (n - tx)[:, None]
    ya = (tx - x)[:, None] + i
    yg = tx[:, None] + i
    xx = x[:, None]
    dead = betaln(al + xx, be + ya) + betaln(ga + 1.0, de + yg)
    alive = betaln(al + x, be + n - x) + betaln(ga, de + n)
    terms = np.concatenate([alive[:, None], np.where(valid, dead, -np.inf)], axis=1)
    lse = logsumexp(terms, axis=1)
    ll = lse - norm
    if not with_grad:
        return ll, np.empty(0)
    w = np.exp(terms - lse[:, None])
    p = (al, be, ga, de)
    g_alive = _beta_grads(p, x, n - x, 0.0, n)
    g_dead = _beta_grads(p, xx, ya, 1.0, yg)
    base = [
        digamma(al) - digamma(al + be),
        digamma(be) - digamma(al + be),
        digamma(ga) - digamma(ga + de),
        digamma(de) - digamma(ga + de),
    ]
    grad = np.empty((x.shape[0], 4))
    for j in range(4):
        grad[:, j] = w[:, 0] * g_alive[j] + np.sum(w[:, 1:] * g_dead[j], axis=1) - base[j]
    return ll, grad


class BGBB(_Model):
    r"""BG/BB model (Fader, Hardie & Shang 2010), lifetimes' ``BetaGeoBetaBinomFitter``.

    Parameters
    ----------
    penalizer_coef, tol, max_iter, initial_params, max_shape
        As for :class:`~patron.analytics.clv.BGNBD` (no time rescaling: opportunities are
        already discrete).

    Attributes
    ----------
    params_ : dict
        ``alpha``, ``beta``, ``gamma``, ``delta``.
    log_likelihood_, standard_errors_, converged_, n_iter_, n_
        As for :class:`~patron.analytics.clv.BGNBD`.

    References
    ----------
    .. [1] Fader, Hardie and Shang (2010), Marketing Science 29 (6), 1086-1108,
       eqs. (7), (8), (13), (A10).

    Examples
    --------
    >>> m = BGBB.from_params(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
    >>> m.p_alive([0, 6], [0, 6], [6, 6]).round(3)
    array([0.116, 1.   ])
    """

    _param_names: ClassVar[tuple[str, ...]] = ("alpha", "beta", "gamma", "delta")
    _shape_names: ClassVar[tuple[str, ...]] = ("alpha", "beta", "gamma", "delta")

    def fit(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        n_periods: ArrayLike,
        *,
        weights: ArrayLike | None = None,
    ) -> Self:
        """Fit on (x transactions, last at opportunity t_x, out of n_periods) rows.

        Raises
        ------
        ValueError
            On invalid inputs (the message names the argument).
        ConvergenceError
            If the optimiser does not reach a finite, interior maximum.
        """
        self._check_hyperparameters()
        x, tx, n = _check_xtn(frequency, recency, n_periods, fit=True)
        w = check_weights(weights, x.shape)
        (xu, txu, nu), wu = compress_rows(
            [x.ravel(), tx.ravel(), n.ravel()], None if weights is None else w.ravel()
        )

        def rows(theta: FloatArray, part: slice) -> tuple[FloatArray, FloatArray]:
            return _bgbb_rows(theta, xu[part], txu[part], nu[part], True)

        self._fit_loglik(
            summed_loglik(wu, rows),
            total_weight=float(np.sum(w)),
            unit_factors=np.ones(4),
            ll_offset=0.0,
            start=np.ones(4),
        )
        return self

    def loglik(self, frequency: ArrayLike, recency: ArrayLike, n_periods: ArrayLike) -> FloatArray:
        """Log-likelihood of each customer's (x, t_x, n) history."""
        theta = np.array(self._params())
        x, tx, n = _check_xtn(frequency, recency, n_periods, fit=False)
        return as_output(_bgbb_rows(theta, x.ravel(), tx.ravel(), n.ravel(), False)[0], x.shape)

    def p_alive(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        n_periods: ArrayLike,
        *,
        m_periods_in_future: ArrayLike = 0,
    ) -> FloatArray:
        """P(alive at opportunity n + m | x, t_x, n), eq. (A10) of [1]_ (``m = 0``: now)."""
        al, be, ga, de = self._params()
        m = check_counts(m_periods_in_future, "m_periods_in_future")
        x, tx, n = _check_xtn(frequency, recency, n_periods, fit=False)
        m, x, tx, n = np.broadcast_arrays(m, x, tx, n)
        ll = _bgbb_rows(np.array([al, be, ga, de]), x.ravel(), tx.ravel(), n.ravel(), False)[0]
        log_p = (
            betaln(al + x, be + n - x) - betaln(al, be) + betaln(ga, de + n + m) - betaln(ga, de)
        ).ravel() - ll
        return as_output(np.minimum(np.exp(log_p), 1.0), x.shape)

    def expected_purchases(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, n_periods: ArrayLike
    ) -> FloatArray:
        r"""Expected transactions in the next ``t`` opportunities given (x, t_x, n), eq. (13).

        Eq. (13)'s :math:`\frac{\delta}{\gamma-1}\frac{\Gamma(\gamma+\delta)}{\Gamma(1+\delta)}
        [\frac{\Gamma(1+\delta+n)}{\Gamma(\gamma+\delta+n)} - \frac{\Gamma(1+\delta+n+t)}
        {\Gamma(\gamma+\delta+n+t)}]` equals :math:`\sum_{j=1}^{t} B(\gamma, \delta+n+j) /
        B(\gamma, \delta)` (survival to each future opportunity), summed in log space.
        """
        al, be, ga, de = self._params()
        tt = check_counts(t, "t")
        x, tx, n = _check_xtn(frequency, recency, n_periods, fit=False)
        arrays = np.broadcast_arrays(tt, x, tx, n)
        shape = arrays[0].shape
        tt, x, tx, n = (v.ravel() for v in arrays)
        ll = _bgbb_rows(np.array([al, be, ga, de]), x, tx, n, False)[0]
        log_future = np.full(x.shape, -np.inf)
        for j in range(1, int(np.max(tt, initial=0)) + 1):
            term = betaln(ga, de + n + j) - betaln(ga, de)
            log_future = np.where(j <= tt, np.logaddexp(log_future, term), log_future)
        log_e = betaln(al + x + 1.0, be + n - x) - betaln(al, be) - ll + log_future
        return as_output(np.exp(log_e), shape)

    def expected_purchases_new(self, t: ArrayLike) -> FloatArray:
        r"""Expected transactions of a new customer in the first ``t`` opportunities, eq. (8).

        Written as :math:`\frac{\alpha}{\alpha+\beta}\sum_{j=1}^{t} B(\gamma, \delta+j) /
        B(\gamma, \delta)`, exact at :math:`\gamma = 1` too.
        """
        al, be, ga, de = self._params()
        tt = check_counts(t, "t")
        top = int(np.max(tt, initial=0))
        j = np.arange(1, top + 1, dtype=np.float64)
        cum = np.concatenate([[0.0], np.cumsum(np.exp(betaln(ga, de + j) - betaln(ga, de)))])
        return as_output(al / (al + be) * cum[tt.astype(np.int64)], tt.shape)

    def p_purchases(self, n: ArrayLike, t: ArrayLike) -> FloatArray:
        """Probability of exactly ``n`` transactions in the first ``t`` opportunities, eq. (7)."""
        al, be, ga, de = self._params()
        arrays = np.broadcast_arrays(check_counts(n, "n"), check_counts(t, "t"))
        shape = arrays[0].shape
        nn, tt = (v.ravel() for v in arrays)
        norm = betaln(al, be) + betaln(ga, de)
        ok = nn <= tt
        x = np.where(ok, nn, 0.0)
        total = (
            gammaln(tt + 1)
            - gammaln(x + 1)
            - gammaln(tt - x + 1)
            + betaln(al + x, be + tt - x)
            + betaln(ga, de + tt)
        )
        top = int(np.max(tt, initial=0))
        for i in range(top):
            use = ok & (i >= x) & (i < tt)
            term = (
                gammaln(i + 1.0)
                - gammaln(x + 1)
                - gammaln(np.maximum(i - x, 0.0) + 1)
                + betaln(al + x, be + np.maximum(i - x, 0.0))
                + betaln(ga + 1.0, de + i)
            )
            total = np.where(use, np.logaddexp(total, term), total)
        return as_output(np.where(ok, np.exp(total - norm), 0.0), shape)

    # lifetimes-compatible names (its argument order: future opportunities first)
    def conditional_expected_number_of_purchases_up_to_time(
        self,
        m_periods_in_future: ArrayLike,
        frequency: ArrayLike,
        recency: ArrayLike,
        n_periods: ArrayLike,
    ) -> FloatArray:
        """Alias of :meth:`expected_purchases` (lifetimes' name)."""
        return self.expected_purchases(m_periods_in_future, frequency, recency, n_periods)

    def conditional_probability_alive(
        self,
        m_periods_in_future: ArrayLike,
        frequency: ArrayLike,
        recency: ArrayLike,
        n_periods: ArrayLike,
    ) -> FloatArray:
        """Alias of :meth:`p_alive` with lifetimes' argument order."""
        return self.p_alive(frequency, recency, n_periods, m_periods_in_future=m_periods_in_future)
