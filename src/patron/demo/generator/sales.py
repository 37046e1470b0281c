"""Sale orders and their lines at list prices, fitted to each order's Gamma-Gamma spend."""

from __future__ import annotations

import numpy as np

from patron.demo import catalog
from patron.demo.generator._arrays import Floats, Ints
from patron.demo.generator._products import _CATS, _COST_CENTS, _PRICE_CENTS, _PROD_CAT, _SEGMENTS
from patron.demo.generator.people import _People
from patron.demo.generator.rates import APP_SHARE


class _Sales:
    """Sale orders (first purchase + repeats) with their lines, stores and channels."""

    def __init__(self, rng: np.random.Generator, people: _People, days: float) -> None:
        k = people.k
        rep_person = np.repeat(np.arange(people.n), k)
        frac = rng.random(rep_person.size) * np.repeat(people.last_frac, k)
        ends = np.cumsum(k)[k > 0] - 1
        frac[ends] = people.last_frac[k > 0]  # the k-th event time; the others below it
        self.person = np.concatenate([np.arange(people.n), rep_person])
        self.t = np.concatenate(
            [people.birth, people.birth[rep_person] + frac * people.T[rep_person]]
        )
        self.t = np.minimum(self.t, np.nextafter(days, 0))
        self.n = self.person.size

        # Spend per order ~ Gamma(p, rate ν): the Gamma-Gamma target the lines are fitted to.
        self.target = rng.gamma(people.spend_shape, 1.0 / people.nu[self.person])
        (self.line_order, self.line_prod, self.line_qty) = _build_lines(
            rng, self.target, people.segment[self.person]
        )
        self.amount = np.bincount(
            self.line_order, weights=self.line_qty * _PRICE_CENTS[self.line_prod], minlength=self.n
        ).astype(np.int64)
        self.cost = np.bincount(
            self.line_order, weights=self.line_qty * _COST_CENTS[self.line_prod], minlength=self.n
        ).astype(np.int64)

        u = rng.random(self.n)
        d = people.delivery[self.person]
        ch = np.where(u < d, 1, np.where(u < d + APP_SHARE, 2, 0))
        home = people.home_store[self.person]
        online = catalog.STORES.index(catalog.ONLINE_STORE)
        ch = np.where(home == online, 2, ch)
        self.channel = ch
        self.store = np.where((ch == 2) & (rng.random(self.n) < 0.5), online, home)


def _segment_cdf() -> Floats:
    """Per segment, the cumulative probability of each product for a preferred line."""
    pref = catalog.category_preference()
    pop = np.array([p.popularity for p in catalog.PRODUCTS])
    pop_in_cat = pop / np.bincount(_PROD_CAT, weights=pop)[_PROD_CAT]
    rows = []
    for segment in _SEGMENTS:
        w = np.array([pref[segment][c] for c in _CATS])[_PROD_CAT] * pop_in_cat
        rows.append(np.cumsum(w / w.sum()))
    cdf = np.array(rows)
    cdf[:, -1] = 1.0
    return cdf


_N_PROD = len(catalog.PRODUCTS)
_CDF = _segment_cdf()
_CDF_FLAT = (_CDF + np.arange(len(_SEGMENTS))[:, None]).ravel()
_RETAIL = [_CATS.index(c) for c in catalog.RETAIL_CATEGORIES]
_FILLER = np.flatnonzero(~np.isin(_PROD_CAT, _RETAIL))
_FILL_ORDER = _FILLER[np.argsort(_PRICE_CENTS[_FILLER], kind="stable")]
_FILL_PRICES, _FILL_START, _FILL_COUNT = np.unique(
    _PRICE_CENTS[_FILL_ORDER], return_index=True, return_counts=True
)
PREFERRED_LINES = 3  # at most; plus one filler line -> 1-4 lines per order
MAX_PORTIONS = 10


def _sample_products(rng: np.random.Generator, segment: Ints) -> Ints:
    """One product per entry, by the segment's category preference and product popularity."""
    u = rng.random(segment.size)
    idx: Ints = np.searchsorted(_CDF_FLAT, segment + u, side="right") - segment * _N_PROD
    return np.clip(idx, 0, _N_PROD - 1)


def _nearest_filler(rng: np.random.Generator, cents: Floats) -> Ints:
    """A food or drink whose price is nearest to ``cents`` (ties in price broken at random)."""
    m = _FILL_PRICES.size
    i = np.searchsorted(_FILL_PRICES, cents)
    lo, hi = np.clip(i - 1, 0, m - 1), np.clip(i, 0, m - 1)
    pick = np.where(np.abs(_FILL_PRICES[hi] - cents) < np.abs(cents - _FILL_PRICES[lo]), hi, lo)
    k = _FILL_START[pick] + np.floor(rng.random(cents.size) * _FILL_COUNT[pick]).astype(np.int64)
    return _FILL_ORDER[k]


def _build_lines(
    rng: np.random.Generator, target: Floats, segment: Ints
) -> tuple[Ints, Ints, Ints]:
    """Turn each order's target spend (yuan) into lines at list prices.

    Up to three preferred products are kept greedily while they fit the target, repeated as
    portions when the target is several times their sum; one filler line priced nearest to the
    rest absorbs it, so an order's amount stays within a few yuan of its Gamma-Gamma target.
    Returns (order index, product index, quantity), sorted by order then product.
    """
    n = target.size
    z = target * 100.0
    n_pref = 1 + rng.binomial(PREFERRED_LINES - 1, target / (target + 100.0))
    prods = _sample_products(rng, np.repeat(segment, PREFERRED_LINES)).reshape(n, -1)
    price = _PRICE_CENTS[prods].astype(np.float64)
    kept = np.zeros(prods.shape, dtype=bool)
    total = np.zeros(n)
    for j in range(PREFERRED_LINES):
        ok = (j < n_pref) & (total + price[:, j] <= z)
        kept[:, j] = ok
        total += np.where(ok, price[:, j], 0.0)
    ratio = np.divide(z, total, out=np.zeros(n), where=total > 0)
    portions = np.where(ratio >= 3.0, np.minimum(np.floor(ratio), MAX_PORTIONS), 1.0)
    rest = z - total * portions
    need = (rest >= 0.5 * _FILL_PRICES[0]) | (total == 0)
    filler_qty = np.maximum(1.0, np.ceil(rest / _FILL_PRICES[-1]))
    filler = _nearest_filler(rng, rest / filler_qty)

    rows = np.nonzero(kept)[0]
    order = np.concatenate([rows, np.flatnonzero(need)])
    prod = np.concatenate([prods[kept], filler[need]])
    qty = np.concatenate([portions[rows], filler_qty[need]]).astype(np.int64)
    key = order * _N_PROD + prod  # merge a product picked twice in one order
    srt = np.argsort(key, kind="stable")
    key_s = key[srt]
    starts = np.flatnonzero(np.r_[True, key_s[1:] != key_s[:-1]])
    qty_m = np.add.reduceat(qty[srt], starts) if starts.size else qty
    key_u = key_s[starts]
    return key_u // _N_PROD, key_u % _N_PROD, qty_m
