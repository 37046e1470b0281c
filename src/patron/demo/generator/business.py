"""The generate() entry point: assemble the tables, ids and truth of a demo business."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from patron.demo import catalog
from patron.demo.generator._arrays import Ints, _dates, _ids, _money, _take, _timestamps
from patron.demo.generator._products import _PRICE_CENTS, _SEGMENTS, _products_table
from patron.demo.generator.attributes import _Attributes
from patron.demo.generator.duplicates import _Duplicates
from patron.demo.generator.interactions import _interactions
from patron.demo.generator.people import _People
from patron.demo.generator.rates import (
    B2B_SHARE,
    BIRTHS,
    DUPLICATE_RATE,
    EMAIL_RATE,
    FORMATTED_PHONE_RATE,
    FULL_RETURN_SHARE,
    MALFORMED_PHONE_RATE,
    RETURN_DELAY_DAYS,
    RETURN_RATE,
)
from patron.demo.generator.returns import _Returns
from patron.demo.generator.sales import _Sales
from patron.demo.generator.schemas import HIDDEN_SCHEMA, ORDER_LINES_SCHEMA, ORDERS_SCHEMA
from patron.demo.truth import DEFAULT_BGNBD, DEFAULT_GAMMA_GAMMA, DemoTruth


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
