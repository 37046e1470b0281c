"""Fitting machinery shared by the CLV models.

Maximum likelihood runs on *compressed* data: identical customer rows are collapsed into one
row with a weight (their count), so the cost of an iteration follows the number of distinct
histories, not the number of customers. The optimiser is L-BFGS-B on log-parameters with the
models' analytic gradients; standard errors come from the Hessian of the (penalised) negative
log-likelihood at the optimum, obtained by forward differences of that analytic gradient, and
the delta method (``se(theta) = theta * se(log theta)``), as in lifetimes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import ClassVar, Generic, Self, TypeVar

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import OptimizeResult, minimize
from threadpoolctl import threadpool_limits

from ._compress import compress_rows, unique_inverse
from ._validation import FloatArray, check_params, check_rft, check_weights

__all__ = [
    "FIT_CHUNK_ROWS",
    "ConvergenceError",
    "LoglikFn",
    "NotFittedError",
    "compress_rows",
    "unique_inverse",
]

#: ``theta -> (sum of weighted log-likelihoods, its gradient with respect to theta)``.
LoglikFn = Callable[[FloatArray], tuple[float, FloatArray]]

_LOG_BOUND = 20.0  # log-parameters live in [-20, 20] (internal, time-rescaled units)
_AT_BOUND = 1e-6


class NotFittedError(ValueError, AttributeError):
    """A predict-style method was called before ``fit`` (or ``from_params``)."""


class ConvergenceError(RuntimeError):
    """The optimiser did not reach a finite, interior maximum of the likelihood.

    Attributes
    ----------
    result : scipy.optimize.OptimizeResult or None
        The last optimiser result, for inspection (``result.x`` holds log-parameters in the
        model's internal, time-rescaled units).
    """

    def __init__(self, message: str, result: OptimizeResult | None = None) -> None:
        super().__init__(message)
        self.result = result


def weighted_sums(
    weights: FloatArray, ll: FloatArray, grad: FloatArray
) -> tuple[float, FloatArray]:
    """``(sum w * ll, sum w * grad)`` without BLAS.

    ``weights @ grad`` goes to a multithreaded BLAS gemv, which on a busy machine spins its
    threads and ran 10-20 times slower here than this single-threaded ``einsum`` loop.
    """
    total = float(np.einsum("i,i->", weights, ll))
    return total, np.asarray(np.einsum("i,ij->j", weights, grad), dtype=np.float64)


#: Rows a fit's likelihood is evaluated on at once. Each evaluation makes a few dozen
#: temporary arrays as long as the rows it sees; in chunks their memory stays bounded however
#: many rows a fit has (Spark's driver fits a few hundred thousand). Fits on fewer rows (every
#: shop-sized data set) evaluate them all at once, as before.
FIT_CHUNK_ROWS = 65_536


def summed_loglik(
    weights: FloatArray, rows: Callable[[FloatArray, slice], tuple[FloatArray, FloatArray]]
) -> LoglikFn:
    """``theta -> (sum w * ll, sum w * grad)`` over the rows, a chunk of
    :data:`FIT_CHUNK_ROWS` at a time; ``rows(theta, part)`` gives the per-row log-likelihoods
    and gradients of the rows ``part``."""
    n = weights.shape[0]
    parts = [slice(i, min(n, i + FIT_CHUNK_ROWS)) for i in range(0, n, FIT_CHUNK_ROWS)]
    if len(parts) <= 1:
        whole = slice(0, n)
        return lambda theta: weighted_sums(weights, *rows(theta, whole))

    def loglik(theta: FloatArray) -> tuple[float, FloatArray]:
        total, grad = 0.0, np.zeros(theta.shape[0])
        for part in parts:
            ll, g = weighted_sums(weights[part], *rows(theta, part))
            total += ll
            grad += g
        return total, grad

    return loglik


class _Model:
    """Shared estimator behaviour: hyperparameters, optimisation, fitted attributes.

    Subclasses define ``_param_names`` and call :meth:`_fit_loglik` from ``fit``.
    """

    _param_names: ClassVar[tuple[str, ...]]
    #: The shape parameters of the mixing distributions (no time unit), which ``max_shape``
    #: bounds.
    _shape_names: ClassVar[tuple[str, ...]] = ()

    params_: dict[str, float]
    log_likelihood_: float
    standard_errors_: dict[str, float]
    converged_: bool
    n_iter_: int
    n_: int

    def __init__(
        self,
        *,
        penalizer_coef: float = 0.0,
        tol: float = 1e-9,
        max_iter: int = 2000,
        initial_params: Mapping[str, float] | None = None,
        max_shape: float | None = None,
    ) -> None:
        self.penalizer_coef = penalizer_coef
        self.tol = tol
        self.max_iter = max_iter
        self.initial_params = initial_params
        self.max_shape = max_shape

    def __repr__(self) -> str:
        name = type(self).__name__
        params = getattr(self, "params_", None)
        if params is None:
            return f"{name}(penalizer_coef={self.penalizer_coef})"
        shown = ", ".join(f"{k}={v:.4g}" for k, v in params.items())
        return f"<{name} fitted: {shown}>"

    @classmethod
    def from_params(cls, **params: float) -> Self:
        """Build a model from known parameters (in the caller's units), without data.

        Only ``params_`` is set; the fit diagnostics (``log_likelihood_``, ...) stay unset.
        """
        model = cls()
        model.params_ = check_params(params, cls._param_names)
        return model

    def _params(self) -> tuple[float, ...]:
        params = getattr(self, "params_", None)
        if params is None:
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet: call fit() or from_params() first"
            )
        return tuple(params[k] for k in self._param_names)

    def _check_hyperparameters(self) -> None:
        pen = self.penalizer_coef
        if not (isinstance(pen, int | float) and np.isfinite(pen) and pen >= 0):
            raise ValueError(f"penalizer_coef must be a finite number >= 0, got {pen!r}")
        if not (isinstance(self.tol, int | float) and 0 < self.tol < 1):
            raise ValueError(f"tol must be in (0, 1), got {self.tol!r}")
        if not (isinstance(self.max_iter, int) and self.max_iter >= 1):
            raise ValueError(f"max_iter must be an integer >= 1, got {self.max_iter!r}")
        if self.initial_params is not None:
            check_params(self.initial_params, self._param_names)
        shape = self.max_shape
        if shape is not None and not (
            isinstance(shape, int | float) and np.isfinite(shape) and shape > 1
        ):
            raise ValueError(f"max_shape must be a finite number > 1 or None, got {shape!r}")

    def _log_bounds(self) -> list[tuple[float, float]]:
        """Bounds of the internal log-parameters: ``±_LOG_BOUND``, and ``log(max_shape)``
        above for the shape parameters when it is set. A shape running off to infinity (with
        its scale) is a ridge of the likelihood: the customers' rates are all alike and only
        the ratio of shape and scale is identified. Where the optimiser stops on it, and
        whether that point passes the Hessian check, is a matter of rounding, and each step
        out there is costly (a hypergeometric argument near 1). Towards 0 a shape is left
        free: a drop-out nobody shows (a beta's ``a`` near 0) still predicts well."""
        top = _LOG_BOUND if self.max_shape is None else min(_LOG_BOUND, np.log(self.max_shape))
        return [
            (-_LOG_BOUND, top if name in self._shape_names else _LOG_BOUND)
            for name in self._param_names
        ]

    def _fit_loglik(
        self,
        loglik: LoglikFn,
        *,
        total_weight: float,
        unit_factors: FloatArray,
        ll_offset: float,
        start: FloatArray,
    ) -> None:
        """Maximise ``loglik`` and set the fitted attributes.

        Parameters
        ----------
        loglik : callable
            Total weighted log-likelihood and gradient in internal units ``theta``.
        total_weight : float
            Sum of the customer weights; the objective is the mean negative log-likelihood.
        unit_factors : ndarray
            ``theta_caller = theta * unit_factors`` (time rescaling).
        ll_offset : float
            Added to the internal log-likelihood to express it in the caller's units.
        start : ndarray
            Default starting point (internal units), used when ``initial_params`` is None.
        """
        pen = float(self.penalizer_coef)

        def objective(log_theta: FloatArray) -> tuple[float, FloatArray]:
            theta = np.exp(log_theta)
            ll, grad = loglik(theta)
            f = -ll / total_weight + pen * float(np.sum(theta**2))
            g = (-grad / total_weight + 2.0 * pen * theta) * theta
            if not (np.isfinite(f) and np.all(np.isfinite(g))):
                return np.inf, np.zeros_like(log_theta)
            return f, g

        starts = [np.log(start), np.log(start) - 1.0, np.log(start) + 1.0]
        if self.initial_params is not None:
            given = np.array([self.initial_params[k] for k in self._param_names], dtype=float)
            starts = [np.log(given / unit_factors)]
        result = _minimize(
            objective,
            starts,
            tol=float(self.tol),
            max_iter=int(self.max_iter),
            bounds=self._log_bounds(),
        )
        theta = np.exp(result.x)
        hess = _hessian(objective, result.x, result.jac)
        eig = np.linalg.eigvalsh(hess)
        if not (np.all(np.isfinite(eig)) and eig.min() > 1e-10 * max(eig.max(), 1.0)):
            raise ConvergenceError(
                "The likelihood has no strict maximum here (its Hessian is singular or not "
                f"positive definite; log-parameters {np.round(result.x, 3).tolist()}): the data "
                "do not identify every parameter. Try penalizer_coef > 0 or another model.",
                result,
            )
        cov_log = np.linalg.inv(hess) / total_weight
        se_log = np.sqrt(np.maximum(np.diag(cov_log), 0.0))
        caller = theta * unit_factors
        self.params_ = dict(zip(self._param_names, caller.tolist(), strict=True))
        self.standard_errors_ = dict(
            zip(self._param_names, (caller * se_log).tolist(), strict=True)
        )
        mean_nll = float(result.fun) - pen * float(np.sum(theta**2))
        self.log_likelihood_ = -mean_nll * total_weight + ll_offset
        self.converged_ = True
        self.n_iter_ = int(result.nit)
        self.n_ = round(total_weight)


def _minimize(
    objective: Callable[[FloatArray], tuple[float, FloatArray]],
    starts: list[FloatArray],
    *,
    tol: float,
    max_iter: int,
    bounds: list[tuple[float, float]],
) -> OptimizeResult:
    """L-BFGS-B from each start in turn; return the first converged, interior solution.

    BLAS runs on one thread meanwhile: L-BFGS-B's linear algebra is on matrices of a few
    dozen rows, which OpenBLAS would still hand to its thread pool, and waking the pool for
    each of hundreds of steps cost more than the whole fit (1.4 s of CPU for 8 customers).
    """
    with threadpool_limits(limits=1, user_api="blas"):
        return _minimize_starts(objective, starts, tol=tol, max_iter=max_iter, bounds=bounds)


def _minimize_starts(
    objective: Callable[[FloatArray], tuple[float, FloatArray]],
    starts: list[FloatArray],
    *,
    tol: float,
    max_iter: int,
    bounds: list[tuple[float, float]],
) -> OptimizeResult:
    lower = np.array([lo for lo, _ in bounds])
    upper = np.array([hi for _, hi in bounds])
    last: OptimizeResult | None = None
    best: OptimizeResult | None = None
    for x0 in starts:
        f0, _ = objective(x0)
        if not np.isfinite(f0):
            continue
        edge = _EdgeStop(lower, upper)
        res = minimize(
            objective,
            np.clip(x0, lower + 1, upper - 1),
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": max_iter, "ftol": 1e-15, "gtol": tol, "maxcor": 20},
            callback=edge,
        )
        if edge.stopped:  # converged along an edge: reported as at a bound below
            res.x, res.fun, res.success = edge.x, edge.fun, True
        # A line search that stalls at machine precision next to the optimum is a success.
        if not res.success and np.isfinite(res.fun):
            gnorm = float(np.max(np.abs(res.jac)))
            res.success = bool(res.nit < max_iter and gnorm < max(1e3 * tol, 1e-6))
        last = res
        if res.success and np.isfinite(res.fun):
            interior = np.all((res.x > lower + _AT_BOUND) & (res.x < upper - _AT_BOUND))
            if interior and not edge.ridge:
                return res
            if best is None or res.fun < best.fun:
                best = res
            break  # every start follows the likelihood to the same edge
    if best is not None:
        raise ConvergenceError(
            "The likelihood keeps increasing as a parameter goes to 0 or infinity "
            f"(log-parameters {np.round(best.x, 3).tolist()} at a bound or on the way to "
            "one, "
            f"{np.round(lower, 3).tolist()} to {np.round(upper, 3).tolist()}); "
            "the data do not identify the model. Try penalizer_coef > 0 or another model.",
            best,
        )
    message = last.message if last is not None else "the objective is not finite at any start"
    raise ConvergenceError(f"The model did not converge: {message}", last)


#: A step of at least this (in log-parameters) that gains at most ``_RIDGE_GAIN`` of the
#: objective is a step along a ridge; ``_RIDGE_STEPS`` of them in a row end the run.
_RIDGE_STEP = 0.1
_RIDGE_GAIN = 1e-12
_RIDGE_STEPS = 3


class _EdgeStop:
    """Ends a run once an iteration at a bound gains nothing, or once it keeps walking along a
    ridge towards one.

    At a bound, L-BFGS-B would go on searching along the edge towards a point that is rejected
    anyway: on the Complete Journey's Pareto/NBD, with a shape at ``max_shape``, 110
    evaluations at ~0.05 s instead of 49. On a ridge (data without drop-out: the Pareto/NBD's
    ``s`` going to 0 as ``beta`` goes to infinity) it takes long steps that gain less and less,
    until the gain is below rounding and the line search stalls at one point for dozens of
    evaluations before giving up (10M rows: 80 evaluations at ~0.06 s, the last 34 at one
    point). Long steps that gain nothing mean a curvature far below what the Hessian check
    of the fit accepts, so the fit fails either way; it now fails at once (``ridge``).
    """

    def __init__(self, lower: FloatArray, upper: FloatArray, patience: int = 1) -> None:
        self.lower, self.upper, self.patience = lower, upper, patience
        self.stopped = False
        self.ridge = False
        self.x: FloatArray = lower
        self.fun = np.inf
        self._still = 0
        self._along_ridge = 0

    def __call__(self, intermediate_result: OptimizeResult) -> None:
        x, fun = np.array(intermediate_result.x), float(intermediate_result.fun)
        at_edge = bool(np.any((x <= self.lower + _AT_BOUND) | (x >= self.upper - _AT_BOUND)))
        gain = self.fun - fun
        still = at_edge and gain <= 1e-12 * max(1.0, abs(fun))
        long_step = np.isfinite(self.fun) and float(np.max(np.abs(x - self.x))) >= _RIDGE_STEP
        flat = long_step and gain <= _RIDGE_GAIN * max(1.0, abs(fun))
        self._still = self._still + 1 if still else 0
        self._along_ridge = self._along_ridge + 1 if flat else 0
        self.x, self.fun = x, fun
        if self._still >= self.patience or self._along_ridge >= _RIDGE_STEPS:
            self.stopped = True
            self.ridge = self._still < self.patience
            raise StopIteration


def _hessian(
    objective: Callable[[FloatArray], tuple[float, FloatArray]], x: FloatArray, g0: FloatArray
) -> FloatArray:
    """Symmetrised forward-difference Hessian of ``objective`` from its analytic gradient.

    ``g0`` is the gradient at ``x``. One extra gradient per parameter; the relative error is
    about the step, 1e-6, far below the sampling error the standard errors describe.
    """
    k = x.shape[0]
    hess = np.empty((k, k))
    step = 1e-6
    for j in range(k):
        e = np.zeros(k)
        e[j] = step
        hess[:, j] = (objective(x + e)[1] - g0) / step
    return np.asarray(0.5 * (hess + hess.T), dtype=np.float64)


def as_output(values: FloatArray, shape: tuple[int, ...]) -> FloatArray:
    """Shape a result like the broadcast inputs (a 0-d input gives a 0-d array)."""
    return np.asarray(np.reshape(values, shape), dtype=np.float64)


DataT = TypeVar("DataT")


class _CountModel(_Model, Generic[DataT]):
    """Continuous-time repeat-purchase models fitted on (frequency, recency, T).

    Subclasses provide the per-row log-likelihood ``_rows`` in internal units (time rescaled
    so that the largest ``T`` is 1), ``_prepare`` (precomputation on the unique rows),
    ``_unit_factors`` and ``_start``, plus the predictions.
    """

    _start: ClassVar[tuple[float, ...]]

    def _prepare(self, x: FloatArray, tx: FloatArray, big_t: FloatArray) -> DataT:
        raise NotImplementedError

    def _rows(
        self, theta: FloatArray, data: DataT, with_grad: bool
    ) -> tuple[FloatArray, FloatArray]:
        raise NotImplementedError

    def _unit_factors(self, t_max: float) -> FloatArray:
        raise NotImplementedError

    def fit(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        *,
        weights: ArrayLike | None = None,
    ) -> Self:
        """Fit by maximum likelihood on the unique (frequency, recency, T) rows.

        Parameters
        ----------
        frequency : array_like
            Number of repeat purchases ``x`` (whole numbers >= 0).
        recency : array_like
            Time of the last repeat purchase since the first purchase ``t_x``
            (0 when ``x == 0``), ``0 <= t_x <= T``.
        T : array_like
            Time since the first purchase (the customer's age), in the same unit.
        weights : array_like, optional
            Number of customers sharing each row (default 1 each).

        Returns
        -------
        self
            With ``params_``, ``log_likelihood_``, ``standard_errors_``, ``converged_``,
            ``n_iter_`` and ``n_`` set.

        Raises
        ------
        ValueError
            On invalid inputs or hyperparameters (the message names the argument).
        ConvergenceError
            If the optimiser does not reach a finite, interior maximum.
        """
        self._check_hyperparameters()
        x, tx, big_t = check_rft(frequency, recency, T, fit=True)
        w = check_weights(weights, x.shape)
        x, tx, big_t, w = x.ravel(), tx.ravel(), big_t.ravel(), w.ravel()
        t_max = float(np.max(big_t[w > 0]))
        if not t_max > 0:
            raise ValueError("T must be > 0 for at least one customer")
        scale = 1.0 / t_max
        # compress first: whole-day data factorise arithmetically before rescaling
        (xu, txu, tu), wu = compress_rows([x, tx, big_t], None if weights is None else w)
        prepared: dict[int, DataT] = {}  # by the chunk's first row, on its first evaluation

        def rows(theta: FloatArray, part: slice) -> tuple[FloatArray, FloatArray]:
            if part.start not in prepared:
                prepared[part.start] = self._prepare(xu[part], txu[part] * scale, tu[part] * scale)
            return self._rows(theta, prepared[part.start], True)

        self._fit_loglik(
            summed_loglik(wu, rows),
            total_weight=float(np.sum(w)),
            unit_factors=self._unit_factors(t_max),
            ll_offset=float(np.sum(w * x)) * np.log(scale),
            start=np.array(self._start),
        )
        return self

    def _inputs(
        self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> tuple[FloatArray, DataT, tuple[int, ...]]:
        theta = np.array(self._params())
        x, tx, big_t = check_rft(frequency, recency, T, fit=False)
        return theta, self._prepare(x.ravel(), tx.ravel(), big_t.ravel()), x.shape

    def loglik(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> FloatArray:
        """Log-likelihood of each customer's history (in the caller's time unit)."""
        theta, data, shape = self._inputs(frequency, recency, T)
        return as_output(self._rows(theta, data, False)[0], shape)

    def expected_purchases(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        raise NotImplementedError

    def p_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> FloatArray:
        raise NotImplementedError

    def expected_purchases_new(self, t: ArrayLike) -> FloatArray:
        raise NotImplementedError

    def p_purchases(self, n: ArrayLike, t: ArrayLike) -> FloatArray:
        raise NotImplementedError

    # lifetimes-compatible names, so numbers can be cross-checked one to one.
    def conditional_expected_number_of_purchases_up_to_time(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """Alias of :meth:`expected_purchases` (lifetimes' name)."""
        return self.expected_purchases(t, frequency, recency, T)

    def conditional_probability_alive(
        self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """Alias of :meth:`p_alive` (lifetimes' name)."""
        return self.p_alive(frequency, recency, T)

    def expected_number_of_purchases_up_to_time(self, t: ArrayLike) -> FloatArray:
        """Alias of :meth:`expected_purchases_new` (lifetimes' name)."""
        return self.expected_purchases_new(t)

    def probability_of_n_purchases_up_to_time(self, t: ArrayLike, n: ArrayLike) -> FloatArray:
        """Alias of :meth:`p_purchases` with lifetimes' argument order ``(t, n)``."""
        return self.p_purchases(n, t)
