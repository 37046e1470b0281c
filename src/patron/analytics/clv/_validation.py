"""Input checks shared by the CLV models.

Every check runs on the caller's values *before* anything is cast to an integer, so a
fractional frequency or a NaN is reported instead of being silently truncated. Each error
names the offending argument.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

__all__ = [
    "FloatArray",
    "as_float",
    "check_counts",
    "check_horizon",
    "check_params",
    "check_rft",
    "check_weights",
]


def as_float(value: ArrayLike, name: str) -> FloatArray:
    """Return ``value`` as a float64 array after checking it is numeric and finite.

    Raises
    ------
    ValueError
        If ``value`` is not numeric (booleans, strings and objects are rejected), or holds
        NaN or infinite entries.
    """
    arr = np.asarray(value)
    if arr.dtype.kind not in "iuf":
        raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}")
    out = np.asarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(out)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return out


def check_counts(value: ArrayLike, name: str, *, minimum: int = 0) -> FloatArray:
    """Return a finite, integer-valued count array (kept as float64) with entries >= minimum."""
    out = as_float(value, name)
    if out.size and np.any(out != np.floor(out)):
        raise ValueError(f"{name} must hold whole numbers")
    if out.size and np.min(out) < minimum:
        raise ValueError(f"{name} must be >= {minimum}")
    return out


def _broadcast(arrays: dict[str, FloatArray]) -> list[FloatArray]:
    try:
        return [np.asarray(a) for a in np.broadcast_arrays(*arrays.values())]
    except ValueError:
        shapes = ", ".join(f"{k} {v.shape}" for k, v in arrays.items())
        raise ValueError(f"{', '.join(arrays)} have incompatible shapes: {shapes}") from None


def check_rft(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    *,
    fit: bool,
    t_name: str = "T",
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Check a (frequency, recency, T) triple for the continuous-time count models.

    For ``fit=True`` the three arrays must have one and the same shape and be non-empty; for
    prediction they only need to broadcast together. Returns the broadcast float arrays.
    """
    x = check_counts(frequency, "frequency")
    tx = as_float(recency, "recency")
    big_t = as_float(T, t_name)
    if fit:
        if not (x.shape == tx.shape == big_t.shape):
            raise ValueError(
                f"frequency, recency and {t_name} must have the same shape, got "
                f"{x.shape}, {tx.shape} and {big_t.shape}"
            )
        if x.size == 0:
            raise ValueError("frequency is empty: there are no customers to fit")
    x, tx, big_t = _broadcast({"frequency": x, "recency": tx, t_name: big_t})
    if tx.size:
        if np.min(tx) < 0:
            raise ValueError("recency must be >= 0")
        if np.min(big_t) < 0:
            raise ValueError(f"{t_name} must be >= 0")
        if np.any(tx > big_t):
            raise ValueError(f"recency must be <= {t_name}")
        if np.any((x == 0) & (tx != 0)):
            raise ValueError("recency must be 0 where frequency is 0")
    return x, tx, big_t


def check_weights(weights: ArrayLike | None, shape: tuple[int, ...]) -> FloatArray:
    """Return customer weights (counts of identical customers); ones when ``weights`` is None."""
    if weights is None:
        return np.ones(shape, dtype=np.float64)
    w = as_float(weights, "weights")
    if w.shape != shape:
        raise ValueError(f"weights must have shape {shape}, got {w.shape}")
    if w.size and np.min(w) < 0:
        raise ValueError("weights must be >= 0")
    if not np.sum(w) > 0:
        raise ValueError("weights must not all be zero")
    return w


def check_horizon(t: ArrayLike, name: str = "t", *, integer: bool = False) -> FloatArray:
    """Check a prediction horizon: finite, >= 0, and whole numbers when ``integer``."""
    if integer:
        return check_counts(t, name)
    out = as_float(t, name)
    if out.size and np.min(out) < 0:
        raise ValueError(f"{name} must be >= 0")
    return out


def check_params(params: Mapping[str, float], names: tuple[str, ...]) -> dict[str, float]:
    """Check a parameter mapping: exactly ``names``, each finite and > 0."""
    if set(params) != set(names):
        raise ValueError(f"params must have exactly the keys {names}, got {tuple(params)}")
    out: dict[str, float] = {}
    for key in names:
        value = float(params[key])
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"parameter {key} must be finite and > 0, got {params[key]!r}")
        out[key] = value
    return out
