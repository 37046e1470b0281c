""" "Try new": items a customer has never bought, from an item-to-item model over what they
did buy, plus what is selling now.

Score of customer c for an item j c never bought (among the ``max_items`` most bought)::

    s(c, j) = z(x_c · B[:, j]) + w_pop · z(log(1 + recent(j))) + w_trend · z(trend(j))

``x_c`` is c's 0/1 purchase row; ``B`` is either EASE's closed form
``B = I - P · diag(1 / diag(P))``, ``P = (XᵀX + λI)⁻¹`` with a zero diagonal (Steck 2019,
eq. 8), or the cosine of item co-occurrence (item-kNN). With ``popularity_exponent`` β > 0
column j of ``B`` is multiplied by ``buyers(j)^-β``: for EASE that is exactly the closed form
of the same ridge regression with popularity-normalised targets ``X · diag(buyers^-β)``
(each column's problem is separate and linear in its target), so an item is no longer
suggested merely because many people buy it; the popularity terms below add that back in a
measured dose. ``recent(j)`` counts the days j was
bought in the last ``recent_days``; ``trend(j) = log((recent + 3) / (base + 3))`` compares
that with the same-length rate over the ``trend_days`` before (items rising now, seasonal
goods). ``z`` divides by the standard deviation over the scored matrix. Customers with fewer
than ``min_baskets`` baskets get the popularity of their segment instead.

References
----------
Steck, H. (2019). Embarrassingly Shallow Autoencoders for Sparse Data. WWW 2019, eq. (8).
Sarwar, B. et al. (2001). Item-based collaborative filtering recommendation algorithms. WWW.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, Self

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from .data import Baskets, FloatArray, IntArray, Lines, baskets, sorted_csr
from .topn import NotFittedError, TopN, pairs_in, top_n_dense

__all__ = ["TryNew", "cosine_weights", "ease_weights", "popularity_normalised"]

Model = Literal["ease", "cosine"]


def ease_weights(gram: npt.NDArray[np.float64], l2: float) -> npt.NDArray[np.float64]:
    """EASE's closed-form item weights from the Gram matrix ``XᵀX`` (Steck 2019, eq. 8).

    >>> import numpy as np
    >>> b = ease_weights(np.array([[2.0, 1.0], [1.0, 2.0]]), 1.0)
    >>> float(b[0, 0]), round(float(b[0, 1]), 4)
    (0.0, 0.3333)
    """
    g = np.array(gram, dtype=np.float64, copy=True)
    g[np.diag_indices_from(g)] += l2
    p = np.linalg.inv(g)
    b = p / (-np.diag(p))[None, :]
    b[np.diag_indices_from(b)] = 0.0
    return b


def cosine_weights(gram: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Cosine similarity of item columns from ``XᵀX`` with a zero diagonal (item-kNN)."""
    d = np.sqrt(np.maximum(np.diag(gram), 1e-12))
    b = gram / d[:, None] / d[None, :]
    b[np.diag_indices_from(b)] = 0.0
    return np.asarray(b, dtype=np.float64)


def popularity_normalised(
    weights: npt.NDArray[np.float64], buyers: FloatArray, exponent: float
) -> npt.NDArray[np.float64]:
    """``B · diag(buyers^-exponent)``: the item model fitted to popularity-normalised
    targets (for EASE, the closed form of ``min ||X D^-β - X B||² + λ||B||²``, diag B = 0,
    ``D = diag(buyers)``). Items nobody bought count as bought once.

    >>> import numpy as np
    >>> popularity_normalised(np.ones((2, 2)), np.array([4.0, 1.0]), 0.5).tolist()
    [[0.5, 1.0], [0.5, 1.0]]
    """
    if exponent == 0.0:
        return weights
    scale = np.maximum(np.asarray(buyers, dtype=np.float64), 1.0) ** -exponent
    return np.asarray(weights * scale[None, :], dtype=np.float64)


