"""A deterministic synthetic shop-and-restaurant business with known ground truth.

Customers buy as in the BG/NBD model (Fader, Hardie & Lee 2005) and spend as in the
Gamma-Gamma model, with the parameters recorded in :class:`DemoTruth`, so the analytics can be
checked against the numbers that made the data. Pure NumPy and pyarrow, vectorised: see
docs/demo.md for the business, the parameters and how to use the truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from patron.demo import catalog
from patron.demo.truth import DEFAULT_BGNBD, DEFAULT_GAMMA_GAMMA, DemoTruth

__all__ = [
    "CUSTOMERS_SCHEMA",
    "HIDDEN_SCHEMA",
    "INTERACTIONS_SCHEMA",
    "ORDERS_SCHEMA",
    "ORDER_LINES_SCHEMA",
    "PRODUCTS_SCHEMA",
    "DemoBusiness",
    "DemoTruth",
    "generate",
]

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

MONEY = pa.decimal128(12, 2)
TIMESTAMP = pa.timestamp("us", tz="UTC")

CUSTOMERS_SCHEMA = pa.schema(
    [
        ("external_id", pa.string()),
        ("name", pa.string()),
        ("phone", pa.string()),
        ("email", pa.string()),
        ("gender", pa.string()),
        ("birth_date", pa.date32()),
        ("region", pa.string()),
        ("city", pa.string()),
        ("occupation", pa.string()),
        ("acquisition_channel", pa.string()),
        ("acquired_on", pa.date32()),
        ("acquisition_cost", MONEY),
        ("consent_sms", pa.bool_()),
        ("consent_email", pa.bool_()),
        ("consent_phone", pa.bool_()),
        ("tags", pa.string()),
        ("company", pa.string()),
        ("credit_limit", MONEY),
    ]
)
PRODUCTS_SCHEMA = pa.schema(
    [
        ("sku", pa.string()),
        ("name", pa.string()),
        ("category", pa.string()),
        ("unit_price", MONEY),
        ("unit_cost", MONEY),
    ]
)
ORDERS_SCHEMA = pa.schema(
    [
        ("external_id", pa.string()),
        ("customer_external_id", pa.string()),
        ("ordered_at", TIMESTAMP),
        ("store", pa.string()),
        ("channel", pa.string()),
        ("amount", MONEY),
        ("cost", MONEY),
        ("status", pa.string()),
        ("original_external_id", pa.string()),
    ]
)
ORDER_LINES_SCHEMA = pa.schema(
    [
        ("order_external_id", pa.string()),
        ("sku", pa.string()),
        ("quantity", pa.int32()),
        ("amount", MONEY),
    ]
)
INTERACTIONS_SCHEMA = pa.schema(
    [
        ("customer_external_id", pa.string()),
        ("kind", pa.string()),
        ("channel", pa.string()),
        ("text", pa.string()),
        ("occurred_at", TIMESTAMP),
    ]
)
HIDDEN_SCHEMA = pa.schema(
    [
        ("external_id", pa.string()),
        ("purchase_rate_per_day", pa.float64()),
        ("dropout_p", pa.float64()),
        ("mean_spend", pa.float64()),
        ("alive_at_end", pa.bool_()),
        ("dropout_date", pa.date32()),
        ("duplicate_of", pa.string()),
    ]
)

# Rates of the business; all of them are copied into the truth.
BIRTHS = {"opening_share": 0.25, "opening_days": 90.0}  # the rest uniform over the period
B2B_SHARE = 0.03
RETURN_RATE = 0.025
RETURN_DELAY_DAYS = (1.0, 10.0)
FULL_RETURN_SHARE = 0.6
DUPLICATE_RATE = 0.01
MALFORMED_PHONE_RATE = 0.02
FORMATTED_PHONE_RATE = 0.03
EMAIL_RATE = 0.40
INTERACTIONS_PER_CUSTOMER = 0.3
RETURN_COMPLAINT_SHARE = 0.3
DELIVERY_BETA = (1.5, 4.0)  # per-customer share of orders as 外卖
APP_SHARE = 0.12  # share of a store customer's orders through the 小程序

SHOP_OPENS_H = 10  # local shop day 10:00-22:00, Asia/Shanghai (UTC+8, no DST)
SHOP_HOURS = 12
UTC_OFFSET_H = 8
# Relative traffic of each shop hour, 10:00 to 21:00 (lunch and dinner peaks).
HOURLY_TRAFFIC = (3.0, 8.0, 14.0, 10.0, 5.0, 4.0, 5.0, 9.0, 13.0, 11.0, 6.0, 3.0)
_HOUR_CDF = np.r_[0.0, np.cumsum(HOURLY_TRAFFIC) / sum(HOURLY_TRAFFIC)]
_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class DemoBusiness:
    customers: pa.Table
    products: pa.Table
    orders: pa.Table
    order_lines: pa.Table
    interactions: pa.Table
    truth: DemoTruth
    hidden: pa.Table  # per customer ground truth, in customers order


def generate(
    *,
    customers: int = 2_000,
    seed: int = 7,
    end: date = date(2026, 10, 31),
    years: float = 2.0,
    bgnbd: dict[str, float] | None = None,
    gamma_gamma: dict[str, float] | None = None,
) -> DemoBusiness:
    """Simulate ``customers`` customer records over ``years`` ending on ``end`` (inclusive).

    Same arguments, same tables. ``bgnbd`` and ``gamma_gamma`` override single parameters of
    :data:`DEFAULT_BGNBD` and :data:`DEFAULT_GAMMA_GAMMA`.
    """
    if customers < 1:
        raise ValueError(f"customers must be at least 1, got {customers}")
    if not years > 0:
        raise ValueError(f"years must be positive, got {years}")
    bg = {**DEFAULT_BGNBD, **(bgnbd or {})}
    gg = {**DEFAULT_GAMMA_GAMMA, **(gamma_gamma or {})}
    if min(bg.values()) <= 0 or min(gg.values()) <= 0 or gg["q"] <= 1:
        raise ValueError("model parameters must be positive, and gamma_gamma q above 1")
    days = max(1, round(years * 365.25))
    start = end - timedelta(days=days - 1)
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(8)]

    n_dup = int(customers * DUPLICATE_RATE)
    people = _People(rngs[0], customers - n_dup, float(days), bg, gg)
    sales = _Sales(rngs[1], people, float(days))
    rets = _Returns(rngs[2], sales, float(days))
    dups = _Duplicates(rngs[3], people, n_dup, float(days))
    # Customer records: persons first, then duplicates; a duplicate takes over about half of
    # its person's orders after it was registered (returns follow their original).
    rec_of_sale = np.arange(people.n)[sales.person]
    moved = (sales.t >= dups.acq_t_of_person[sales.person]) & (rngs[3].random(sales.n) < 0.5)
    rec_of_sale = np.where(moved, dups.record_of_person[sales.person], rec_of_sale)
    rec_of_return = rec_of_sale[rets.original]

    attrs = _Attributes(rngs[4], people, dups, start, end)
    n_rec = attrs.n
    rank = np.empty(n_rec, np.int64)  # customer external ids in order of acquisition
    by_rank = np.argsort(attrs.acq_t, kind="stable")
    rank[by_rank] = np.arange(n_rec)
    ids_by_rank = _ids("C", np.arange(1, n_rec + 1), 6)
    ids_by_record = _take(ids_by_rank, rank)

    # All orders (sales, then returns) sorted by time -> external ids O0000001...
    n_sales = sales.n
    t_all = np.concatenate([sales.t, rets.t])
    perm = np.argsort(t_all, kind="stable")
    pos = np.empty_like(perm)
    pos[perm] = np.arange(perm.size)
    order_ids = _ids("O", np.arange(1, perm.size + 1), 7)
    status = np.concatenate([np.zeros(n_sales, np.int64), np.ones(rets.n, np.int64)])[perm]
    orig = np.concatenate([np.full(n_sales, -1), pos[rets.original]])[perm]
    amount = np.concatenate([sales.amount, -rets.amount])[perm]
    cost = np.concatenate([sales.cost, -rets.cost])[perm]
    store = np.concatenate([sales.store, sales.store[rets.original]])[perm]
    channel = np.concatenate([sales.channel, sales.channel[rets.original]])[perm]
    owner = np.concatenate([rec_of_sale, rec_of_return])[perm]
    orders = pa.Table.from_arrays(
        [
            order_ids,
            _take(ids_by_record, owner),
            _timestamps(t_all[perm], start),
            _take(pa.array(catalog.STORES), store),
            _take(pa.array(catalog.ORDER_CHANNELS), channel),
            _money(amount),
            _money(cost),
            _take(pa.array(["completed", "returned"]), status),
            order_ids.take(pa.array(np.maximum(orig, 0), mask=orig < 0)),
        ],
        schema=ORDERS_SCHEMA,
    )

    line_order = pos[np.concatenate([sales.line_order, n_sales + rets.line_return])]
    lperm = np.argsort(line_order, kind="stable")
    line_order = line_order[lperm]
    line_prod = np.concatenate([sales.line_prod, rets.line_prod])[lperm]
    line_qty = np.concatenate([sales.line_qty, -rets.line_qty])[lperm]
    order_lines = pa.Table.from_arrays(
        [
            _take(order_ids, line_order),
            _take(pa.array([p.sku for p in catalog.PRODUCTS]), line_prod),
            pa.array(line_qty.astype(np.int32)),
            _money(line_qty * _PRICE_CENTS[line_prod]),
        ],
        schema=ORDER_LINES_SCHEMA,
    )

    sales_per_record = np.bincount(rec_of_sale, minlength=n_rec)
    interactions = _interactions(
        rngs[5], attrs, sales_per_record, rec_of_return, rets.t, ids_by_record, start, float(days)
    )
    customers_table = attrs.table(ids_by_rank, by_rank)
    hidden = _hidden(people, attrs, ids_by_rank, ids_by_record, by_rank, start)

    truth = DemoTruth(
        seed=seed,
        start=start,
        end=end,
        n_customers=n_rec,
        bgnbd=dict(bg),
        gamma_gamma=dict(gg),
        n_persons=people.n,
        n_duplicates=n_dup,
        births=dict(BIRTHS),
        occupations={
            o.name: {
                "share": o.share,
                "spend_tilt": o.spend_tilt,
                "frequency_tilt": o.frequency_tilt,
                "dropout_tilt": o.dropout_tilt,
            }
            for o in catalog.OCCUPATIONS
        },
        category_preference=catalog.category_preference(),
        b2b_share=B2B_SHARE,
        return_rate=RETURN_RATE,
        return_delay_days=RETURN_DELAY_DAYS,
        full_return_share=FULL_RETURN_SHARE,
        duplicate_rate=DUPLICATE_RATE,
        malformed_phone_rate=MALFORMED_PHONE_RATE,
        formatted_phone_rate=FORMATTED_PHONE_RATE,
        email_rate=EMAIL_RATE,
        acquisition_channels={
            name: {"share": share, "mean_cost": cost_}
            for name, share, cost_ in [
                *catalog.ACQUISITION_CHANNELS,
                (catalog.B2B_ACQUISITION[0], 0.0, catalog.B2B_ACQUISITION[1]),
            ]
        },
        realised={
            "orders": float(orders.num_rows),
            "sales": float(n_sales),
            "returns": float(rets.n),
            "order_lines": float(order_lines.num_rows),
            "interactions": float(interactions.num_rows),
            "alive_share": float(people.alive.mean()),
            "mean_sale_amount": float(sales.amount.mean() / 100.0),
            "b2b_customers": float(people.b2b.sum()),
            "students_share": float((people.occupation == _SEGMENTS.index("学生")).mean()),
        },
    )
    return DemoBusiness(
        customers=customers_table,
        products=_products_table(),
        orders=orders,
        order_lines=order_lines,
        interactions=interactions,
        truth=truth,
        hidden=hidden,
    )


# --- products -------------------------------------------------------------------------------

_CATS = list(catalog.CATEGORIES)
_PROD_CAT = np.array([_CATS.index(p.category) for p in catalog.PRODUCTS])
_PRICE_CENTS = np.array([p.price * 100 for p in catalog.PRODUCTS], dtype=np.int64)
_COST_CENTS = np.array(
    [round(p.price * 100 * catalog.CATEGORIES[p.category][1]) for p in catalog.PRODUCTS],
    dtype=np.int64,
)


def _products_table() -> pa.Table:
    ps = catalog.PRODUCTS
    return pa.Table.from_arrays(
        [
            pa.array([p.sku for p in ps]),
            pa.array([p.name for p in ps]),
            pa.array([p.category for p in ps]),
            _money(_PRICE_CENTS),
            _money(_COST_CENTS),
        ],
        schema=PRODUCTS_SCHEMA,
    )


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


_SEGMENTS = [o.name for o in catalog.OCCUPATIONS] + [catalog.B2B_SEGMENT]
_B2B_SEG = len(_SEGMENTS) - 1


# --- people ---------------------------------------------------------------------------------


class _People:
    """Latent traits and purchase histories of the distinct persons."""

    def __init__(
        self,
        rng: np.random.Generator,
        n: int,
        days: float,
        bg: dict[str, float],
        gg: dict[str, float],
    ) -> None:
        self.n = n
        opening = rng.random(n) < BIRTHS["opening_share"]
        self.birth = np.where(
            opening, rng.uniform(0.0, min(days, BIRTHS["opening_days"]), n), rng.uniform(0, days, n)
        )
        self.T = days - self.birth
        self.lam = rng.gamma(bg["r"], 1.0 / bg["alpha"], n)
        self.p = np.clip(rng.beta(bg["a"], bg["b"], n), 1e-9, 1.0)
        self.nu = rng.gamma(gg["q"], 1.0 / gg["v"], n)
        self.spend_shape = gg["p"]
        self.zeta = gg["p"] / self.nu
        n_events = rng.poisson(self.lam * self.T)
        last = rng.geometric(self.p)  # the repeat purchase after which the customer drops out
        self.k = np.minimum(n_events, last)  # repeat purchases seen
        self.alive = n_events < last
        # Given n events in (0, T], the k-th of the sorted uniform times is Beta(k, n - k + 1).
        has = self.k > 0
        self.last_frac = np.zeros(n)
        self.last_frac[has] = rng.beta(self.k[has], n_events[has] - self.k[has] + 1)
        self.dropout_t = np.where(self.alive, np.nan, self.birth + self.last_frac * self.T)

        u_spend = _quantile(self.zeta)
        u_freq = _quantile(self.lam)
        u_drop = _quantile(self.p)
        occ = catalog.OCCUPATIONS
        logits = (
            np.log([o.share for o in occ])[None, :]
            + np.array([o.spend_tilt for o in occ])[None, :] * (u_spend[:, None] - 0.5)
            + np.array([o.frequency_tilt for o in occ])[None, :] * (u_freq[:, None] - 0.5)
            + np.array([o.dropout_tilt for o in occ])[None, :] * (u_drop[:, None] - 0.5)
        )
        self.occupation = _categorical_rows(rng, np.exp(logits))
        # B2B buyers: ~3% of persons, drawn among working adults, heavier at high spend.
        names = [o.name for o in occ]
        eligible = ~np.isin(self.occupation, [names.index("学生"), names.index("退休")])
        keys = np.where(eligible, 3.0 * u_spend + rng.gumbel(size=n), -np.inf)
        n_b2b = min(round(B2B_SHARE * n), int(eligible.sum()))
        self.b2b = np.zeros(n, bool)
        if n_b2b:
            self.b2b[np.argpartition(-keys, n_b2b - 1)[:n_b2b]] = True
        self.segment = np.where(self.b2b, _B2B_SEG, self.occupation)

        regions = catalog.REGIONS
        self.region = rng.choice(len(regions), n, p=_norm([r[2] for r in regions]))
        n_stores = np.array([len(r[3]) for r in regions])
        store_of = [[catalog.STORES.index(s) for s in r[3]] for r in regions]
        pick = np.floor(rng.random(n) * np.maximum(n_stores[self.region], 1)).astype(np.int64)
        online = catalog.STORES.index(catalog.ONLINE_STORE)
        table = np.full((len(regions), max(n_stores.max(), 1)), online)
        for i, s in enumerate(store_of):
            table[i, : len(s)] = s
        self.home_store = table[self.region, pick]
        self.delivery = rng.beta(*DELIVERY_BETA, n)


def _quantile(x: Floats) -> Floats:
    q = np.empty(x.size)
    q[np.argsort(x, kind="stable")] = (np.arange(x.size) + 0.5) / max(x.size, 1)
    return q


def _categorical_rows(rng: np.random.Generator, weights: Floats) -> Ints:
    cum = np.cumsum(weights, axis=1)
    u = rng.random(weights.shape[0]) * cum[:, -1]
    picked: Ints = np.minimum((cum < u[:, None]).sum(axis=1), weights.shape[1] - 1)
    return picked


def _norm(w: list[float] | tuple[float, ...]) -> Floats:
    a: Floats = np.asarray(w, dtype=np.float64)
    out: Floats = a / a.sum()
    return out


# --- sales ----------------------------------------------------------------------------------


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


# --- order lines ----------------------------------------------------------------------------

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


# --- returns --------------------------------------------------------------------------------


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


# --- duplicates -----------------------------------------------------------------------------


class _Duplicates:
    """~1% extra customer records for persons already known (for the duplicate finder)."""

    def __init__(self, rng: np.random.Generator, people: _People, n: int, days: float) -> None:
        self.n = n
        self.source = np.sort(rng.choice(people.n, n, replace=False)) if n else np.zeros(0, int)
        b = people.birth[self.source]
        self.acq_t = b + rng.random(n) * (days - b)
        self.record_of_person = np.arange(people.n)
        self.record_of_person[self.source] = people.n + np.arange(n)
        self.acq_t_of_person = np.full(people.n, np.inf)
        self.acq_t_of_person[self.source] = self.acq_t
        self.by_email = rng.random(n) < 0.5  # found by e-mail case (if any), else by phone
        self.keep_email = rng.random(n) < 0.5
        self.name_variant = rng.choice(5, n, p=[0.45, 0.2, 0.1, 0.1, 0.15])
        self.u = rng.random((n, 4))


# --- arrow helpers --------------------------------------------------------------------------


def _ids(prefix: str, numbers: Ints, width: int) -> pa.Array:
    if numbers.size:
        width = max(width, len(str(int(numbers.max()))))
    s = pc.utf8_lpad(pc.cast(pa.array(numbers, pa.int64()), pa.string()), width, "0")
    return pc.utf8_replace_slice(s, 0, 0, prefix)


def _take(values: pa.Array, idx: npt.NDArray[np.integer]) -> pa.Array:
    return values.take(pa.array(np.asarray(idx, dtype=np.int64)))


def _money(cents: Ints, null: Bools | None = None) -> pa.Array:
    """decimal128(12, 2) straight from integer cents (two's complement, little endian)."""
    c = np.ascontiguousarray(cents, dtype=np.int64)
    words = np.empty((c.size, 2), dtype=np.int64)
    words[:, 0] = c
    words[:, 1] = c >> 63
    validity = None
    nulls = 0
    if null is not None and null.any():
        validity = pa.py_buffer(np.packbits(~null, bitorder="little"))
        nulls = int(null.sum())
        words[null] = 0
    return pa.Array.from_buffers(MONEY, c.size, [validity, pa.py_buffer(words)], null_count=nulls)


def _timestamps(t: Floats, start: date) -> pa.Array:
    """Model time (days since start) -> UTC timestamps.

    Each model day is warped onto the shop day, 10:00-22:00 local, busiest at lunch and dinner;
    the warp is monotone, so it keeps the order of events and their calendar day.
    """
    day = np.floor(t)
    sec = np.floor(np.interp(t - day, _HOUR_CDF, np.arange(SHOP_HOURS + 1.0)) * 3600.0)
    sec = np.minimum(sec, SHOP_HOURS * 3600 - 1)
    local = (day + (start - _EPOCH).days) * 86400.0 + SHOP_OPENS_H * 3600.0 + sec
    return pa.array(((local - UTC_OFFSET_H * 3600.0) * 1e6).astype(np.int64), TIMESTAMP)


def _dates(t: Floats, start: date) -> pa.Array:
    """Model time -> local date32 (NaN -> null)."""
    null = np.isnan(t)
    days = np.floor(np.where(null, 0.0, t)).astype(np.int64) + (start - _EPOCH).days
    return pa.array(days.astype(np.int32), pa.date32(), mask=null)


# --- customer attributes --------------------------------------------------------------------


class _Attributes:
    """Customer records (persons first, then duplicates) and their descriptive columns."""

    def __init__(
        self,
        rng: np.random.Generator,
        people: _People,
        dups: _Duplicates,
        start: date,
        end: date,
    ) -> None:
        P, D = people.n, dups.n
        self.n = n = P + D
        self.person = src = np.concatenate([np.arange(P), dups.source]).astype(np.int64)
        self.is_dup = np.arange(n) >= P
        early = rng.random(P) < 0.2  # registered a while before the first purchase
        acq = np.where(early, people.birth - rng.uniform(1, 90, P), people.birth)
        self.acq_t = np.concatenate([acq, dups.acq_t])

        gender = rng.choice(3, P, p=[0.48, 0.48, 0.04])
        names, pinyin = _names(rng, gender)
        self.gender = [("m", "f", "u")[g] for g in gender[src]]
        numbers = _unique_mobiles(rng, P + D)
        style = rng.choice(3, P, p=_norm([1 - MALFORMED_PHONE_RATE - FORMATTED_PHONE_RATE,
                                          FORMATTED_PHONE_RATE, MALFORMED_PHONE_RATE]))  # fmt: skip
        style[dups.source] = np.minimum(style[dups.source], 1)  # duplicates must be findable
        variant = rng.integers(0, 5, P)
        phones = [_phone(int(numbers[i]), int(style[i]), int(variant[i])) for i in range(P)]
        emails = _emails(rng, P, pinyin)

        self.has_email = np.zeros(n, bool)
        self.has_email[:P] = [e is not None for e in emails]
        dup_names, dup_phones, dup_emails = [], [], []
        for j, s in enumerate(dups.source.tolist()):
            u = dups.u[j]
            dup_names.append(_name_variant(names[s], pinyin[s], int(dups.name_variant[j]), u[0]))
            if dups.by_email[j] and emails[s] is not None:
                e = emails[s]
                local, _, dom = e.partition("@")
                dup_emails.append(
                    e.upper() if u[1] < 0.5 else f"{local[:1].upper()}{local[1:]}@{dom.upper()}"
                )
                dup_phones.append(str(int(numbers[P + j])))  # a new phone number
            else:
                plain = str(int(numbers[s]))
                v = _phone(int(numbers[s]), 1, int(u[2] * 4))
                dup_phones.append(v if v != phones[s] else plain)
                dup_emails.append(emails[s] if dups.keep_email[j] else None)
        self.has_email[P:] = [e is not None for e in dup_emails]
        self.name = names + dup_names
        self.phone = phones + dup_phones
        self.email = emails + dup_emails

        # Birth date: by occupation's age range, 20% unknown (40% for duplicates).
        occ = people.occupation
        lo = np.array([o.adult_age[0] for o in catalog.OCCUPATIONS])[occ]
        hi = np.array([o.adult_age[1] for o in catalog.OCCUPATIONS])[occ]
        age_days = (lo + rng.random(P) * (hi - lo + 1)) * 365.25
        bday = (end - _EPOCH).days - np.floor(age_days).astype(np.int64)
        self.birth_day = bday[src]
        self.birth_null = rng.random(n) < np.where(self.is_dup, 0.4, 0.2)

        self.region = people.region[src]
        self.occupation = occ[src]
        b2b = people.b2b[src] & ~self.is_dup  # the duplicate of a buyer is the person privately
        acq_names = [c[0] for c in catalog.ACQUISITION_CHANNELS] + [catalog.B2B_ACQUISITION[0]]
        acq_mean = np.array(
            [c[2] for c in catalog.ACQUISITION_CHANNELS] + [catalog.B2B_ACQUISITION[1]]
        )
        channel = rng.choice(
            len(catalog.ACQUISITION_CHANNELS),
            n,
            p=_norm([c[1] for c in catalog.ACQUISITION_CHANNELS]),
        )
        self.acq_channel = np.where(people.b2b[src], len(acq_names) - 1, channel)
        self.acq_channel_names = acq_names
        self.acq_cost = np.round(rng.gamma(4.0, acq_mean[self.acq_channel] / 4.0) * 100.0).astype(
            np.int64
        )
        self.consent_sms = rng.random(n) < 0.72
        self.consent_phone = rng.random(n) < 0.35
        self.consent_email = self.has_email & (rng.random(n) < 0.55)

        company_b2b = people.b2b[src]
        brand = rng.integers(0, len(catalog.COMPANY_BRANDS), n)
        trade = rng.integers(0, len(catalog.COMPANY_TRADES), n)
        self.company = [
            f"{catalog.REGIONS[self.region[i]][1]}{catalog.COMPANY_BRANDS[brand[src[i]]]}"
            f"{catalog.COMPANY_TRADES[trade[src[i]]]}有限公司"
            if company_b2b[i]
            else None
            for i in range(n)
        ]
        limits = np.array([5_000, 10_000, 20_000, 30_000, 50_000, 100_000]) * 100
        self.credit_limit = limits[rng.integers(0, limits.size, n)]
        self.credit_null = ~b2b

        pref = catalog.category_preference()
        veg = np.array([pref[s]["素食"] for s in _SEGMENTS])[people.segment]
        tea = np.array([pref[s]["零售-茶叶"] for s in _SEGMENTS])[people.segment]
        value = people.lam * people.zeta
        tag_flags = np.column_stack(
            [
                (_quantile(value) > 0.95) & (rng.random(P) < 0.8),  # VIP
                (veg >= 0.2) & (rng.random(P) < 0.35),  # 素食偏好
                rng.random(P) < 0.08,  # 不吃辣
                rng.random(P) < 0.12,  # 生日会员
                (people.delivery > 0.5) & (rng.random(P) < 0.6),  # 外卖常客
                people.b2b,  # 企业客户
                (people.birth < 180) & (rng.random(P) < 0.25),  # 老客户
                (tea >= 0.08) & (rng.random(P) < 0.3),  # 爱喝茶
            ]
        )
        code = np.r_[tag_flags @ (1 << np.arange(len(catalog.TAGS))), np.zeros(D, np.int64)]
        spelled = [",".join(t for k, t in enumerate(catalog.TAGS) if c >> k & 1) or None
                   for c in range(1 << len(catalog.TAGS))]  # fmt: skip
        self.tags = _take(pa.array(spelled, pa.string()), code)
        self.start = start

    def table(self, ids_by_rank: pa.Array, by_rank: Ints) -> pa.Table:
        def strings(values: list[str | None] | list[str]) -> pa.Array:
            return _take(pa.array(values, pa.string()), by_rank)

        regions = catalog.REGIONS
        occupations = pa.array([o.name for o in catalog.OCCUPATIONS])
        epoch_start = (self.start - _EPOCH).days
        acq_day = np.floor(self.acq_t).astype(np.int64) + epoch_start
        return pa.Table.from_arrays(
            [
                ids_by_rank,
                strings(self.name),
                strings(self.phone),
                strings(self.email),
                strings(self.gender),
                pa.array(
                    self.birth_day[by_rank].astype(np.int32),
                    pa.date32(),
                    mask=self.birth_null[by_rank],
                ),
                _take(pa.array([r[0] for r in regions]), self.region[by_rank]),
                _take(pa.array([r[1] for r in regions]), self.region[by_rank]),
                _take(occupations, self.occupation[by_rank]),
                _take(pa.array(self.acq_channel_names), self.acq_channel[by_rank]),
                pa.array(acq_day[by_rank].astype(np.int32), pa.date32()),
                _money(self.acq_cost[by_rank]),
                pa.array(self.consent_sms[by_rank]),
                pa.array(self.consent_email[by_rank]),
                pa.array(self.consent_phone[by_rank]),
                self.tags.take(pa.array(by_rank)),
                strings(self.company),
                _money(self.credit_limit[by_rank], null=self.credit_null[by_rank]),
            ],
            schema=CUSTOMERS_SCHEMA,
        )


def _names(rng: np.random.Generator, gender: Ints) -> tuple[list[str], list[tuple[str, str]]]:
    """姓名 per person, and (surname, given name) in pinyin for e-mail addresses."""
    n = gender.size
    sur = rng.choice(len(catalog.SURNAMES), n, p=_norm([s[2] for s in catalog.SURNAMES]))
    two = rng.random(n) < 0.75
    g = rng.random((n, 2))
    english = rng.random(n) < 0.02
    e = rng.random(n)
    pools = (catalog.GIVEN_M, catalog.GIVEN_F, catalog.GIVEN_U)
    eng = (catalog.ENGLISH_M, catalog.ENGLISH_F, catalog.ENGLISH_M + catalog.ENGLISH_F)
    names: list[str] = []
    pinyin: list[tuple[str, str]] = []
    for i in range(n):
        s_char, s_py, _ = catalog.SURNAMES[sur[i]]
        gi = int(gender[i])
        if english[i]:
            first = eng[gi][int(e[i] * len(eng[gi]))]
            names.append(f"{first} {s_py.capitalize()}")
            pinyin.append((s_py, first.lower()))
            continue
        pool = pools[gi]
        c1 = pool[int(g[i, 0] * len(pool))]
        chars, py = c1[0], c1[1]
        if two[i]:
            c2 = pool[int(g[i, 1] * len(pool))]
            chars, py = chars + c2[0], py + c2[1]
        names.append(s_char + chars)
        pinyin.append((s_py, py))
    return names, pinyin


def _name_variant(name: str, pinyin: tuple[str, str], kind: int, u: float) -> str:
    """The same person's name as typed at another till: same, spaced, padded, pinyin, typo."""
    if " " in name or kind == 0:  # English names are kept as they are
        return name
    surname = next((s for s, _, _ in catalog.SURNAMES if len(s) == 2 and name.startswith(s)), "")
    surname = surname or name[:1]
    given = name[len(surname) :]
    if kind == 1:
        return f"{surname} {given}"
    if kind == 2:
        return name + " "
    if kind == 3:
        return f"{pinyin[1].capitalize()} {pinyin[0].capitalize()}"
    pool = catalog.GIVEN_M + catalog.GIVEN_F
    replacement = pool[int(u * len(pool))][0]
    return surname + given[:-1] + (replacement if replacement != given[-1:] else "一")


def _unique_mobiles(rng: np.random.Generator, n: int) -> Ints:
    prefixes = np.array(catalog.MOBILE_PREFIXES, dtype=np.int64)
    out = prefixes[rng.integers(0, prefixes.size, n)] * 10**8 + rng.integers(0, 10**8, n)
    while True:
        _, first = np.unique(out, return_index=True)
        again = np.ones(n, bool)
        again[first] = False
        if not again.any():
            return out
        k = int(again.sum())
        out[again] = prefixes[rng.integers(0, prefixes.size, k)] * 10**8 + rng.integers(0, 10**8, k)


def _phone(number: int, style: int, variant: int) -> str:
    """style 0: plain 11 digits; 1: valid but written with +86, spaces or dashes; 2: malformed."""
    s = str(number)
    if style == 0:
        return s
    if style == 1:
        return (
            f"+86 {s[:3]} {s[3:7]} {s[7:]}",
            f"{s[:3]}-{s[3:7]}-{s[7:]}",
            f"+86{s}",
            f"{s[:3]} {s[3:7]} {s[7:]}",
        )[variant % 4]
    return (
        f"{s[:3]}-{s[3:7]}-{s[7:10]}",
        s[:5],
        s[:10],
        s + s[-1],
        f"0755-{s[3:11]}",
    )[variant % 5]


def _emails(rng: np.random.Generator, n: int, pinyin: list[tuple[str, str]]) -> list[str | None]:
    has = rng.random(n) < EMAIL_RATE
    domains = [d for d, _ in catalog.EMAIL_DOMAINS]
    dom = rng.choice(len(domains), n, p=_norm([w for _, w in catalog.EMAIL_DOMAINS]))
    pattern = rng.integers(0, 4, n)
    qq = rng.integers(10_000_000, 3_000_000_000, n)
    num = rng.integers(1, 100, n)
    year = rng.integers(1970, 2008, n)
    seen: set[str] = set()
    out: list[str | None] = []
    for i in range(n):
        if not has[i]:
            out.append(None)
            continue
        sur, given = pinyin[i]
        domain = domains[dom[i]]
        p = int(pattern[i])
        if domain == "qq.com" and p < 3:
            local = str(qq[i])
        elif p == 0:
            local = f"{given}{sur}{num[i]}"
        elif p == 1:
            local = f"{sur}.{given}"
        elif p == 2:
            local = f"{sur}{given}{year[i]}"
        else:
            local = f"{given[:1]}{sur}{num[i]:02d}"
        email = f"{local}@{domain}"
        k = 0
        while email in seen:
            k += 1
            email = f"{local}{k}@{domain}"
        seen.add(email)
        out.append(email)
    return out


# --- interactions and hidden truth ----------------------------------------------------------


def _interactions(
    rng: np.random.Generator,
    attrs: _Attributes,
    sales_per_record: Ints,
    return_record: Ints,
    return_t: Floats,
    ids_by_record: pa.Array,
    start: date,
    days: float,
) -> pa.Table:
    """~0.3 contacts per customer, more for frequent buyers; a complaint for some returns."""
    n = attrs.n
    complaint = rng.random(return_t.size) < RETURN_COMPLAINT_SHARE
    budget = max(0.0, INTERACTIONS_PER_CUSTOMER * n - complaint.sum())
    weight = 0.5 + 0.5 * sales_per_record / max(sales_per_record.mean(), 1e-9)
    counts = rng.poisson(budget / max(n, 1) * weight)
    rec = np.repeat(np.arange(n), counts)
    since = np.maximum(attrs.acq_t[rec], 0.0)
    t = since + rng.random(rec.size) * (days - since)
    kinds = catalog.INTERACTION_KINDS
    kind = rng.choice(len(kinds), rec.size, p=_norm(catalog.INTERACTION_KIND_SHARES))
    kind = np.where((kind == kinds.index("email")) & ~attrs.has_email[rec], 1, kind)
    texts = [catalog.INTERACTION_TEXTS[k] for k in kinds]
    chan_w = np.array([w for w, _ in texts], dtype=np.float64)
    channel = _categorical_rows(rng, chan_w[kind])
    n_text = np.array([len(tx) for _, tx in texts])
    offset = np.r_[0, np.cumsum(n_text)[:-1]]
    text = offset[kind] + np.floor(rng.random(rec.size) * n_text[kind]).astype(np.int64)
    all_texts = [x for _, tx in texts for x in tx] + list(catalog.RETURN_COMPLAINT_TEXTS)

    m = int(complaint.sum())
    r_rec = return_record[complaint]
    r_t = np.minimum(return_t[complaint] + rng.uniform(0.0, 0.02, m), np.nextafter(days, 0))
    r_channel = rng.choice(3, m, p=[0.4, 0.3, 0.3])
    n_ret_texts = len(catalog.RETURN_COMPLAINT_TEXTS)
    r_text = n_text.sum() + np.floor(rng.random(m) * n_ret_texts).astype(np.int64)

    rec = np.concatenate([rec, r_rec])
    t = np.concatenate([t, r_t])
    kind = np.concatenate([kind, np.full(m, kinds.index("complaint"))])
    channel = np.concatenate([channel, r_channel])
    text = np.concatenate([text, r_text])
    o = np.argsort(t, kind="stable")
    return pa.Table.from_arrays(
        [
            _take(ids_by_record, rec[o]),
            _take(pa.array(kinds), kind[o]),
            _take(pa.array(catalog.INTERACTION_CHANNELS), channel[o]),
            _take(pa.array(all_texts), text[o]),
            _timestamps(t[o], start),
        ],
        schema=INTERACTIONS_SCHEMA,
    )


def _hidden(
    people: _People,
    attrs: _Attributes,
    ids_by_rank: pa.Array,
    ids_by_record: pa.Array,
    by_rank: Ints,
    start: date,
) -> pa.Table:
    src = attrs.person[by_rank]
    dup = attrs.is_dup[by_rank]
    return pa.Table.from_arrays(
        [
            ids_by_rank,
            pa.array(people.lam[src]),
            pa.array(people.p[src]),
            pa.array(people.zeta[src]),
            pa.array(people.alive[src]),
            _dates(people.dropout_t[src], start),
            pc.if_else(pa.array(dup), _take(ids_by_record, src), pa.scalar(None, pa.string())),
        ],
        schema=HIDDEN_SCHEMA,
    )
