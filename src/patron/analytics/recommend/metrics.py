"""Ranking metrics at a cut-off, per customer, then averaged over the customers evaluated.

For a customer with a ranked list ``r`` and a held-out set ``T`` of relevant items:

* recall@k    = |r[:k] ∩ T| / min(k, |T|)  (the "normalised" recall of Li et al. 2023, so a
  customer with more than k relevant items can still reach 1),
* NDCG@k      = DCG@k / IDCG@k with binary gains, DCG = Σ_{i<k, r_i ∈ T} 1 / log2(i + 2) and
  IDCG the DCG of min(k, |T|) hits at the top,
* hit rate@k  = 1 if r[:k] ∩ T is not empty, else 0.

Customers with an empty ``T`` are not evaluated (they have nothing to find).

References
----------
Li, M., Jullien, S., Ariannezhad, M., de Rijke, M. (2023). A Next Basket Recommendation
Reality Check. ACM TOIS 41(4), section 3.3 (recall and NDCG over repeat and explore items).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from .data import IntArray

__all__ = ["Scores", "ranking_scores"]


@dataclass(frozen=True)
class Scores:
    """Mean recall, NDCG and hit rate at ``k`` over ``n_customers`` evaluated customers."""

    recall: float
    ndcg: float
    hit_rate: float
    n_customers: int
    k: int

    def as_dict(self) -> dict[str, float | int]:
        return {
            "recall": self.recall,
            "ndcg": self.ndcg,
            "hit_rate": self.hit_rate,
            "customers": self.n_customers,
            "k": self.k,
        }


def ranking_scores(
    ranked: Sequence[Sequence[int]] | IntArray,
    relevant: Iterable[Iterable[int]],
    *,
    k: int = 10,
) -> Scores:
    """Recall@k, NDCG@k and hit rate@k of ranked lists against relevant sets.

    Parameters
    ----------
    ranked : sequence of sequences of int (or a 2-d int array; ``-1`` pads a short list)
        The recommendations of each customer, best first.
    relevant : iterable of iterables of int
        The held-out items of each customer, in the same order as ``ranked``.
    k : int
        The cut-off.

    Examples
    --------
    >>> s = ranking_scores([[1, 2, 3], [4, 5, 6]], [{2, 9}, {7}], k=2)
    >>> round(s.recall, 3), round(s.hit_rate, 3), s.n_customers
    (0.25, 0.5, 2)
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    discounts = 1.0 / np.log2(np.arange(k) + 2.0)
    ideal = np.cumsum(discounts)
    recalls: list[float] = []
    ndcgs: list[float] = []
    hits: list[float] = []
    for row, truth_items in zip(ranked, relevant, strict=True):
        truth = {int(t) for t in truth_items}
        if not truth:
            continue
        top = [int(i) for i in list(row)[:k] if int(i) >= 0]
        flags = np.array([i in truth for i in top], dtype=bool)
        n_hit = int(flags.sum())
        best = min(k, len(truth))
        recalls.append(n_hit / best)
        dcg = float(discounts[: len(top)][flags].sum()) if len(top) else 0.0
        ndcgs.append(dcg / float(ideal[best - 1]))
        hits.append(1.0 if n_hit else 0.0)
    n = len(recalls)
    if n == 0:
        return Scores(recall=0.0, ndcg=0.0, hit_rate=0.0, n_customers=0, k=k)
    return Scores(
        recall=float(np.mean(recalls)),
        ndcg=float(np.mean(ndcgs)),
        hit_rate=float(np.mean(hits)),
        n_customers=n,
        k=k,
    )
