r"""Gamma-Gamma model of spend per transaction, and discounted customer lifetime value.

A customer's transaction values are Gamma(p, nu) with :math:`\nu \sim \text{Gamma}(q, v)`
across customers; the mean spend :math:`\bar m` over :math:`x` transactions is therefore
Gamma(px, nu x), which gives the likelihood of the observed means.

References
----------
.. [1] Fader, P. S. and Hardie, B. G. S. (2013), "The Gamma-Gamma Model of Monetary Value",
   http://brucehardie.com/notes/025/ : likelihood eq. (1a), conditional expectation eq. (5).
.. [2] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005), "RFM and CLV: Using Iso-Value
   Curves for Customer Base Analysis", *Journal of Marketing Research* 42 (4), 415-430.
"""

from __future__ import annotations

from typing import ClassVar, Protocol, Self

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import digamma, gammaln

from ._validation import FloatArray, as_float, check_counts, check_weights
from .base import _Model, as_output, compress_rows, summed_loglik

__all__ = ["PERIODS_PER_MONTH", "GammaGamma", "TransactionModel"]

#: Model time units per month for :meth:`GammaGamma.clv` (a month is 30.4375 days, as in
#: :mod:`patron.analytics.clv.data`).
PERIODS_PER_MONTH = {"days": 30.4375, "weeks": 30.4375 / 7.0, "months": 1.0}
_LIFETIMES_FREQ = {"W": 4.345, "M": 1.0, "D": 30.0, "H": 30.0 * 24.0}


