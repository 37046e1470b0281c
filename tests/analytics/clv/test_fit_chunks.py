"""Fits evaluate their likelihood a chunk of rows at a time: the same fit as all at once.

Above ``FIT_CHUNK_ROWS`` distinct rows the weighted log-likelihood and its gradient are sums
over chunks (their temporaries bounded, however many rows). A sum in another order differs
only in rounding, so every model fitted with a chunk size far below its rows must give the
parameters, log-likelihood and standard errors of the fit in one piece, to the optimiser's
tolerance.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from patron.analytics.clv import BGBB, BGNBD, MBGNBD, GammaGamma, ParetoNBD
from patron.analytics.clv import base as clv_base
from patron.analytics.clv.simulate import (
    simulate_bgbb,
    simulate_bgnbd,
    simulate_gammagamma,
    simulate_mbgnbd,
    simulate_paretonbd,
)

RNG = np.random.default_rng(5)
AGES = np.round(RNG.uniform(4, 104, 3_000), 1)
TRUTH = {"r": 0.6, "alpha": 4.0, "a": 0.7, "b": 2.5}


def _rft(simulate: Callable[..., Any], **params: float) -> tuple[Any, ...]:
    return simulate(AGES, **params, seed=7)


def _spend() -> tuple[Any, ...]:
    x = np.maximum(RNG.poisson(3.0, 3_000), 1).astype(float)
    return x, simulate_gammagamma(x, p=6.0, q=4.0, v=15.0, seed=8)


CASES = {
    "bgnbd": (BGNBD, lambda: _rft(simulate_bgnbd, **TRUTH)),
    "mbgnbd": (MBGNBD, lambda: _rft(simulate_mbgnbd, **TRUTH)),
    "paretonbd": (ParetoNBD, lambda: _rft(simulate_paretonbd, r=0.6, alpha=4.0, s=0.7, beta=9.0)),
    "bgbb": (
        BGBB,
        lambda: simulate_bgbb(np.full(3_000, 6), alpha=1.2, beta=0.8, gamma=0.7, delta=2.5, seed=9),
    ),
    "gammagamma": (GammaGamma, _spend),
}


@pytest.mark.parametrize("name", CASES)
def test_a_fit_in_chunks_is_the_fit_in_one_piece(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    model, data = CASES[name]
    columns = data()
    weights = RNG.integers(1, 4, columns[0].shape[0]).astype(float)
    whole = model().fit(*columns, weights=weights)
    # when the same fit runs on chunks of 97 rows (dozens of chunks)
    monkeypatch.setattr(clv_base, "FIT_CHUNK_ROWS", 97)
    chunked = model().fit(*columns, weights=weights)
    # then it finds the same maximum, to the optimiser's tolerance (a sum rounded otherwise can
    # move its path: the Gamma-Gamma's p by 3e-7, where its standard error is several %)
    assert chunked.params_.keys() == whole.params_.keys()
    for key, value in whole.params_.items():
        assert chunked.params_[key] == pytest.approx(value, rel=1e-5), key
        assert chunked.standard_errors_[key] == pytest.approx(
            whole.standard_errors_[key], rel=1e-3
        ), key
    assert chunked.log_likelihood_ == pytest.approx(whole.log_likelihood_, rel=1e-9)


def test_chunks_cover_every_row_once() -> None:
    weights = np.arange(1.0, 1_001.0)
    seen: list[tuple[int, int]] = []

    def rows(theta: Any, part: slice) -> tuple[Any, Any]:
        seen.append((part.start, part.stop))
        n = part.stop - part.start
        return np.ones(n), np.ones((n, theta.shape[0]))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(clv_base, "FIT_CHUNK_ROWS", 300)
        total, grad = clv_base.summed_loglik(weights, rows)(np.ones(2))
    assert seen == [(0, 300), (300, 600), (600, 900), (900, 1000)]
    assert total == weights.sum() and grad.tolist() == [weights.sum()] * 2
