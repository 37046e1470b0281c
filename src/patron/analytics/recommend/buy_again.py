"""Buy again": a customer's own items, scored by recency-decayed frequency, the item's
repurchase cycle, and what similar customers buy again (TIFU-KNN style).

Own score of customer c for item p (p bought by c before the cut-off)::

    own(c, p) = Σ_b r ** (N_c - 1 - rank(b)) · due(c, p) ** g

over the baskets b (days) in which c bought p, ``rank`` counting c's baskets from the first
(so the latest basket weighs 1, the one before r, ...), and ``due = 1 - exp(-H / cycle)``
the chance of a purchase within the next H days under the item's repurchase cycle (the
customer's own mean interval, shrunk toward the median interval of everybody who rebuys the
item). Customer vectors ``u_c = own(c, ·) / ||own(c, ·)||``; the k most similar customers by
cosine (among at most ``max_reference`` reference customers) give the neighbour term, and the
score is ``a · u_c + (1 - a) · mean_k u_neighbour`` restricted to c's own items.

References
----------
Hu, H., He, X., Gao, J., Zhang, Z.-L. (2020). Modeling Personalized Item Frequency
Information for Next-basket Recommendation (TIFU-KNN). SIGIR 2020, eq. (1)-(4).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

import numpy as np
import scipy.sparse as sp

from .data import Baskets, FloatArray, IntArray, Lines, baskets, sorted_csr
from .topn import NotFittedError, TopN, pairs_in, top_n_sparse

__all__ = ["BuyAgain", "PairStats", "pair_stats"]

DEFAULT_CYCLE_DAYS = 60.0


@dataclass(frozen=True)
class PairStats:
    """One row per (customer, product) bought before the cut-off, sorted by both codes."""

    customer: IntArray
    product: IntArray
    n_days: IntArray  # days with a purchase
    last_day: IntArray
    decayed: FloatArray  # Σ r ** basket age
    cycle: FloatArray  # repurchase cycle in days (shrunk toward the item's)
    item_cycle: FloatArray  # per product code: median interval of rebuyers (nan: none)


def pair_stats(
    lines: Lines, *, basket_decay: float, shrinkage: float = 2.0, precomputed: Baskets | None = None
) -> PairStats:
    """Per (customer, product) purchase counts, last day, decayed frequency and cycle."""
    b = precomputed if precomputed is not None else baskets(lines)
    n_p = max(lines.n_products, 1)
    key = b.customer * n_p + b.product
    if key.shape[0] == 0:
        empty_i = np.zeros(0, dtype=np.int64)
        empty_f = np.zeros(0, dtype=np.float64)
        return PairStats(empty_i, empty_i, empty_i, empty_i, empty_f, empty_f, np.full(n_p, np.nan))
    new_pair = np.r_[True, key[1:] != key[:-1]]
    starts = np.flatnonzero(new_pair)
    age = b.n_baskets[b.customer] - 1 - b.basket_rank
    # r ** age from a table of the powers (one per age) rather than a power per row
    powers = basket_decay ** np.arange(int(age.max(initial=0)) + 1, dtype=np.float64)
    decayed = np.add.reduceat(powers[age], starts)
    n_days = np.diff(np.r_[starts, key.shape[0]]).astype(np.int64)
    first = b.day[starts]
    last = b.day[np.r_[starts[1:], key.shape[0]] - 1]  # days are sorted within a pair
    customer = b.customer[starts]
    product = b.product[starts]
    repeat = n_days > 1
    own_cycle = np.where(repeat, (last - first) / np.maximum(n_days - 1, 1), np.nan)
    item_cycle = _group_median(product[repeat], own_cycle[repeat], n_p)
    prior = np.where(np.isnan(item_cycle), DEFAULT_CYCLE_DAYS, item_cycle)[product]
    k = (n_days - 1).astype(np.float64)
    cycle = np.where(
        repeat, (k * np.nan_to_num(own_cycle) + shrinkage * prior) / (k + shrinkage), prior
    )
    return PairStats(
        customer=customer,
        product=product,
        n_days=n_days,
        last_day=last.astype(np.int64),
        decayed=decayed.astype(np.float64),
        cycle=np.maximum(cycle, 1.0),
        item_cycle=item_cycle,
    )


def _group_median(groups: IntArray, values: FloatArray, n: int) -> FloatArray:
    """Median of ``values`` per group code ``0..n-1`` (nan where a group is empty)."""
    out = np.full(n, np.nan)
    if groups.shape[0] == 0:
        return out
    # one key (group, then value) and the default sort: ties need no order for a median
    order = np.argsort(groups * (float(np.max(values)) + 1.0) + values)
    g, v = groups[order], values[order]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    counts = np.diff(np.r_[starts, g.shape[0]])
    lo = v[starts + (counts - 1) // 2]
    hi = v[starts + counts // 2]
    out[g[starts]] = (lo + hi) / 2.0
    return out


class BuyAgain:
    """Recommend items a customer bought before, most likely to be bought again first.

    Parameters
    ----------
    basket_decay : float in (0, 1]
        Weight of a basket per basket of age (TIFU-KNN's within-group decay ``r``).
    horizon_days : float
        The window the list is for (the repurchase cycle says how likely a purchase in it is).
    cycle_power : float
        Exponent ``g`` of the due factor (0 turns the cycle off).
    own_weight : float in [0, 1]
        ``a``: weight of the customer's own vector against the neighbours'.
    neighbours : int
        ``k`` similar customers.
    max_reference : int
        Neighbours are looked for among at most this many customers (a random sample when
        there are more), which bounds the cost at a million customers.
    random_state : int
        Seed of that sample.

    Attributes
    ----------
    stats_ : PairStats
    cut_off_ : int
        The day (days since 1970-01-01) after the last line fitted.
    """

    def __init__(
        self,
        *,
        basket_decay: float = 0.95,
        horizon_days: float = 30.0,
        cycle_power: float = 0.3,
        own_weight: float = 0.5,
        neighbours: int = 100,
        max_reference: int = 20_000,
        chunk_size: int = 20_000,
        random_state: int = 0,
    ) -> None:
        self.basket_decay = basket_decay
        self.horizon_days = horizon_days
        self.cycle_power = cycle_power
        self.own_weight = own_weight
        self.neighbours = neighbours
        self.max_reference = max_reference
        self.chunk_size = chunk_size
        self.random_state = random_state

    def _check_params(self) -> None:
        if not 0.0 < self.basket_decay <= 1.0:
            raise ValueError(f"basket_decay must be in (0, 1], got {self.basket_decay}")
        if not 0.0 <= self.own_weight <= 1.0:
            raise ValueError(f"own_weight must be in [0, 1], got {self.own_weight}")
        if self.horizon_days <= 0 or self.cycle_power < 0:
            raise ValueError("horizon_days must be positive and cycle_power not negative")
        if self.neighbours < 0 or self.max_reference < 1 or self.chunk_size < 1:
            raise ValueError("neighbours, max_reference and chunk_size must be positive")

    def fit(
        self, lines: Lines, *, as_of: int | None = None, precomputed: Baskets | None = None
    ) -> Self:
        """Fit on the lines before ``as_of`` (a day number; default: after the last line).

        ``precomputed`` is ``baskets(lines)`` when the caller has it already (the lines must
        all be before ``as_of`` then)."""
        self._check_params()
        if as_of is not None:
            lines = lines.before(as_of)
        self.cut_off_ = int(lines.day.max(initial=-1)) + 1 if as_of is None else int(as_of)
        self.n_customers_ = lines.n_customers
        self.n_products_ = lines.n_products
        stats = pair_stats(lines, basket_decay=self.basket_decay, precomputed=precomputed)
        self.stats_ = stats
        due = 1.0 - np.exp(-self.horizon_days / stats.cycle)
        own = stats.decayed * due**self.cycle_power
        shape = (self.n_customers_, self.n_products_)
        # pair stats are sorted by customer, product: the CSR arrays directly, rows scaled
        norms = np.sqrt(np.bincount(stats.customer, weights=own * own, minlength=shape[0]))
        scaled = own / np.maximum(norms, 1e-12)[stats.customer]
        self.vectors_ = sorted_csr(stats.customer, stats.product, scaled.astype(np.float32), shape)
        active = np.flatnonzero(norms > 0)
        rng = np.random.default_rng(self.random_state)
        if active.shape[0] > self.max_reference:
            active = np.sort(rng.choice(active, self.max_reference, replace=False))
        self.reference_ = active
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "vectors_"):
            raise NotFittedError("BuyAgain is not fitted: call fit(lines) first")

    def _reference(self) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """The reference customers' vectors and their transpose (made once per fit)."""
        cached = getattr(self, "_reference_cache", None)
        if cached is None or cached[0] is not self.vectors_:
            ref = sp.csr_matrix(self.vectors_[self.reference_])
            cached = (self.vectors_, ref, sp.csr_matrix(ref.T))
            self._reference_cache = cached
        return cached[1], cached[2]

    def scores(self, customers: IntArray) -> sp.csr_matrix:
        """Scores over each customer's own items (rows in the order of ``customers``)."""
        self._check_fitted()
        own = self.vectors_[customers]
        if self.neighbours == 0 or self.own_weight >= 1.0 or self.reference_.shape[0] < 2:
            return own.tocsr()
        ref, ref_t = self._reference()
        sim = sp.csr_matrix(own @ ref_t)
        # a customer is not their own neighbour (zeroed in place: no rebuild of the matrix)
        rows = np.repeat(np.arange(own.shape[0]), np.diff(sim.indptr))
        itself = self.reference_[sim.indices] == customers[rows]
        if itself.any():
            sim.data[itself] = 0.0
            sim.eliminate_zeros()
        top = top_n_sparse(sim, self.neighbours)
        rows = np.repeat(np.arange(own.shape[0]), top.counts)
        weights = top.scores_flat / np.maximum(
            np.bincount(rows, weights=top.scores_flat, minlength=own.shape[0])[rows], 1e-12
        )
        # rows come in order with their counts: the CSR arrays directly (no COO sort)
        indptr = np.r_[0, np.cumsum(top.counts)]
        knn = sp.csr_matrix((weights, top.items_flat, indptr), shape=(own.shape[0], ref.shape[0]))
        neighbour = (knn @ ref).tocsr()
        mask = own.copy()
        mask.data[:] = 1.0
        neighbour = neighbour.multiply(mask).tocsr()
        return (self.own_weight * own + (1.0 - self.own_weight) * neighbour).tocsr()

    def recommend(
        self,
        customers: IntArray | None = None,
        n: int = 10,
        *,
        item_mask: np.ndarray | None = None,
        exclude: sp.csr_matrix | None = None,
    ) -> TopN:
        """The top ``n`` own items of each customer (codes), best first.

        ``item_mask`` (bool per product, True = may be recommended) and ``exclude`` (a
        customers x products matrix, nonzero = never for that customer, rows in the order of
        ``customers``) apply the shop's rules before the ranking.
        """
        self._check_fitted()
        if customers is None:
            customers = np.arange(self.n_customers_, dtype=np.int64)
        parts: list[TopN] = []
        for start in range(0, customers.shape[0], self.chunk_size):
            chunk = customers[start : start + self.chunk_size]
            s = self.scores(chunk)
            s = _apply_masks(
                s, item_mask, None if exclude is None else exclude[start : start + chunk.shape[0]]
            )
            parts.append(top_n_sparse(s, n))
        return TopN.concat(parts, customers)


def _apply_masks(
    s: sp.csr_matrix, item_mask: np.ndarray | None, exclude: sp.csr_matrix | None
) -> sp.csr_matrix:
    """Drop the entries the rules exclude, in place on the CSR arrays (no COO round trip)."""
    s = sp.csr_matrix(s)
    keep = s.data > 0
    if item_mask is not None:
        keep &= item_mask[s.indices]
    if exclude is not None and exclude.nnz:
        rows = np.repeat(np.arange(s.shape[0], dtype=np.int64), np.diff(s.indptr))
        keep &= ~pairs_in(rows, s.indices.astype(np.int64), exclude)
    if not keep.all():
        s.data[~keep] = 0.0
        s.eliminate_zeros()
    return s
