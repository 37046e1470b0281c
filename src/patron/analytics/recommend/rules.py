"""The shop's rules: what may never be recommended, to whom, how many per category, and what
is pinned to the top for a period. Pure data; the recommenders apply it as masks before they
rank, so an excluded item cannot come back through any path (model, fallback or pin).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from .data import IntArray, Lines

__all__ = ["Pin", "Rules"]

BUY_AGAIN = "buy_again"
TRY_NEW = "try_new"
LISTS = (BUY_AGAIN, TRY_NEW)


@dataclass(frozen=True)
class Pin:
    """An item put at the top of the lists from ``start`` to ``end`` (day numbers, inclusive;
    ``None`` = open). It goes to "buy again" for customers who bought it and to "try new" for
    the others, and still obeys every exclusion."""

    sku: str
    start: int | None = None
    end: int | None = None

    def active(self, day: int) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class Rules:
    """What the shop set (admin, marketing).

    Attributes
    ----------
    not_for_sale : SKUs not for sale or out of stock.
    never : SKUs never to recommend.
    excluded_categories : categories never recommended (gift cards, services).
    categories : SKU -> category (for the exclusions and the cap).
    margins : SKU -> margin as a fraction of the price ((price - cost) / price).
    margin_floor : items with a known margin below this are left out (None = no floor).
    max_per_category : at most this many items of one category per list (None = no cap).
    pinned : items pinned to the top for a period.
    returned : customer id -> SKUs the customer returned (never recommended to them).
    """

    not_for_sale: frozenset[str] = frozenset()
    never: frozenset[str] = frozenset()
    excluded_categories: frozenset[str] = frozenset()
    categories: Mapping[str, str] = field(default_factory=dict)
    margins: Mapping[str, float] = field(default_factory=dict)
    margin_floor: float | None = None
    max_per_category: int | None = None
    pinned: tuple[Pin, ...] = ()
    returned: Mapping[Any, frozenset[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.max_per_category is not None and self.max_per_category < 1:
            raise ValueError(f"max_per_category must be at least 1, got {self.max_per_category}")

    def allowed_items(self, products: npt.NDArray[Any]) -> npt.NDArray[np.bool_]:
        """True for each product (in catalogue order) that may be recommended at all."""
        skus = [str(p) for p in products]
        blocked = self.not_for_sale | self.never
        ok = np.array([s not in blocked for s in skus], dtype=bool)
        if self.excluded_categories:
            ok &= np.array(
                [self.categories.get(s, "") not in self.excluded_categories for s in skus],
                dtype=bool,
            )
        if self.margin_floor is not None:
            floor = self.margin_floor
            ok &= np.array(
                [not (s in self.margins and self.margins[s] < floor) for s in skus], dtype=bool
            )
        return ok

    def returned_matrix(self, lines: Lines, customers: Sequence[Any]) -> sp.csr_matrix:
        """customers (ids, in this order) x products: 1 where the customer returned it."""
        rows: list[int] = []
        cols: list[int] = []
        if self.returned:
            for i, cid in enumerate(customers):
                skus = self.returned.get(cid) or self.returned.get(str(cid))
                if not skus:
                    continue
                codes = lines.product_codes(sorted(skus))
                for c in codes[codes >= 0]:
                    rows.append(i)
                    cols.append(int(c))
        return sp.csr_matrix(
            (np.ones(len(rows), np.float32), (rows, cols)),
            shape=(len(customers), lines.n_products),
        )

    def category_codes(self, products: npt.NDArray[Any]) -> IntArray:
        """A code per product for the cap (products without a category each count alone)."""
        labels = [self.categories.get(str(p), "") for p in products]
        names = {name: i for i, name in enumerate(sorted({x for x in labels if x}))}
        base = len(names)
        return np.array([names[x] if x else base + i for i, x in enumerate(labels)], dtype=np.int64)

    def active_pins(self, day: int) -> list[str]:
        return [p.sku for p in self.pinned if p.active(day)]


def cap_per_category(
    items: IntArray, scores: npt.NDArray[np.float64], category: IntArray, cap: int, n: int
) -> tuple[IntArray, npt.NDArray[np.float64]]:
    """Keep, per row, items while their category has fewer than ``cap`` kept before them;
    return the first ``n`` (``-1`` pads)."""
    rows, width = items.shape
    valid = items >= 0
    cat = np.where(valid, category[np.maximum(items, 0)], -1)
    # rank of each entry within (row, category), in list order
    row_idx = np.repeat(np.arange(rows), width)
    flat_cat = cat.ravel()
    pos = np.tile(np.arange(width), rows)
    order = np.lexsort((pos, flat_cat, row_idx))
    sc, sr = flat_cat[order], row_idx[order]
    new_group = np.r_[True, (sc[1:] != sc[:-1]) | (sr[1:] != sr[:-1])]
    group_start = np.maximum.accumulate(np.where(new_group, np.arange(sc.shape[0]), 0))
    rank_sorted = np.arange(sc.shape[0]) - group_start
    rank = np.empty_like(rank_sorted)
    rank[order] = rank_sorted
    keep = valid & (rank.reshape(rows, width) < cap)
    out_items = np.full((rows, n), -1, dtype=np.int64)
    out_scores = np.zeros((rows, n), dtype=np.float64)
    kept_pos = np.cumsum(keep, axis=1) - 1
    sel = keep & (kept_pos < n)
    r, c = np.nonzero(sel)
    out_items[r, kept_pos[r, c]] = items[r, c]
    out_scores[r, kept_pos[r, c]] = scores[r, c]
    return out_items, out_scores
