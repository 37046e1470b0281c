"""MBG/NBD: the modified BG/NBD of Batislam, Denizel and Filiztekin (2007).

Unlike the BG/NBD, a customer may also drop out right after the first purchase (at time 0),
so customers with no repeat purchase are not assumed alive.

References
----------
.. [1] Batislam, E. P., Denizel, M. and Filiztekin, A. (2007), "Empirical validation and
   comparison of models for customer base analysis", *International Journal of Research in
   Marketing* 24 (3), 201-209, Appendix A (likelihood; P(alive) eq. (5)).
.. [2] Wagner, U. and Hoppe, D. (2008), "Erratum on the MBG/NBD model", *International Journal
   of Research in Marketing* 25 (3), 225-226 (conditional expectation).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import betainc, betaln, digamma, expit, gammaln, xlogy

from ._validation import FloatArray, check_counts, check_horizon, check_rft
from .base import as_output, unique_inverse
from .bgnbd import _GammaBetaModel, _RFTData, bg_expectation

__all__ = ["MBGNBD"]


class MBGNBD(_GammaBetaModel):
    r"""MBG/NBD model (Batislam et al. 2007), lifetimes' ``ModifiedBetaGeoFitter``.

    Purchases follow a Poisson process with rate :math:`\lambda \sim \text{Gamma}(r,\alpha)`;
    at time 0 and after each purchase the customer drops out with probability
    :math:`p \sim \text{Beta}(a, b)`.

    Parameters
    ----------
    penalizer_coef, tol, max_iter, initial_params, max_shape
        As for :class:`~patron.analytics.clv.BGNBD`.

    Attributes
    ----------
    params_ : dict
        ``r``, ``alpha`` (caller's time unit), ``a``, ``b``.
    log_likelihood_, standard_errors_, converged_, n_iter_, n_
        As for :class:`~patron.analytics.clv.BGNBD`.

    References
    ----------
    .. [1] Batislam, Denizel and Filiztekin (2007), IJRM 24 (3), 201-209, Appendix A.
    .. [2] Wagner and Hoppe (2008), IJRM 25 (3), 225-226.

    Examples
    --------
    >>> m = MBGNBD.from_params(r=0.525, alpha=6.183, a=0.891, b=1.614)
    >>> m.p_alive([0, 2], [0.0, 30.43], [38.86, 38.86]).round(4)
    array([0.3897, 0.7062])
    """

    def _rows(
        self, theta: FloatArray, data: _RFTData, with_grad: bool
    ) -> tuple[FloatArray, FloatArray]:
        """Per-row log-likelihood (Batislam et al. 2007, Appendix A) and its gradient."""
        r, alpha, a, b = (float(v) for v in theta)
        xu, xi = data.xu, data.xi
        la_t = np.log(alpha + data.tu)[data.ti]
        gap = la_t - np.log(alpha + data.txu)[data.txi]  # log((alpha+T)/(alpha+t_x))
        rx = r + data.x
        a4 = (np.log(a) - np.log(b + xu))[xi] + rx * gap
        lx = (
            gammaln(r + xu)
            - gammaln(r)
            + gammaln(a + b)
            + gammaln(b + xu + 1.0)
            - gammaln(b)
            - gammaln(a + b + xu + 1.0)
            + r * np.log(alpha)
        )
        ll = lx[xi] - rx * la_t + np.logaddexp(a4, 0.0)
        if not with_grad:
            return ll, np.empty(0)
        sig = expit(a4)
        inv_t = (1.0 / (alpha + data.tu))[data.ti]
        inv_tx = (1.0 / (alpha + data.txu))[data.txi]
        ab = digamma(a + b) - digamma(a + b + xu + 1.0)
        grad = np.empty((4, rx.shape[0])).T  # column-major: contiguous columns
        grad[:, 0] = (digamma(r + xu) - digamma(r) + np.log(alpha))[xi] - la_t + sig * gap
        grad[:, 1] = r / alpha - rx * (inv_t + sig * (inv_tx - inv_t))
        grad[:, 2] = ab[xi] + sig / a
        grad[:, 3] = (ab + digamma(b + xu + 1.0) - digamma(b))[xi] - sig * (1.0 / (b + xu))[xi]
        return ll, grad

    def p_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> FloatArray:
        """P(alive | x, t_x, T), eq. (5) of [1]_.

        ``1 / (1 + a/(b+x) ((alpha+T)/(alpha+t_x))^(r+x))``, computed as an ``expit``.
        """
        r, alpha, a, b = self._params()
        x, tx, big_t = check_rft(frequency, recency, T, fit=False)
        log_odds = np.log(a) - np.log(b + x) + (r + x) * np.log1p((big_t - tx) / (alpha + tx))
        return as_output(expit(-log_odds), x.shape)

    def expected_purchases(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """Expected repeat purchases in (T, T + t] given the history (Wagner & Hoppe 2008).

        ``p_alive`` times the BG/NBD expectation at ``(r + x, alpha + T, a, b + x + 1)``.
        """
        r, alpha, a, b = self._params()
        tt = check_horizon(t)
        x, _, big_t = check_rft(frequency, recency, T, fit=False)
        tt, x, big_t = np.broadcast_arrays(tt, x, big_t)
        (tu, xu, bu), inv = unique_inverse([tt, x, big_t])
        e_alive = bg_expectation(tu, r + xu, alpha + bu, a, b + xu + 1.0)[inv]
        p = np.broadcast_to(self.p_alive(frequency, recency, T), x.shape).ravel()
        return as_output(p * e_alive, x.shape)

    def expected_purchases_new(self, t: ArrayLike) -> FloatArray:
        """Expected repeat purchases of a new customer in (0, t].

        ``b / (a - 1) [1 - (alpha/(alpha+t))^r 2F1(r, b+1; a+b; t/(alpha+t))]``, i.e. the
        probability ``b / (a + b)`` of surviving time 0 times a BG/NBD expectation.
        """
        r, alpha, a, b = self._params()
        tt = check_horizon(t)
        e = b / (a + b) * bg_expectation(tt.ravel(), r, alpha, a, b + 1.0)
        return as_output(e, tt.shape)

    def p_purchases(self, n: ArrayLike, t: ArrayLike) -> FloatArray:
        """Probability of exactly ``n`` repeat purchases in (0, t] for a new customer."""
        r, alpha, a, b = self._params()
        nn, tt = np.broadcast_arrays(check_counts(n, "n"), check_horizon(t))
        q = tt / (alpha + tt)
        log_nb = gammaln(r + nn) - gammaln(r) - gammaln(nn + 1.0) + r * np.log1p(-q) + xlogy(nn, q)
        first = np.exp(betaln(a, b + nn + 1.0) - betaln(a, b) + log_nb)
        survival = np.where(nn > 0, betainc(np.maximum(nn, 1.0), r, q), 1.0)
        second = np.exp(betaln(a + 1.0, b + nn) - betaln(a, b)) * survival
        return as_output(first + second, nn.shape)
