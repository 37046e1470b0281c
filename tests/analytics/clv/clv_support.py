"""Helpers shared by the CLV tests (imported by name; pytest puts this directory on sys.path)."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np


@contextmanager
def quiet() -> Iterator[None]:
    """Run lifetimes (or anything noisy that is not ours) with warnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            yield


def numeric_gradient(
    f: Callable[[np.ndarray], float], theta: np.ndarray, rel: float = 1e-6
) -> np.ndarray:
    """Central differences of a scalar function (relative steps)."""
    grad = np.empty_like(theta)
    for j in range(theta.shape[0]):
        h = rel * max(abs(theta[j]), 1e-3)
        up, down = theta.copy(), theta.copy()
        up[j] += h
        down[j] -= h
        grad[j] = (f(up) - f(down)) / (2 * h)
    return grad


def lifetimes_total_loglik(
    fitter: Any, frequency: np.ndarray, T: np.ndarray, weights: np.ndarray | None = None
) -> float:
    """lifetimes' time-model objective (mean NLL, time rescaled so max T = 1) as a total
    log-likelihood in the caller's time unit."""
    w = np.ones_like(frequency) if weights is None else weights
    scale = 1.0 / np.max(T)
    return float(
        -fitter._negative_log_likelihood_ * w.sum() + np.sum(w * frequency) * np.log(scale)
    )
