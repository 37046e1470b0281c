"""Orders drive points: the earning rule, the bulk sync after orders are written, the till's
accrual, and returns and refunds.

Whatever path an order comes by (file import, platform export, the orders API, a till's
accrual), its points go into the ledger under one source key, ``order:<customer pk>:<order
id>``, so the unique index on (kind, source) keeps them single however often it is sent.

Life of an order's points:

* ``open`` (paid, not received): an ``earn`` entry marked pending (source ``<key>:pending``);
* ``completed``: the pending entry is reversed (pending) and an ``earn`` lot of the same
  points is written (source ``<key>``): spendable from then (after the pending period);
* ``cancelled``: the pending entry is reversed; a cancelled order that had earned is
  reversed like a refund;
* ``refunded`` (status change): what is left of its earned points is reversed, and points
  spent on it (redemptions naming the order) are restored, once (source ``refund:...``);
* a ``returned`` order pointing to its original reverses the original's earned points in
  proportion to the amount returned and restores spent points in the same proportion, once
  per return (source ``return:...``). Reversals never take the balance below zero: what
  cannot be recovered is said in the entry's reason.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.utils import timezone

from patron.loyalty.models import (
    LedgerEntry,
    Member,
    Programme,
)
from patron.loyalty.services.caps import (
    CAP_TABLE,
    cap_table_drop,
    cap_table_fill,
)
from patron.loyalty.services.earning import (
    ENTRY_COLUMNS,
    _date_plus,
    _expiry_sql,
    _insert,
    _key_sql,
    _pg,
    _points_sql,
    _scope,
    order_key,
    points_for,
)
from patron.loyalty.services.ledger import (
    expiry_for,
    programme_get,
)
from patron.loyalty.services.reversals import order_refund_points, order_return_points
from patron.sales.models import Order


def order_points_sync(
    *,
    source: str | None = None,
    since_id: int | None = None,
    customer_ids: list[int] | None = None,
    changed: bool = True,
    today: dt.date | None = None,
) -> dict[str, int]:
    """Bring the ledger in line with the orders: the one call the importer makes after it
    has written orders (set-based SQL; no Python loop per order except for returns and
    refunds, which are few and need the member's lock).

    Scope: orders of ``source`` with an id above ``since_id`` (the orders an import added)
    and of ``customer_ids``; ``changed`` (an import that updated orders) also looks at every
    order of the source whose status moved. Runs inside the caller's transaction: if the
    import rolls back, so do its points. Returns counts of entries written by step.
    """
    if not Member.objects.exists():
        return {}
    today = today or timezone.localdate()
    programme = programme_get()
    scope, params = _scope(source, since_id, customer_ids)
    # one source in scope, orders above a watermark: the big import's fast path may apply
    one = since_id is not None and source is not None and customer_ids is None
    run = {"changed": changed, "today": today, "one_source_since": one}
    if programme.cap_points is None:
        return _sync(programme, scope, params, customer_ids, **run)
    # The cap: the points of the orders about to earn, capped, first (see services.caps).
    cap_table_fill(programme=programme, candidates=_cap_candidates(programme, scope), params=params)
    try:
        return _sync(programme, scope, params, customer_ids, **run)
    finally:
        cap_table_drop()


def _eligible() -> str:
    return f"(m.backfill = {'TRUE' if _pg() else '1'} OR o.ordered_at >= m.enrolled_at)"


def _cap_candidates(programme: Programme, scope: str) -> str:
    """The orders a sync is about to earn (pending or a lot; not those whose pending
    points become the lot) with their uncapped points: what the cap table caps."""
    pts = _points_sql(programme)
    return f"""SELECT o.id AS order_id, m.id AS member_id, o.ordered_on AS day,
                      o.ordered_at AS ordered_at, o.external_id AS number, {pts} AS raw
               FROM sales_order o JOIN loyalty_member m ON m.customer_id = o.customer_id
               LEFT JOIN loyalty_tier t ON t.id = m.tier_id
               WHERE {scope} AND o.status IN ('open', 'completed', 'refunded')
                 AND o.amount > 0 AND {_eligible()} AND {pts} > 0
                 AND NOT EXISTS (SELECT 1 FROM loyalty_ledgerentry e WHERE e.kind = 'earn'
                                 AND e.source IN ({_key_sql()}, {_key_sql()} || ':pending'))"""


def _sync(
    programme: Programme,
    scope: str,
    params: list[object],
    customer_ids: list[int] | None,
    *,
    changed: bool,
    today: dt.date,
    one_source_since: bool,
) -> dict[str, int]:
    now = timezone.now()
    capped = programme.cap_points is not None
    pts = "c.points" if capped else _points_sql(programme)
    cap_join = f"LEFT JOIN {CAP_TABLE} c ON c.order_id = o.id" if capped else ""
    true = "TRUE" if _pg() else "1"
    false = "FALSE" if _pg() else "0"
    eligible = _eligible()
    counts: dict[str, int] = {}
    # 1. open orders: pending points
    counts["pending"] = _insert(
        f"""INSERT INTO loyalty_ledgerentry ({ENTRY_COLUMNS})
            SELECT m.id, 'earn', {pts}, {true}, {false}, {_key_sql()} || ':pending', 'order',
                   o.id, o.ordered_on, NULL, NULL, %s, NULL
            FROM sales_order o JOIN loyalty_member m ON m.customer_id = o.customer_id
            LEFT JOIN loyalty_tier t ON t.id = m.tier_id {cap_join}
            WHERE {scope} AND o.status = 'open' AND o.amount > 0 AND {eligible} AND {pts} > 0
              AND NOT EXISTS (SELECT 1 FROM loyalty_ledgerentry e
                              WHERE e.kind = 'earn' AND e.source = {_key_sql()})""",
        [now, *params],
    )
    # 2. pending points of orders no longer open: reversed (still as pending)
    counts["pending_closed"] = _insert(
        f"""INSERT INTO loyalty_ledgerentry ({ENTRY_COLUMNS})
            SELECT e.member_id, 'reverse', -e.points, {true}, {false}, e.source,
                   'order ' || o.status, e.order_id, o.ordered_on, NULL, NULL, %s, NULL
            FROM loyalty_ledgerentry e JOIN sales_order o ON o.id = e.order_id
            WHERE e.kind = 'earn' AND e.pending = {true} AND o.status <> 'open'
              AND NOT EXISTS (SELECT 1 FROM loyalty_ledgerentry r
                              WHERE r.kind = 'reverse' AND r.source = e.source)""",
        [now],
    )
    # 3. completed (or refunded) orders: earned lots; pending points keep their value. Twice:
    # the orders in scope, then orders that had pending points (a status change).
    available = (
        "CAST(NULL AS date)"
        if not programme.pending_days
        else _date_plus("o.ordered_on", programme.pending_days)
    )
    pending_orders = (
        "o.id IN (SELECT order_id FROM loyalty_ledgerentry "
        f"WHERE kind = 'earn' AND pending = {true})"
    )
    # The pending points are read into a materialised CTE first: a join against the table
    # being filled would re-read its growing pages for every order (quadratic on 1M orders).
    materialized = "MATERIALIZED" if _pg() else ""

    def earn_sql(where: str, pending_points: bool = True) -> str:
        """Earned lots of the orders ``where`` selects; ``pending_points`` False: the ledger
        holds no pending points (an empty ledger), so no order has any to carry over."""
        points = f"COALESCE(p.points, {pts})" if pending_points else pts
        pend = (
            f"""WITH pend AS {materialized} (
                SELECT source, points FROM loyalty_ledgerentry
                WHERE kind = 'earn' AND pending = {true})"""
            if pending_points
            else ""
        )
        pend_join = (
            f"LEFT JOIN pend p ON p.source = {_key_sql()} || ':pending'" if pending_points else ""
        )
        return f"""
            {pend}
            SELECT m.id AS member_id, 'earn' AS kind, {points} AS points,
                   {false} AS pending, {true} AS is_lot, {_key_sql()} AS source,
                   'order' AS reason, o.id AS order_id, o.ordered_on AS effective_on,
                   {available} AS available_on,
                   {_expiry_sql(programme, "o.ordered_on")} AS expires_on, %s AS created_at,
                   CAST(NULL AS integer) AS created_by_id
            FROM sales_order o JOIN loyalty_member m ON m.customer_id = o.customer_id
            LEFT JOIN loyalty_tier t ON t.id = m.tier_id {cap_join}
            {pend_join}
            WHERE {where} AND o.status IN ('completed', 'refunded') AND o.amount > 0
              AND {eligible} AND {points} > 0"""

    # one source in scope: its (source, order id) is unique, so the keys of the scope are too
    bulk = _earn_bulk(earn_sql, scope, [now, *params]) if one_source_since else None
    counts["earned"] = (
        bulk
        if bulk is not None
        else _insert(
            f"INSERT INTO loyalty_ledgerentry ({ENTRY_COLUMNS}) {earn_sql(scope)}", [now, *params]
        )
    )
    counts["earned"] += _insert(
        f"INSERT INTO loyalty_ledgerentry ({ENTRY_COLUMNS}) {earn_sql(pending_orders)}", [now]
    )
    # 4. referral bonus: the referred member's first earned order
    if programme.referral_bonus_points:
        counts["referral"] = _insert(
            f"""INSERT INTO loyalty_ledgerentry ({ENTRY_COLUMNS})
                SELECT m.referred_by_id, 'earn', {int(programme.referral_bonus_points)}, {false},
                       {true}, 'referral:' || m.id, 'referral', NULL, %s, NULL,
                       CAST(%s AS date), %s, NULL
                FROM loyalty_member m
                WHERE m.referred_by_id IS NOT NULL
                  AND EXISTS (SELECT 1 FROM loyalty_ledgerentry e WHERE e.member_id = m.id
                              AND e.kind = 'earn' AND e.pending = {false}
                              AND e.order_id IS NOT NULL)""",
            [today, expiry_for(programme, today), now],
        )
    # 5. refunds, cancellations after earning, returns: per order, under the member's lock
    counts["reversed"] = _reversals(scope, params, changed=changed, today=today)
    if programme.tiers_enabled:
        from patron.loyalty.services.tiers import tiers_reevaluate

        tiers_reevaluate(today=today, upgrade_only=True, customer_ids=customer_ids)
    return counts


def _earn_bulk(earn_sql, scope: str, params: list[object]) -> int | None:  # type: ignore[no-untyped-def]
    """The big import on PostgreSQL: when the orders in scope at least double the ledger,
    its indexes and constraints are dropped, the earnings inserted, and all built again
    (:func:`patron.ingest.indexes.indexes_rebuilt_if_cheaper`). Without the unique index
    there is no ON CONFLICT: the insert leaves out sources already in the ledger (read from a
    snapshot taken first); adding the unique constraint back checks the whole table, so a
    duplicate would still fail the import (the database decides, as always). The dropped
    constraint's lock keeps other writers of the ledger waiting until the import commits.
    None: not worth it (the caller inserts with ON CONFLICT)."""
    from patron.ingest.indexes import MIN_ROWS, indexes_rebuilt_if_cheaper, planner_settings

    if not _pg():
        return None
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM sales_order o WHERE {scope}", params[1:])
        adding = int(cursor.fetchone()[0])
        cursor.execute("SELECT COUNT(*) FROM loyalty_ledgerentry")
        existing = int(cursor.fetchone()[0])
    if adding < MIN_ROWS or adding < existing:
        return None
    with connection.cursor() as cursor:
        # Rows written earlier in this transaction (pending points of open orders, a new
        # member) left deferred foreign-key checks queued, and PostgreSQL drops no
        # constraint with checks pending: they run now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with (
        indexes_rebuilt_if_cheaper(LedgerEntry, adding=adding, unique=True),
        connection.cursor() as cursor,
    ):
        # The orders were just written in this transaction: their statistics do not know
        # the new ids, so the planner would take ``o.id > since`` for a handful of rows and
        # probe them one by one. Hash joins are what a million rows need; saying so costs
        # nothing, where ANALYZE of orders and members took a tenth of the hook. Sorting
        # and hashing in memory (as the importer's writer does), for this transaction.
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        with planner_settings(enable_nestloop="off"):
            # The scope is one source, where order ids are unique: so are the keys it makes.
            # Into an empty ledger (the first import of a programme), nothing is there to leave
            # out or carry over: no anti-join and no join on pending points, each a string key
            # built per order.
            if existing:
                cursor.execute(
                    f"""INSERT INTO loyalty_ledgerentry ({ENTRY_COLUMNS})
                            WITH have AS MATERIALIZED (
                                SELECT source FROM loyalty_ledgerentry WHERE kind = 'earn')
                            SELECT {ENTRY_COLUMNS} FROM ({earn_sql(scope)}) e
                            WHERE NOT EXISTS (SELECT 1 FROM have h WHERE h.source = e.source)""",
                    params,
                )
            else:
                cursor.execute(
                    f"INSERT INTO loyalty_ledgerentry ({ENTRY_COLUMNS}) "
                    f"{earn_sql(scope, pending_points=False)}",
                    params,
                )
            inserted = max(int(cursor.rowcount), 0)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # Django's foreign keys' own mode
    return inserted


def _reversals(scope: str, params: list[object], *, changed: bool, today: dt.date) -> int:
    """Refunded/cancelled orders that earned (or paid with points), and returns, not yet done."""
    # an import that updated orders may have moved any order of the source: look at all
    where, args = _without_since(scope, params) if changed else (scope, params)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT o.id, NULL FROM sales_order o
                JOIN loyalty_member m ON m.customer_id = o.customer_id
                WHERE {where} AND o.status IN ('refunded', 'cancelled')
                  AND (EXISTS (SELECT 1 FROM loyalty_ledgerentry e
                               WHERE e.kind = 'earn' AND e.source = {_key_sql()})
                       OR EXISTS (SELECT 1 FROM loyalty_redemption d
                                  WHERE d.member_id = m.id AND d.order_ref = o.external_id))
                  AND NOT EXISTS (SELECT 1 FROM loyalty_ledgerentry r WHERE r.kind = 'reverse'
                                  AND r.source = 'refund:' || o.customer_id || ':' || o.external_id)
                UNION ALL
                SELECT o.id, o.original_order_id FROM sales_order o
                JOIN sales_order g ON g.id = o.original_order_id
                JOIN loyalty_member m ON m.customer_id = g.customer_id
                WHERE {where} AND o.status = 'returned'
                  AND NOT EXISTS (SELECT 1 FROM loyalty_ledgerentry r WHERE r.kind = 'reverse'
                                  AND r.source = 'return:' || o.customer_id || ':' || o.external_id)
                ORDER BY 1""",
            [*args, *args],
        )
        work = cursor.fetchall()
    done = 0
    for order_id, original_id in work:
        if original_id is None:
            done += order_refund_points(order=Order.objects.get(pk=order_id), today=today)
        else:
            done += order_return_points(ret=Order.objects.get(pk=order_id), today=today)
    return done


def _without_since(scope: str, params: list[object]) -> tuple[str, list[object]]:
    parts = scope.split(" AND ")
    kept, args, i = [], [], 0
    for part in parts:
        n = part.count("%s")
        if part != "o.id > %s":
            kept.append(part)
            args.extend(params[i : i + n])
        i += n
    return " AND ".join(kept), args


__all__ = [
    "order_key",
    "order_points_sync",
    "order_refund_points",
    "order_return_points",
    "points_for",
]
