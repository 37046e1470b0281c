"""Hyperparameters chosen on a time-split validation window.

The last ``days`` before the cut-off are held out; models are fitted on what came before and
scored by recall@10 on the held-out purchases (repeats for "buy again", items new to the
customer for "try new"), over a sample of customers. The best setting is refitted on all
lines by the caller.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .buy_again import BuyAgain
from .data import IntArray, Lines, unique_sorted
from .metrics import ranking_scores
from .try_new import TryNew

__all__ = ["BUY_AGAIN_GRID", "TRY_NEW_GRID", "holdout_truth", "tune_buy_again", "tune_try_new"]

BUY_AGAIN_GRID: tuple[dict[str, float], ...] = (
    {"basket_decay": 0.95, "own_weight": 0.5},
    {"basket_decay": 0.9, "own_weight": 0.5},
    {"basket_decay": 0.98, "own_weight": 0.5},
    {"basket_decay": 0.95, "own_weight": 0.8},
    {"basket_decay": 0.95, "own_weight": 1.0},
    {"basket_decay": 0.95, "own_weight": 0.5, "cycle_power": 0.0},
    {"basket_decay": 0.98, "own_weight": 0.5, "cycle_power": 0.0},
    {"basket_decay": 0.95, "own_weight": 0.5, "cycle_power": 0.6},
)
TRY_NEW_MODELS: tuple[dict[str, Any], ...] = (
    {"model": "ease", "l2": 300.0},
    {"model": "ease", "l2": 800.0},
    {"model": "ease", "l2": 2000.0},
    {"model": "ease", "l2": 800.0, "recent_days": 7},
    {"model": "ease", "l2": 800.0, "recent_days": 30},
    {"model": "cosine"},
    # popularity-normalised targets (buyers^-β); a larger β wants a larger λ (November grid)
    {"model": "ease", "l2": 600.0, "popularity_exponent": 0.3},
    {"model": "ease", "l2": 1000.0, "popularity_exponent": 0.4},
    {"model": "ease", "l2": 2500.0, "popularity_exponent": 0.5},
)
TRY_NEW_WEIGHTS: tuple[tuple[float, float], ...] = (
    (0.0, 0.0),
    (0.3, 0.1),
    (0.45, 0.15),
    (0.6, 0.0),
    (0.6, 0.2),
    (1.0, 0.2),
)
TRY_NEW_GRID = TRY_NEW_MODELS


def holdout_truth(
    train: Lines, test: Lines, customers: IntArray
) -> tuple[list[IntArray], list[IntArray]]:
    """Per customer: held-out items bought before (repeats) and items new to them."""
    n_p = max(train.n_products, 1)
    seen = unique_sorted(train.customer * n_p + train.product)
    held = unique_sorted(test.customer * n_p + test.product)
    pos = np.clip(np.searchsorted(seen, held), 0, max(seen.shape[0] - 1, 0))
    is_repeat = (seen[pos] == held) if seen.shape[0] else np.zeros(held.shape[0], bool)
    c, p = held // n_p, held % n_p
    starts = np.searchsorted(c, customers)
    ends = np.searchsorted(c, customers, side="right")
    repeats = [p[s:e][is_repeat[s:e]] for s, e in zip(starts, ends, strict=True)]
    new = [p[s:e][~is_repeat[s:e]] for s, e in zip(starts, ends, strict=True)]
    return repeats, new


def _split(
    lines: Lines, cut: int, days: int, max_customers: int, random_state: int
) -> tuple[Lines, Lines, IntArray]:
    start = cut - days
    train = lines.before(start)
    test = lines.since(start).before(cut)
    customers = np.unique(test.customer[np.isin(test.customer, train.customer)])
    if customers.shape[0] > max_customers:
        rng = np.random.default_rng(random_state)
        customers = np.sort(rng.choice(customers, max_customers, replace=False))
    return train, test, customers


def tune_buy_again(
    lines: Lines,
    *,
    cut: int,
    days: int,
    base: BuyAgain,
    max_customers: int,
    random_state: int,
) -> tuple[BuyAgain, dict[str, Any]]:
    """The grid setting of :class:`BuyAgain` with the best validation recall@10."""
    train, test, customers = _split(lines, cut, days, max_customers, random_state)
    repeats, _ = holdout_truth(train, test, customers)
    results = []
    for setting in BUY_AGAIN_GRID:
        params = {**_params(base), **setting}
        model = BuyAgain(**params).fit(train, as_of=cut - days)
        top = model.recommend(customers, 10)
        results.append((ranking_scores(top.items, repeats).recall, setting))
    best = max(results, key=lambda r: r[0])
    return BuyAgain(**{**_params(base), **best[1]}), {
        "validation_days": days,
        "customers": int(customers.shape[0]),
        "grid": [{"recall": r, **s} for r, s in results],
        "chosen": best[1],
    }


def tune_try_new(
    lines: Lines,
    *,
    cut: int,
    days: int,
    base: TryNew,
    max_customers: int,
    random_state: int,
    segments: Mapping[Any, str] | None = None,
) -> tuple[TryNew, dict[str, Any]]:
    """The model (EASE λ and popularity exponent, or cosine item-kNN) and popularity weights
    with the best validation recall@10 on items new to the customer."""
    train, test, customers = _split(lines, cut, days, max_customers, random_state)
    _, new = holdout_truth(train, test, customers)
    results = []
    for setting in TRY_NEW_MODELS:
        model = TryNew(**{**_params(base), **setting}).fit(
            train, as_of=cut - days, segments=segments
        )
        for pop_w, trend_w in TRY_NEW_WEIGHTS:
            model.set_popularity(popularity_weight=pop_w, trend_weight=trend_w)
            top = model.recommend(customers, 10)
            full = {**setting, "popularity_weight": pop_w, "trend_weight": trend_w}
            results.append((ranking_scores(top.items, new).recall, full))
    best = max(results, key=lambda r: r[0])
    return TryNew(**{**_params(base), **best[1]}), {
        "validation_days": days,
        "customers": int(customers.shape[0]),
        "grid": [{"recall": r, **s} for r, s in results],
        "chosen": best[1],
    }


def _params(model: BuyAgain | TryNew) -> dict[str, Any]:
    return {k: v for k, v in vars(model).items() if not k.endswith("_")}
