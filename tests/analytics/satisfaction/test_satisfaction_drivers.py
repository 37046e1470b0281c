"""Key drivers: Shapley decomposition of R² recovers known weights, and equals a brute-force
Shapley over every order of entry computed here with plain least squares on the rows."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from patron.analytics.satisfaction import KeyDrivers


def _r2(X: np.ndarray, y: np.ndarray, columns: tuple[int, ...]) -> float:
    if not columns:
        return 0.0
    design = np.column_stack([np.ones(len(y)), X[:, list(columns)]])
    fitted = design @ np.linalg.lstsq(design, y, rcond=None)[0]
    return 1 - float(((y - fitted) ** 2).sum() / ((y - y.mean()) ** 2).sum())


def _brute_force_shapley(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    k = X.shape[1]
    phi = np.zeros(k)
    orders = list(itertools.permutations(range(k)))
    for order in orders:
        entered: tuple[int, ...] = ()
        for j in order:
            phi[j] += _r2(X, y, (*entered, j)) - _r2(X, y, entered)
            entered = tuple(sorted((*entered, j)))
    return phi / len(orders)


def test_known_weights_are_recovered_from_independent_drivers() -> None:
    # given: ratings with known weights and noise
    rng = np.random.default_rng(7)
    weights = np.array([3.0, 2.0, 1.0, 0.0])
    raw = rng.normal(size=(6000, 4))
    q, _r = np.linalg.qr(raw - raw.mean(axis=0))
    X = q * np.sqrt(6000 - 1)  # exactly uncorrelated, unit variance: no sampling drift
    y = X @ weights + rng.normal(scale=1.5, size=6000)
    # when
    model = KeyDrivers().fit(X, y, names=["delivery", "price", "staff", "noise"])
    # then: with independent drivers each one's share of R² is w² / Σ w²
    expected = weights**2 / (weights**2).sum()
    assert model.share_ == pytest.approx(expected, abs=0.02)
    assert model.coef_ == pytest.approx(weights, abs=0.06)
    assert model.importance_.sum() == pytest.approx(model.r2_)
    assert list(np.argsort(-model.share_)[:3]) == [0, 1, 2]


def test_equals_brute_force_shapley_with_correlated_drivers() -> None:
    rng = np.random.default_rng(8)
    base = rng.normal(size=(800, 1))
    X = np.column_stack(
        [base[:, 0] + rng.normal(scale=0.5, size=800), rng.normal(size=800),
         base[:, 0] + rng.normal(scale=1.0, size=800)]
    )  # fmt: skip
    y = X @ np.array([1.0, 0.5, 0.8]) + rng.normal(size=800)
    model = KeyDrivers().fit(X, y)
    assert model.importance_ == pytest.approx(_brute_force_shapley(X, y), abs=1e-9)


def test_rows_with_a_missing_rating_are_left_out_and_bad_input_refused() -> None:
    rng = np.random.default_rng(9)
    X = rng.normal(size=(50, 2))
    y = X[:, 0] + rng.normal(size=50)
    X[0, 1] = np.nan
    assert KeyDrivers().fit(X, y).n_samples_ == 49
    with pytest.raises(ValueError, match="drivers"):
        KeyDrivers(max_drivers=1).fit(X, y)
    with pytest.raises(ValueError, match="complete rows"):
        KeyDrivers().fit(X[:3], y[:3])