class TransactionModel(Protocol):
    """Anything with a conditional expectation of future purchases (BG/NBD, Pareto/NBD, ...)."""

    def expected_purchases(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray: ...


class GammaGamma(_Model):
    r"""Gamma-Gamma model of average spend (Fader & Hardie 2013; Fader, Hardie & Lee 2005).

    Fit on repeat customers only (``frequency > 0``) with their mean spend per repeat
    purchase. Internally spend is rescaled to mean 1 (``v`` is reported in the caller's
    currency).

    Parameters
    ----------
    penalizer_coef, tol, max_iter, initial_params, max_shape
        As for :class:`~patron.analytics.clv.BGNBD`.

    Attributes
    ----------
    params_ : dict
        ``p``, ``q``, ``v`` (``v`` in the caller's currency).
    log_likelihood_ : float
        Total log-likelihood of the observed mean spends, eq. (1a) of [1]_.
    standard_errors_, converged_, n_iter_, n_
        As for :class:`~patron.analytics.clv.BGNBD`.

    Notes
    -----
    With ``q <= 1`` the fitted population has no finite mean spend: :meth:`expected_spend`
    then returns ``inf`` where ``p x + q <= 1`` instead of lifetimes' negative values (#146).

    References
    ----------
    .. [1] Fader and Hardie (2013), "The Gamma-Gamma Model of Monetary Value", eqs. (1a), (5).
    .. [2] Fader, Hardie and Lee (2005), Journal of Marketing Research 42 (4), 415-430.

    Examples
    --------
    >>> gg = GammaGamma.from_params(p=6.25, q=3.74, v=15.44)
    >>> gg.expected_spend([0, 2], [0.0, 30.0]).round(2)
    array([35.22, 30.94])
    """

    _param_names: ClassVar[tuple[str, ...]] = ("p", "q", "v")
    _shape_names: ClassVar[tuple[str, ...]] = ("p", "q")

    def fit(
        self, frequency: ArrayLike, monetary_value: ArrayLike, *, weights: ArrayLike | None = None
    ) -> Self:
        """Fit on repeat customers: ``frequency >= 1`` and mean spend ``monetary_value > 0``.

        Raises
        ------
        ValueError
            On invalid inputs (the message names the argument).
        ConvergenceError
            If the optimiser does not reach a finite, interior maximum.
        """
        self._check_hyperparameters()
        x = check_counts(frequency, "frequency", minimum=1)
        m = as_float(monetary_value, "monetary_value")
        if m.shape != x.shape:
            raise ValueError(
                f"frequency and monetary_value must have the same shape, got {x.shape} and "
                f"{m.shape}"
            )
        if x.size == 0:
            raise ValueError("frequency is empty: there are no repeat customers to fit")
        if np.min(m) <= 0:
            raise ValueError("monetary_value must be > 0 (fit on repeat customers only)")
        w = check_weights(weights, x.shape)
        scale = float(np.sum(w) / np.sum(w * m.ravel()))
        (xu, mu), wu = compress_rows(
            [x.ravel(), m.ravel() * scale], None if weights is None else w.ravel()
        )

        self._fit_loglik(
            summed_loglik(wu, lambda theta, part: _gg_rows(theta, xu[part], mu[part], True)),
            total_weight=float(np.sum(w)),
            unit_factors=np.array([1.0, 1.0, 1.0 / scale]),
            ll_offset=float(np.sum(w)) * np.log(scale),
            start=np.array([1.0, 1.0, 1.0]),
        )
        return self

    def _check_spend(
        self, frequency: ArrayLike, monetary_value: ArrayLike
    ) -> tuple[FloatArray, FloatArray]:
        x = check_counts(frequency, "frequency")
        m = as_float(monetary_value, "monetary_value")
        try:
            x, m = np.broadcast_arrays(x, m)
        except ValueError:
            raise ValueError(
                f"frequency and monetary_value have incompatible shapes: {x.shape}, {m.shape}"
            ) from None
        if np.any((x > 0) & (m <= 0)) or np.any(m < 0):
            raise ValueError("monetary_value must be > 0 where frequency > 0 (and never < 0)")
        return x, m

    def loglik(self, frequency: ArrayLike, monetary_value: ArrayLike) -> FloatArray:
        """Log-density of each repeat customer's mean spend, eq. (1a) of [1]_."""
        theta = np.array(self._params())
        x, m = self._check_spend(frequency, monetary_value)
        if x.size and np.min(x) < 1:
            raise ValueError("frequency must be >= 1: the likelihood covers repeat customers")
        return as_output(_gg_rows(theta, x.ravel(), m.ravel(), False)[0], x.shape)

    def expected_spend(self, frequency: ArrayLike, monetary_value: ArrayLike) -> FloatArray:
        r"""Expected mean spend per transaction given (x, m), eq. (5) of [1]_.

        :math:`E[M \mid x, \bar m] = \frac{p (v + x \bar m)}{p x + q - 1}`, a weighted mean of
        the population mean :math:`p v / (q - 1)` and the customer's own :math:`\bar m`.
        Returns ``inf`` where ``p x + q <= 1`` (no finite mean). ``frequency = 0`` gives the
        population mean (``monetary_value`` is then ignored).
        """
        p, q, v = self._params()
        x, m = self._check_spend(frequency, monetary_value)
        den = p * x + q - 1.0
        safe = np.where(den > 0, den, 1.0)
        out = np.where(den > 0, p * (v + x * m) / safe, np.inf)
        return as_output(out, x.shape)

    def clv(
        self,
        transaction_model: TransactionModel,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        monetary_value: ArrayLike,
        *,
        months: int = 12,
        discount_rate: float = 0.01,
        time_unit: str = "days",
        margin: float = 1.0,
    ) -> FloatArray:
        r"""Expected discounted margin over the next ``months`` months, per customer.

        .. math:: \text{CLV} = \text{margin}\; E[M \mid x, \bar m]
                  \sum_{i=1}^{\text{months}} \frac{E[Y(i f)] - E[Y((i-1) f)]}
                  {(1 + \text{discount\_rate})^i}

        where ``E[Y(t)]`` is ``transaction_model.expected_purchases`` and ``f`` the number of
        model time units per month (``time_unit``: days, weeks or months; a month is 30.4375
        days). Same definition as lifetimes' ``customer_lifetime_value``, vectorised over
        customers (the only loop is over months).
        """
        if time_unit not in PERIODS_PER_MONTH:
            raise ValueError(f"time_unit must be one of {sorted(PERIODS_PER_MONTH)}")
        return self._clv(
            transaction_model,
            frequency,
            recency,
            T,
            monetary_value,
            months=months,
            discount_rate=discount_rate,
            factor=PERIODS_PER_MONTH[time_unit],
            margin=margin,
        )

    def _clv(
        self,
        model: TransactionModel,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        monetary_value: ArrayLike,
        *,
        months: int,
        discount_rate: float,
        factor: float,
        margin: float,
    ) -> FloatArray:
        if not (isinstance(months, int) and months >= 0):
            raise ValueError(f"months must be an integer >= 0, got {months!r}")
        if not (np.isfinite(discount_rate) and discount_rate > -1):
            raise ValueError(f"discount_rate must be finite and > -1, got {discount_rate!r}")
        if not (np.isfinite(margin) and margin >= 0):
            raise ValueError(f"margin must be finite and >= 0, got {margin!r}")
        spend = self.expected_spend(frequency, monetary_value) * margin
        previous = model.expected_purchases(0.0, frequency, recency, T)
        discounted = np.zeros(np.broadcast(spend, previous).shape)
        for i in range(1, months + 1):
            current = model.expected_purchases(i * factor, frequency, recency, T)
            discounted = discounted + (current - previous) / (1.0 + discount_rate) ** i
            previous = current
        positive = discounted > 0
        out = np.where(positive, np.where(positive, spend, 0.0) * discounted, 0.0)
        return np.asarray(out, dtype=np.float64)

    # lifetimes-compatible names
    def conditional_expected_average_profit(
        self, frequency: ArrayLike, monetary_value: ArrayLike
    ) -> FloatArray:
        """Alias of :meth:`expected_spend` (lifetimes' name)."""
        return self.expected_spend(frequency, monetary_value)

    def customer_lifetime_value(
        self,
        transaction_prediction_model: TransactionModel,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        monetary_value: ArrayLike,
        time: int = 12,
        discount_rate: float = 0.01,
        freq: str = "D",
    ) -> FloatArray:
        """lifetimes' ``customer_lifetime_value`` (its month lengths: D=30, W=4.345, M=1, H=720)."""
        if freq not in _LIFETIMES_FREQ:
            raise ValueError(f"freq must be one of {sorted(_LIFETIMES_FREQ)}")
        return self._clv(
            transaction_prediction_model,
            frequency,
            recency,
            T,
            monetary_value,
            months=time,
            discount_rate=discount_rate,
            factor=_LIFETIMES_FREQ[freq],
            margin=1.0,
        )


def _gg_rows(
    theta: FloatArray, x: FloatArray, m: FloatArray, with_grad: bool
) -> tuple[FloatArray, FloatArray]:
    """Log-density of the mean spend ``m`` over ``x`` transactions, eq. (1a), and gradient."""
    p, q, v = (float(t) for t in theta)
    px = p * x
    lxm = np.log(x * m + v)
    ll = (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(v)
        + (px - 1.0) * np.log(m)
        + px * np.log(x)
        - (px + q) * lxm
    )
    if not with_grad:
        return ll, np.empty(0)
    dpq = digamma(px + q)
    grad = np.column_stack(
        [
            x * (dpq - digamma(px) + np.log(m) + np.log(x) - lxm),
            dpq - digamma(q) + np.log(v) - lxm,
            q / v - (px + q) / (x * m + v),
        ]
    )
    return ll, grad
