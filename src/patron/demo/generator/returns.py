"""Returns of a share of sales a few days later: the whole order or one of its lines."""

from __future__ import annotations

import numpy as np

from patron.demo.generator._products import _COST_CENTS, _PRICE_CENTS
from patron.demo.generator.rates import FULL_RETURN_SHARE, RETURN_DELAY_DAYS, RETURN_RATE
from patron.demo.generator.sales import _Sales


class _Returns:
    """Returns of ~2.5% of sales a few days later: the whole order or one of its lines."""

    def __init__(self, rng: np.random.Generator, sales: _Sales, days: float) -> None:
        chosen = np.flatnonzero(rng.random(sales.n) < RETURN_RATE)
        t = sales.t[chosen] + rng.uniform(*RETURN_DELAY_DAYS, chosen.size)
        full = rng.random(chosen.size) < FULL_RETURN_SHARE
        pick = rng.random(chosen.size)
        keep = t < days  # a return after the observation end has not happened yet
        self.original = chosen[keep]
        self.t = t[keep]
        self.n = self.original.size
        starts = np.searchsorted(sales.line_order, np.arange(sales.n))
        counts = np.diff(np.r_[starts, sales.line_order.size])
        o = self.original
        n_lines = np.where(full[keep], counts[o], 1)
        first = np.where(
            full[keep], starts[o], starts[o] + np.floor(pick[keep] * counts[o]).astype(np.int64)
        )
        self.line_return = np.repeat(np.arange(self.n), n_lines)
        offset = np.arange(self.line_return.size) - np.repeat(np.cumsum(n_lines) - n_lines, n_lines)
        line = np.repeat(first, n_lines) + offset
        self.line_prod = sales.line_prod[line]
        self.line_qty = sales.line_qty[line]
        w = self.line_qty
        self.amount = np.bincount(
            self.line_return, weights=w * _PRICE_CENTS[self.line_prod], minlength=self.n
        ).astype(np.int64)
        self.cost = np.bincount(
            self.line_return, weights=w * _COST_CENTS[self.line_prod], minlength=self.n
        ).astype(np.int64)