class TryNew:
    """Recommend items new to the customer.

    Parameters
    ----------
    model : {"ease", "cosine"}
        The item-to-item model.
    l2 : float
        EASE's ridge penalty λ.
    popularity_exponent : float
        β: the item model's column j is scaled by ``buyers(j)^-β`` (0 = plain model).
    max_items : int
        Only the most bought items are candidates (EASE inverts a max_items² matrix).
    popularity_weight, trend_weight : float
        ``w_pop`` and ``w_trend``.
    recent_days, trend_days : int
        The windows of ``recent`` and of the base rate ``trend`` compares it with.
    min_baskets : int
        Customers with fewer baskets get their segment's popular items.
    chunk_size : int
        Customers scored at once (bounds memory: chunk_size × max_items floats).

    Attributes
    ----------
    items_ : ndarray of int
        The candidate item codes (columns of ``weights_``).
    weights_ : ndarray (max_items, max_items)
        ``B``.
    popular_ : ndarray of float
        ``w_pop z(log(1 + recent)) + w_trend z(trend)`` per candidate.
    """

    def __init__(
        self,
        *,
        model: Model = "ease",
        l2: float = 800.0,
        popularity_exponent: float = 0.0,
        max_items: int = 3000,
        popularity_weight: float = 0.6,
        trend_weight: float = 0.2,
        recent_days: int = 14,
        trend_days: int = 120,
        min_baskets: int = 2,
        chunk_size: int = 5000,
    ) -> None:
        self.model = model
        self.l2 = l2
        self.popularity_exponent = popularity_exponent
        self.max_items = max_items
        self.popularity_weight = popularity_weight
        self.trend_weight = trend_weight
        self.recent_days = recent_days
        self.trend_days = trend_days
        self.min_baskets = min_baskets
        self.chunk_size = chunk_size

    def _check_params(self) -> None:
        if self.model not in ("ease", "cosine"):
            raise ValueError(f"model must be 'ease' or 'cosine', got {self.model!r}")
        if self.l2 <= 0 or self.max_items < 1 or self.chunk_size < 1:
            raise ValueError("l2, max_items and chunk_size must be positive")
        if self.recent_days < 1 or self.trend_days < 1 or self.min_baskets < 0:
            raise ValueError("recent_days and trend_days must be positive")
        if not 0.0 <= self.popularity_exponent <= 2.0:
            raise ValueError("popularity_exponent must be between 0 and 2")

    def fit(
        self,
        lines: Lines,
        *,
        as_of: int | None = None,
        segments: Mapping[Any, str] | None = None,
        precomputed: Baskets | None = None,
    ) -> Self:
        """Fit on the lines before ``as_of``; ``segments`` maps customer ids to a segment
        label for the fallback (one segment for everybody when not given)."""
        self._check_params()
        if as_of is not None:
            lines = lines.before(as_of)
        cut = int(lines.day.max(initial=-1)) + 1 if as_of is None else int(as_of)
        self.cut_off_ = cut
        n_c, n_p = lines.n_customers, lines.n_products
        self.n_customers_, self.n_products_ = n_c, n_p
        b = precomputed if precomputed is not None else baskets(lines)
        # baskets come sorted by customer, product, day: each pair's first row, straight to CSR
        first = np.r_[True, (b.customer[1:] != b.customer[:-1]) | (b.product[1:] != b.product[:-1])]
        pc = b.customer[first]
        bought = sorted_csr(pc, b.product[first], np.ones(pc.shape[0], np.float32), (n_c, n_p))
        self.bought_ = bought
        self.n_baskets_ = b.n_baskets if b.n_baskets.shape[0] == n_c else np.zeros(n_c, np.int64)
        buyers = np.asarray(bought.sum(axis=0)).ravel()
        m = int(min(self.max_items, int((buyers > 0).sum())))
        items = np.sort(np.argsort(-buyers, kind="stable")[:m]).astype(np.int64)
        self.items_ = items
        x = bought[:, items]
        gram = np.asarray((x.T @ x).toarray(), dtype=np.float64)
        self.weights_ = popularity_normalised(
            ease_weights(gram, self.l2) if self.model == "ease" else cosine_weights(gram),
            buyers[items],
            self.popularity_exponent,
        ).astype(np.float32)
        recent_mask = b.day >= cut - self.recent_days
        base_mask = (b.day < cut - self.recent_days) & (
            b.day >= cut - self.recent_days - self.trend_days
        )
        recent = np.bincount(b.product[recent_mask], minlength=n_p).astype(np.float64)
        base = np.bincount(b.product[base_mask], minlength=n_p).astype(np.float64)
        base *= self.recent_days / self.trend_days
        self.recent_ = recent
        self.base_ = base
        self.popular_ = self._popular(self.popularity_weight, self.trend_weight)
        # the scale of the item-model term, from a sample of customers
        sample = x[: min(n_c, 2000)]
        s = np.asarray(sample @ self.weights_)
        self.model_scale_ = _std(s)
        self._fit_segments(lines, b.customer, b.product, segments)
        return self

    def _popular(self, popularity_weight: float, trend_weight: float) -> npt.NDArray[np.float32]:
        pop = np.log1p(self.recent_[self.items_])
        trend = np.log((self.recent_[self.items_] + 3.0) / (self.base_[self.items_] + 3.0))
        return np.asarray(
            popularity_weight * pop / _std(pop) + trend_weight * trend / _std(trend),
            dtype=np.float32,
        )

    def set_popularity(self, *, popularity_weight: float, trend_weight: float) -> Self:
        """Change the two popularity weights of a fitted model without refitting ``B``
        (the validation grid uses it)."""
        self._check_fitted()
        self.popularity_weight = popularity_weight
        self.trend_weight = trend_weight
        self.popular_ = self._popular(popularity_weight, trend_weight)
        return self

    def _fit_segments(
        self,
        lines: Lines,
        customer: IntArray,
        product: IntArray,
        segments: Mapping[Any, str] | None,
    ) -> None:
        if segments:
            labels = np.array([segments.get(c, "") for c in lines.customers], dtype=object)
            names, code = np.unique(labels.astype(str), return_inverse=True)
        else:  # one segment for everybody
            names, code = np.array([""]), np.zeros(lines.n_customers, dtype=np.int64)
        self.segment_names_ = names
        self.segment_of_ = code.astype(np.int64)
        # purchase days of each item per segment: counted, not sorted
        n_p = max(lines.n_products, 1)
        seg = self.segment_of_[customer]
        counts = np.bincount(seg * n_p + product, minlength=names.shape[0] * n_p)
        self.segment_popularity_ = sp.csr_matrix(
            counts.reshape(names.shape[0], n_p)[:, : lines.n_products].astype(np.float64)
        )

    def _check_fitted(self) -> None:
        if not hasattr(self, "weights_"):
            raise NotFittedError("TryNew is not fitted: call fit(lines) first")

    def recommend(
        self,
        customers: IntArray | None = None,
        n: int = 10,
        *,
        item_mask: npt.NDArray[np.bool_] | None = None,
        exclude: sp.csr_matrix | None = None,
    ) -> TopN:
        """The top ``n`` items each customer never bought, best first (codes).

        ``item_mask`` (True = may be recommended) and ``exclude`` (nonzero = never for that
        customer; rows in the order of ``customers``) are the shop's rules.
        """
        self._check_fitted()
        if customers is None:
            customers = np.arange(self.n_customers_, dtype=np.int64)
        allowed = np.ones(self.items_.shape[0], dtype=bool)
        if item_mask is not None:
            allowed = item_mask[self.items_]
        parts = []
        for start in range(0, customers.shape[0], self.chunk_size):
            chunk = customers[start : start + self.chunk_size]
            x = self.bought_[chunk][:, self.items_]
            s = np.asarray(x @ self.weights_, dtype=np.float32) / np.float32(self.model_scale_)
            s += self.popular_[None, :]
            s[:, ~allowed] = -np.inf
            s[x.nonzero()] = -np.inf
            if exclude is not None and exclude.nnz:
                ex = sp.csr_matrix(exclude[start : start + chunk.shape[0]])[:, self.items_]
                s[ex.nonzero()] = -np.inf
            top = top_n_dense(s, n, columns=self.items_)
            cold = self.n_baskets_[chunk] < self.min_baskets
            if cold.any():
                fb = self._fallback(
                    chunk[cold],
                    n,
                    item_mask,
                    None
                    if exclude is None
                    else sp.csr_matrix(exclude[start : start + chunk.shape[0]])[cold],
                )
                top.items[cold] = fb.items
                top.scores[cold] = fb.scores
            parts.append(top)
        return TopN.concat(parts, customers)

    def _fallback(
        self,
        customers: IntArray,
        n: int,
        item_mask: npt.NDArray[np.bool_] | None,
        exclude: sp.csr_matrix | None,
    ) -> TopN:
        """Popular items in each customer's segment that they have not bought."""
        seg = self.segment_of_[customers]
        pop = self.segment_popularity_[seg].tocoo()
        keep = ~pairs_in(
            pop.row.astype(np.int64), pop.col.astype(np.int64), self.bought_[customers]
        )
        if item_mask is not None:
            keep &= item_mask[pop.col]
        if exclude is not None and exclude.nnz:
            keep &= ~pairs_in(pop.row.astype(np.int64), pop.col.astype(np.int64), exclude)
        s = sp.csr_matrix((pop.data[keep], (pop.row[keep], pop.col[keep])), shape=pop.shape)
        from .topn import top_n_sparse

        return top_n_sparse(s, n)

    def is_fallback(self, customers: IntArray) -> npt.NDArray[np.bool_]:
        """Whether each customer gets the segment fallback."""
        self._check_fitted()
        return np.asarray(self.n_baskets_[customers] < self.min_baskets)

    def segment_label(self, customers: IntArray) -> Sequence[str]:
        return [str(self.segment_names_[s]) for s in self.segment_of_[customers]]


def _std(a: FloatArray | npt.NDArray[np.float32]) -> float:
    s = float(np.std(a)) if a.size else 0.0
    return s if s > 1e-12 else 1.0
