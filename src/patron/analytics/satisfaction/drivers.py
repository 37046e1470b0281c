"""Key drivers: how much of the variation in a score (NPS 0-10) each driver rating explains.

Shapley decomposition of R² (Lipovetsky & Conklin 2001, "Analysis of regression in game theory
approach", Applied Stochastic Models in Business and Industry 17, eq. 7; also called LMG or
dominance analysis): driver j gets the average, over every order in which drivers could enter
the regression, of the R² it adds when it enters,

    φ_j = Σ_{S ⊆ K∖{j}} |S|! (k − |S| − 1)! / k! · (R²(S ∪ {j}) − R²(S)),

so the importances are non-negative for nested OLS fits and sum to the full model's R². Every
R²(S) comes from the covariance matrix of (drivers, score): R²(S) = c_Sᵀ Σ_SS⁻¹ c_S / var(y),
2^k small solves, no refit on rows. With independent drivers φ_j equals β_j² var(x_j) / var(y),
which is how the tests check that known weights are recovered.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(2000, 2))
>>> y = 2 * X[:, 0] + X[:, 1] + rng.normal(size=2000)
>>> model = KeyDrivers().fit(X, y)
>>> [round(float(s), 1) for s in model.share_]
[0.8, 0.2]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Self

import numpy as np
import numpy.typing as npt

MAX_DRIVERS = 14  # 2^14 subsets of small solves: well under a second


def _r2_of_subsets(cov: npt.NDArray[np.float64], k: int) -> npt.NDArray[np.float64]:
    """R² of the OLS fit on every subset of the k drivers (bit i of the index = driver i)."""
    var_y = cov[k, k]
    r2 = np.zeros(1 << k)
    if var_y <= 0:
        return r2
    for mask in range(1, 1 << k):
        idx = [i for i in range(k) if mask >> i & 1]
        sxx = cov[np.ix_(idx, idx)]
        sxy = cov[idx, k]
        beta = np.linalg.lstsq(sxx, sxy, rcond=None)[0]
        r2[mask] = float(sxy @ beta) / var_y
    return r2


def shapley_r2(r2: npt.NDArray[np.float64], k: int) -> npt.NDArray[np.float64]:
    """Shapley values of the k players of the game whose worth of each subset is ``r2``."""
    weights = [math.factorial(s) * math.factorial(k - s - 1) / math.factorial(k) for s in range(k)]
    sizes = np.array([bin(m).count("1") for m in range(1 << k)])
    phi = np.zeros(k)
    for j in range(k):
        bit = 1 << j
        without = np.array([m for m in range(1 << k) if not m & bit], dtype=np.int64)
        gains = r2[without | bit] - r2[without]
        phi[j] = float(np.sum(gains * np.take(weights, sizes[without])))
    return phi


class KeyDrivers:
    """Relative importance of driver ratings for a score, by Shapley decomposition of R².

    Parameters
    ----------
    max_drivers : int
        Refuse more drivers than this (the work doubles with each one).

    Attributes
    ----------
    importance_ : ndarray of shape (k,)
        R² attributed to each driver; they sum to ``r2_``.
    share_ : ndarray of shape (k,)
        ``importance_ / r2_``: each driver's share of what the drivers explain.
    r2_ : float
        R² of the regression on all drivers.
    coef_ : ndarray of shape (k,)
        OLS coefficients on all drivers (score points per rating point).
    names_ : tuple of str
    n_samples_ : int
        Rows used (rows with a missing value are left out).
    """

    def __init__(self, *, max_drivers: int = MAX_DRIVERS) -> None:
        self.max_drivers = max_drivers

    def fit(
        self, X: npt.ArrayLike, y: npt.ArrayLike, *, names: Sequence[str] | None = None
    ) -> Self:
        """Fit on driver ratings ``X`` (n × k) and scores ``y`` (n).

        Raises
        ------
        ValueError
            Shapes disagree, more drivers than ``max_drivers``, or fewer complete rows than
            drivers + 2.
        """
        if self.max_drivers < 1:
            raise ValueError("max_drivers must be at least 1")
        x = np.asarray(X, dtype=np.float64)
        target = np.asarray(y, dtype=np.float64).ravel()
        if x.ndim != 2 or x.shape[0] != target.shape[0]:
            raise ValueError("X must be 2-D with one row per score")
        k = x.shape[1]
        if not 1 <= k <= self.max_drivers:
            raise ValueError(f"expected 1 to {self.max_drivers} drivers, got {k}")
        if names is not None and len(names) != k:
            raise ValueError("one name per driver column")
        keep = ~(np.isnan(x).any(axis=1) | np.isnan(target))
        x, target = x[keep], target[keep]
        n = x.shape[0]
        if n < k + 2:
            raise ValueError(f"need at least {k + 2} complete rows, got {n}")
        cov = np.cov(np.column_stack([x, target]), rowvar=False)
        r2 = _r2_of_subsets(cov, k)
        self.importance_ = np.clip(shapley_r2(r2, k), 0.0, None)
        self.r2_ = float(r2[-1])
        total = float(self.importance_.sum())
        self.share_ = self.importance_ / total if total > 0 else np.zeros(k)
        self.coef_ = np.linalg.lstsq(cov[:k, :k], cov[:k, k], rcond=None)[0]
        self.names_ = tuple(names) if names is not None else tuple(f"x{i}" for i in range(k))
        self.n_samples_ = n
        return self
