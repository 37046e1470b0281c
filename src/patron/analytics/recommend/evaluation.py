"""Hold out the last N days, fit on the rest, and score both lists beside baselines.

"Buy again" is scored on the held-out items the customer had bought before, "try new" on the
held-out items new to the customer, each with recall@k, NDCG@k and hit rate@k
(:mod:`.metrics`). Baselines computed in the same run:

* ``top_popular``: the most bought items (by number of buyers); for "buy again" the
  customer's own items in that order, for "try new" the ones they never bought;
* ``own_top_frequency``: the customer's own items by number of purchase days, latest first
  on ties ("buy again" only: it has no new items);
* ``item_knn``: cosine item-to-item similarity over co-purchases, ``x_c · S``, over own or
  new items.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from .buy_again import pair_stats
from .data import IntArray, Lines
from .metrics import Scores, ranking_scores
from .recommender import Recommender
from .rules import BUY_AGAIN, TRY_NEW
from .topn import TopN, top_n_sparse
from .try_new import TryNew
from .tuning import holdout_truth

__all__ = ["Evaluation", "baseline_lists", "evaluate"]

PATRON = "patron"
BASELINES = ("top_popular", "own_top_frequency", "item_knn")


@dataclass(frozen=True)
class Evaluation:
    """Scores per list (``buy_again``, ``try_new``) and method (``patron`` and baselines)."""

    as_of: int
    days: int
    k: int
    scores: dict[str, dict[str, Scores | None]]
    tuning: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": str(np.datetime64(self.as_of, "D")),
            "days": self.days,
            "k": self.k,
            "scores": {
                lst: {m: (s.as_dict() if s else None) for m, s in by.items()}
                for lst, by in self.scores.items()
            },
            "tuning": self.tuning,
        }


def evaluate(
    lines: Lines,
    *,
    as_of: int,
    days: int,
    k: int = 10,
    recommender: Recommender | None = None,
    segments: Mapping[Any, str] | None = None,
    baselines: bool = True,
) -> Evaluation:
    """Fit on the lines before ``as_of - days``, score on ``[as_of - days, as_of)``."""
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    start = as_of - days
    train = lines.before(start)
    test = lines.since(start).before(as_of)
    if train.customer.shape[0] == 0:
        raise ValueError("no lines before the held-out window: choose an earlier window")
    customers = np.unique(test.customer[np.isin(test.customer, train.customer)])
    repeats, new = holdout_truth(train, test, customers)
    rec = recommender if recommender is not None else Recommender()
    rec.fit(train, as_of=start, segments=segments)
    lists = rec.lists(rec.lines_.customers[customers], k)
    scores: dict[str, dict[str, Scores | None]] = {
        BUY_AGAIN: {PATRON: ranking_scores(lists.buy_again.items, repeats, k=k)},
        TRY_NEW: {PATRON: ranking_scores(lists.try_new.items, new, k=k)},
    }
    if baselines:
        for name, (ba, tn) in baseline_lists(train, customers, k, cut=start).items():
            scores[BUY_AGAIN][name] = ranking_scores(ba.items, repeats, k=k)
            scores[TRY_NEW][name] = None if tn is None else ranking_scores(tn.items, new, k=k)
    return Evaluation(as_of=as_of, days=days, k=k, scores=scores, tuning=rec.tuning_)


def baseline_lists(
    train: Lines, customers: IntArray, k: int, *, cut: int
) -> dict[str, tuple[TopN, TopN | None]]:
    """The baselines' buy-again and try-new lists for ``customers``."""
    shape = (train.n_customers, train.n_products)
    st = pair_stats(train, basket_decay=1.0)
    owned = sp.csr_matrix((np.ones(st.customer.shape[0]), (st.customer, st.product)), shape=shape)
    buyers = np.bincount(st.product, minlength=train.n_products).astype(np.float64)
    out: dict[str, tuple[TopN, TopN | None]] = {}
    # top popular
    o = owned[customers].tocoo()
    ba = top_n_sparse(sp.csr_matrix((buyers[o.col], (o.row, o.col)), shape=o.shape), k)
    order = np.argsort(-buyers, kind="stable")
    order = order[buyers[order] > 0][: k + 2000]
    cand = sp.csr_matrix(np.tile(buyers[order], (customers.shape[0], 1)))
    cand_owned = owned[customers][:, order].toarray() > 0
    dense = cand.toarray()
    dense[cand_owned] = 0.0
    tn_pop = top_n_sparse(sp.csr_matrix(dense), k)
    tn_pop = TopN(
        tn_pop.customers,
        np.where(tn_pop.items >= 0, order[np.maximum(tn_pop.items, 0)], -1),
        tn_pop.scores,
    )
    out["top_popular"] = (ba, tn_pop)
    # own top frequency, latest first on ties
    recency = (st.last_day - st.last_day.min(initial=0) + 1) / (
        cut - st.last_day.min(initial=0) + 2
    )
    freq = sp.csr_matrix((st.n_days + 0.5 * recency, (st.customer, st.product)), shape=shape)
    out["own_top_frequency"] = (top_n_sparse(freq[customers], k), None)
    # item-kNN (cosine)
    knn = TryNew(model="cosine", popularity_weight=0.0, trend_weight=0.0, min_baskets=0)
    knn.fit(train, as_of=cut)
    tn_knn = knn.recommend(customers, k)
    x = knn.bought_[customers][:, knn.items_]
    s = np.asarray(x @ knn.weights_, dtype=np.float64)
    s = np.where(x.toarray() > 0, s + 1e-9, 0.0)
    ba_knn = top_n_sparse(sp.csr_matrix(s), k)
    ba_knn = TopN(
        ba_knn.customers,
        np.where(ba_knn.items >= 0, knn.items_[np.maximum(ba_knn.items, 0)], -1),
        ba_knn.scores,
    )
    out["item_knn"] = (ba_knn, tn_knn)
    return out
