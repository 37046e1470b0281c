"""Both lists for every customer, under the shop's rules, each item with its reason.

:class:`Recommender` fits :class:`BuyAgain` and :class:`TryNew` (optionally tuned on a
time-split validation window, :mod:`.tuning`) and returns one table::

    customer_id, list, rank, sku, score, reason_en, reason_zh

``list`` is ``buy_again`` or ``try_new``; ``rank`` starts at 1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from .buy_again import BuyAgain
from .data import FloatArray, IntArray, Lines, baskets
from .explain import Reason, reason_text
from .rules import BUY_AGAIN, TRY_NEW, Rules, cap_per_category
from .topn import NotFittedError, TopN
from .try_new import TryNew

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["COLUMNS", "Recommender"]

COLUMNS = ("customer_id", "list", "rank", "sku", "score", "reason_en", "reason_zh")
CANDIDATE_FACTOR = 4  # candidates per list slot when a per-category cap may drop some


@dataclass(frozen=True)
class _Lists:
    customers: IntArray  # codes (-1 = unknown customer)
    buy_again: TopN
    try_new: TopN
    pinned_ba: npt.NDArray[np.bool_]  # same shape as buy_again.items
    pinned_tn: npt.NDArray[np.bool_]


class Recommender:
    """Fit both recommenders and produce explained, rule-abiding lists.

    Parameters
    ----------
    buy_again, try_new : estimators (unfitted) with the hyperparameters to use; defaults when
        None.
    tune : bool
        Choose hyperparameters on the last ``validation_days`` before the cut-off first.
    validation_days : int
    tune_customers : int
        At most this many customers are scored in the validation (a sample).
    random_state : int
    """

    def __init__(
        self,
        *,
        buy_again: BuyAgain | None = None,
        try_new: TryNew | None = None,
        tune: bool = False,
        validation_days: int = 30,
        tune_customers: int = 20_000,
        random_state: int = 0,
    ) -> None:
        self.buy_again = buy_again
        self.try_new = try_new
        self.tune = tune
        self.validation_days = validation_days
        self.tune_customers = tune_customers
        self.random_state = random_state

    def fit(
        self,
        lines: Lines,
        *,
        as_of: int | None = None,
        segments: Mapping[Any, str] | None = None,
    ) -> Self:
        """Fit on the lines before ``as_of`` (a day number; default: after the last line)."""
        from .tuning import tune_buy_again, tune_try_new

        cut = int(lines.day.max(initial=-1)) + 1 if as_of is None else int(as_of)
        train = lines.before(cut)
        ba = self.buy_again if self.buy_again is not None else BuyAgain()
        tn = self.try_new if self.try_new is not None else TryNew()
        self.tuning_: dict[str, Any] = {}
        if self.tune:
            ba, self.tuning_[BUY_AGAIN] = tune_buy_again(
                train,
                cut=cut,
                days=self.validation_days,
                base=ba,
                max_customers=self.tune_customers,
                random_state=self.random_state,
            )
            tn, self.tuning_[TRY_NEW] = tune_try_new(
                train,
                cut=cut,
                days=self.validation_days,
                base=tn,
                max_customers=self.tune_customers,
                random_state=self.random_state,
                segments=segments,
            )
        shared = baskets(train)  # both models start from the same baskets
        self.buy_again_ = ba.fit(train, as_of=cut, precomputed=shared)
        self.try_new_ = tn.fit(train, as_of=cut, segments=segments, precomputed=shared)
        del shared
        self.lines_ = train
        self.cut_off_ = cut
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "lines_"):
            raise NotFittedError("Recommender is not fitted: call fit(lines) first")

    def lists(
        self,
        customers: Sequence[Any] | npt.NDArray[Any] | None = None,
        n: int = 10,
        *,
        rules: Rules | None = None,
    ) -> _Lists:
        """Ranked item codes of both lists (no wording), rules applied."""
        self._check_fitted()
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        lines = self.lines_
        rules = rules or Rules()
        if customers is None:
            codes = np.arange(lines.n_customers, dtype=np.int64)
        else:
            codes = lines.customer_codes(list(customers))
        known = codes >= 0
        safe = np.where(known, codes, 0)
        ids = list(customers) if customers is not None else list(lines.customers)
        allowed = rules.allowed_items(lines.products)
        returned = rules.returned_matrix(lines, ids)
        capped = rules.max_per_category is not None
        width = n * CANDIDATE_FACTOR if capped else n
        ba = self.buy_again_.recommend(safe, width, item_mask=allowed, exclude=returned)
        tn = self.try_new_.recommend(safe, width, item_mask=allowed, exclude=returned)
        if (~known).any():
            # an unknown customer has bought nothing: the overall popular items, rules applied
            ba.items[~known] = -1
            unknown = np.flatnonzero(~known)
            pop = np.asarray(self.try_new_.segment_popularity_.sum(axis=0)).ravel()
            order = np.argsort(-pop, kind="stable")
            order = order[(pop[order] > 0) & allowed[order]]
            ex = returned[unknown][:, order].toarray() > 0
            for i, row in enumerate(unknown):
                picks = order[~ex[i]][:width]
                tn.items[row] = -1
                tn.items[row, : picks.shape[0]] = picks
                tn.scores[row] = 0.0
        pins = lines.product_codes(rules.active_pins(self.cut_off_))
        pins = pins[(pins >= 0) & allowed[np.maximum(pins, 0)]]
        pins = pins[np.sort(np.unique(pins, return_index=True)[1])]  # each pin once, in order
        ba_items, ba_scores, ba_pin = self._with_pins(ba, pins, safe, known, returned, bought=True)
        tn_items, tn_scores, tn_pin = self._with_pins(tn, pins, safe, known, returned, bought=False)
        category = rules.category_codes(lines.products)
        out = []
        for items, scores, pinned in ((ba_items, ba_scores, ba_pin), (tn_items, tn_scores, tn_pin)):
            if capped:
                assert rules.max_per_category is not None
                marked = np.where(pinned, -items - 2, items)  # carry the pin flag through
                flag_items, sc = cap_per_category(
                    np.where(items >= 0, items, -1), scores, category, rules.max_per_category, n
                )
                del marked
                pin_set = _row_sets(items, pinned)
                pinned = (
                    np.array(
                        [[int(i) in pin_set[r] for i in row] for r, row in enumerate(flag_items)],
                        dtype=bool,
                    ).reshape(flag_items.shape)
                    if flag_items.size
                    else np.zeros_like(flag_items, bool)
                )
                items, scores = flag_items, sc
            else:
                items, scores, pinned = items[:, :n], scores[:, :n], pinned[:, :n]
            out.append((items, scores, pinned))
        (bi, bs, bp), (ti, ts, tp) = out
        return _Lists(
            customers=codes,
            buy_again=TopN(codes, bi, bs),
            try_new=TopN(codes, ti, ts),
            pinned_ba=bp & (bi >= 0),
            pinned_tn=tp & (ti >= 0),
        )

    def _with_pins(
        self,
        top: TopN,
        pins: IntArray,
        customers: IntArray,
        known: npt.NDArray[np.bool_],
        returned: sp.csr_matrix,
        *,
        bought: bool,
    ) -> tuple[IntArray, FloatArray, npt.NDArray[np.bool_]]:
        """Put the pinned items the customer may get on this list first."""
        rows = top.items.shape[0]
        if pins.shape[0] == 0:
            return top.items, top.scores, np.zeros(top.items.shape, dtype=bool)
        owned = (self.try_new_.bought_[customers][:, pins].toarray() > 0) & known[:, None]
        blocked = returned[:, pins].toarray() > 0
        ok = (owned if bought else ~owned) & ~blocked
        pin_items = np.where(ok, pins[None, :], -1)
        model = np.where(np.isin(top.items, pins), -1, top.items)
        items = np.hstack([pin_items, model])
        scores = np.hstack([np.zeros((rows, pins.shape[0])), top.scores])
        flags = np.hstack([ok, np.zeros(model.shape, dtype=bool)])
        order = np.argsort(items < 0, axis=1, kind="stable")
        return (
            np.take_along_axis(items, order, axis=1),
            np.take_along_axis(scores, order, axis=1),
            np.take_along_axis(flags, order, axis=1),
        )

    def recommend(
        self,
        customers: Sequence[Any] | None = None,
        n: int = 10,
        *,
        rules: Rules | None = None,
        names: Mapping[str, str] | None = None,
    ) -> pd.DataFrame:
        """Both lists as a table (:data:`COLUMNS`), each item with its reason in both languages.

        ``names`` maps SKUs to product names for the reasons (the SKU when missing).
        """
        import pandas as pd

        lists = self.lists(customers, n, rules=rules)
        lines = self.lines_
        frames = []
        for name, top, pinned in (
            (BUY_AGAIN, lists.buy_again, lists.pinned_ba),
            (TRY_NEW, lists.try_new, lists.pinned_tn),
        ):
            r, c = np.nonzero(top.items >= 0)
            codes = lists.customers[r]
            items = top.items[r, c]
            reasons = self._reasons(name, codes, items, pinned[r, c], names or {})
            frames.append(
                pd.DataFrame(
                    {
                        "customer_id": _ids(lines, codes, customers, r),
                        "list": name,
                        "rank": c + 1,
                        "sku": lines.products[items].astype(str),
                        "score": np.round(top.scores[r, c], 6),
                        "reason_en": [reason_text(x, "en") for x in reasons],
                        "reason_zh": [reason_text(x, "zh") for x in reasons],
                    }
                )
            )
        table = pd.concat(frames, ignore_index=True)
        return table.sort_values(["customer_id", "list", "rank"], kind="stable").reset_index(
            drop=True
        )

    def _reasons(
        self,
        name: str,
        customers: IntArray,
        items: IntArray,
        pinned: npt.NDArray[np.bool_],
        names: Mapping[str, str],
    ) -> list[Reason]:
        products = self.lines_.products

        def label(code: int) -> str:
            sku = str(products[code])
            return names.get(sku) or sku

        out: list[Reason] = []
        if name == BUY_AGAIN:
            st = self.buy_again_.stats_
            key = st.customer * max(self.lines_.n_products, 1) + st.product
            q = customers * max(self.lines_.n_products, 1) + items
            pos = np.clip(np.searchsorted(key, q), 0, max(key.shape[0] - 1, 0))
            for i in range(items.shape[0]):
                if pinned[i]:
                    out.append(Reason("pinned"))
                    continue
                p = int(pos[i])
                since = int(self.cut_off_ - st.last_day[p])
                if st.n_days[p] > 1:
                    out.append(Reason("cycle", cycle=round(float(st.cycle[p])), since=since))
                else:
                    out.append(Reason("once", since=since))
            return out
        related = self._related(customers, items)
        tn = self.try_new_
        fallback = tn.is_fallback(np.maximum(customers, 0)) | (customers < 0)
        for i in range(items.shape[0]):
            if pinned[i]:
                out.append(Reason("pinned"))
            elif fallback[i]:
                seg = "" if customers[i] < 0 else tn.segment_label(customers[i : i + 1])[0]
                out.append(Reason("segment", segment=seg) if seg else Reason("segment_all"))
            elif related[i] >= 0:
                out.append(Reason("also", related=label(related[i]), item=label(items[i])))
            else:
                out.append(Reason("trending"))
        return out

    def _related(self, customers: IntArray, items: IntArray) -> IntArray:
        """For each (customer, new item): the customer's item that points to it most in the
        item model (``-1`` when none does)."""
        tn = self.try_new_
        out = np.full(items.shape[0], -1, dtype=np.int64)
        col_of = np.full(self.lines_.n_products, -1, dtype=np.int64)
        col_of[tn.items_] = np.arange(tn.items_.shape[0])
        j = col_of[items]
        ok = (customers >= 0) & (j >= 0)
        if not ok.any():
            return out
        idx = np.flatnonzero(ok)
        owned = sp.csr_matrix(tn.bought_[customers[idx]][:, tn.items_])
        counts = np.diff(owned.indptr)
        pair = np.repeat(np.arange(idx.shape[0]), counts)
        src = owned.indices
        w = tn.weights_[src, j[idx][pair]]
        if w.shape[0] == 0:
            return out
        order = np.lexsort((-w, pair))
        first = np.r_[True, pair[order][1:] != pair[order][:-1]]
        best = order[first]
        good = w[best] > 0
        out[idx[pair[best][good]]] = tn.items_[src[best][good]]
        return out


def _ids(lines: Lines, codes: IntArray, asked: Sequence[Any] | None, rows: IntArray) -> list[str]:
    if asked is None:
        return [str(x) for x in lines.customers[codes]]
    asked_list = [str(x) for x in asked]
    return [asked_list[r] for r in rows]


def _row_sets(items: IntArray, flags: npt.NDArray[np.bool_]) -> list[set[int]]:
    return [set(int(i) for i in row[f]) for row, f in zip(items, flags, strict=True)]
