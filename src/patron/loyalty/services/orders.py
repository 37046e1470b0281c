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
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from patron.loyalty.models import (
    EntryKind,
    ExpiryMode,
    LedgerEntry,
    Member,
    Programme,
    Redemption,
    Rounding,
    Tier,
)
from patron.loyalty.services.caps import (
    CAP_TABLE,
    cap_table_drop,
    cap_table_fill,
)
from patron.loyalty.services.ledger import (
    balance_of,
    entry_insert,
    entry_take,
    expiry_for,
    member_lock,
    member_settle,
    programme_get,
)
from patron.sales.models import Order, OrderStatus

EARNING_STATUSES = (OrderStatus.COMPLETED, OrderStatus.REFUNDED)


def order_key(customer_pk: int, order_id: str) -> str:
    return f"order:{customer_pk}:{order_id}"


def points_for(
    *,
    programme: Programme,
    amount: Decimal,
    tier_multiplier: Decimal = Decimal(1),
    weekday: int = 0,
    category_extra: Decimal = Decimal(0),
) -> int:
    """Points an order earns under the programme's rule (the bulk SQL computes the same).

    (amount + category extra) × points per unit × tier multiplier × weekday multiplier,
    rounded as set, plus the bonus when the amount reaches its threshold.
    """
    if amount <= 0:
        return 0
    day = Decimal(str(programme.day_multipliers.get(str(weekday), 1)))
    raw = (amount + category_extra) * programme.points_per_unit * tier_multiplier * day
    mode = {Rounding.DOWN: ROUND_FLOOR, Rounding.UP: ROUND_CEILING}.get(
        programme.rounding, ROUND_HALF_UP
    )
    points = int(raw.quantize(Decimal(1), rounding=mode))
    if programme.bonus_min_amount is not None and amount >= programme.bonus_min_amount:
        points += programme.bonus_points
    return max(points, 0)


# -- the bulk path ---------------------------------------------------------------------------


def _pg() -> bool:
    return connection.vendor == "postgresql"


def _lit(value: Decimal | int) -> str:
    """A number as an SQL literal (the programme's own settings, never user text)."""
    return str(Decimal(str(value)).normalize()) if Decimal(str(value)) % 1 else str(int(value))


def _points_sql(programme: Programme) -> str:
    """``points_for`` in SQL over order ``o`` and tier ``t`` (NULL tier: multiplier 1)."""
    pg = _pg()
    amount = "o.amount" if pg else "CAST(o.amount AS REAL)"
    base = amount
    if programme.category_multipliers:
        cases = " ".join(
            f"WHEN {_quote(name)} THEN {_lit(Decimal(str(m)) - 1)}"
            for name, m in sorted(programme.category_multipliers.items())
        )
        base = (
            f"({amount} + COALESCE((SELECT SUM(l.amount * CASE p.category {cases} ELSE 0 END) "
            f"FROM sales_orderline l JOIN sales_product p ON p.id = l.product_id "
            f"WHERE l.order_id = o.id), 0))"
        )
    weekday = (
        "(EXTRACT(ISODOW FROM o.ordered_on) - 1)"
        if pg
        else ("((CAST(strftime('%w', o.ordered_on) AS INTEGER) + 6) % 7)")
    )
    day = "1"
    if programme.day_multipliers:
        cases = " ".join(
            f"WHEN {int(d)} THEN {_lit(Decimal(str(m)))}"
            for d, m in sorted(programme.day_multipliers.items())
        )
        day = f"(CASE {weekday} {cases} ELSE 1 END)"
    # factors of 1 left out (a numeric product per order costs on a million orders); the
    # tier's multiplier only when a tier exists
    factors = [base]
    if programme.points_per_unit != 1:
        factors.append(_lit(programme.points_per_unit))
    if Tier.objects.exists():
        factors.append("COALESCE(t.multiplier, 1)")
    if day != "1":
        factors.append(day)
    raw = f"({' * '.join(factors)})"
    if pg:
        fn = {Rounding.DOWN: "FLOOR", Rounding.UP: "CEIL"}.get(programme.rounding, "ROUND")
        rounded = f"CAST({fn}({raw}) AS INTEGER)"
    else:  # SQLite: floats; the tiny nudge keeps 19.99 × 100 from becoming 1998.9999
        if programme.rounding == Rounding.DOWN:
            rounded = f"CAST({raw} + 1e-9 AS INTEGER)"
        elif programme.rounding == Rounding.UP:
            rounded = (
                f"(CAST({raw} - 1e-9 AS INTEGER) + ({raw} - 1e-9 > CAST({raw} - 1e-9 AS INTEGER)))"
            )
        else:
            rounded = f"CAST({raw} + 0.5 + 1e-9 AS INTEGER)"
    if programme.bonus_min_amount is not None and programme.bonus_points:
        rounded = (
            f"({rounded} + CASE WHEN o.amount >= {_lit(programme.bonus_min_amount)} "
            f"THEN {int(programme.bonus_points)} ELSE 0 END)"
        )
    return rounded


def _quote(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def _date_plus(column: str, days: int) -> str:
    if _pg():
        return f"({column} + {int(days)})"
    return f"date({column}, '+{int(days)} days')"


def _expiry_sql(programme: Programme, column: str) -> str:
    pg = _pg()
    mode = programme.expiry_mode
    if mode == ExpiryMode.DAYS:
        return _date_plus(column, programme.expiry_days)
    if mode == ExpiryMode.MONTH_END:
        return (
            f"CAST(date_trunc('month', {column}) + interval '1 month - 1 day' AS date)"
            if pg
            else f"date({column}, 'start of month', '+1 month', '-1 day')"
        )
    if mode == ExpiryMode.YEAR_END:
        return (
            f"CAST(date_trunc('year', {column}) + interval '1 year - 1 day' AS date)"
            if pg
            else f"date({column}, 'start of year', '+1 year', '-1 day')"
        )
    return "CAST(NULL AS date)"


ENTRY_COLUMNS = (
    "member_id, kind, points, pending, is_lot, source, reason, order_id, effective_on, "
    "available_on, expires_on, created_at, created_by_id"
)


def _key_sql(alias: str = "o") -> str:
    return f"('order:' || {alias}.customer_id || ':' || {alias}.external_id)"


def _insert(sql: str, params: list[object]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql + " ON CONFLICT (kind, source) DO NOTHING", params)
        return max(int(cursor.rowcount), 0)


def _scope(
    source: str | None, since_id: int | None, customer_ids: list[int] | None
) -> tuple[str, list[object]]:
    parts, params = ["TRUE" if _pg() else "1"], []
    if source is not None:
        parts.append("o.source = %s")
        params.append(source)
    if since_id is not None:
        parts.append("o.id > %s")
        params.append(since_id)
    if customer_ids is not None:
        parts.append(f"o.customer_id IN ({', '.join(str(int(c)) for c in customer_ids) or 'NULL'})")
    return " AND ".join(parts), params


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
                      o.ordered_at AS ordered_at, {pts} AS raw
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
    from patron.ingest.indexes import MIN_ROWS, indexes_rebuilt_if_cheaper

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
        cursor.execute("SHOW enable_nestloop")
        nestloop = cursor.fetchone()[0]
        cursor.execute("SET LOCAL enable_nestloop = off")
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
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
        cursor.execute("SELECT set_config('enable_nestloop', %s, true)", [nestloop])
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


def _earned_and_returned(original: Order, member: Member) -> tuple[int, int, Decimal]:
    """(points the order earned, points spent on it, amount returned so far by processed
    returns)."""
    earned = (
        LedgerEntry.objects.filter(
            kind=EntryKind.EARN, source=order_key(original.customer_id, original.external_id)
        )
        .values_list("points", flat=True)
        .first()
        or 0
    )
    spent = Redemption.objects.filter(member=member, order_ref=original.external_id).aggregate(
        s=Sum("points", default=0)
    )["s"]
    processed = [
        e.order_id
        for e in LedgerEntry.objects.filter(
            kind=EntryKind.REVERSE, source__startswith="return:", order__original_order=original
        ).only("order_id")
    ]
    returned = -(
        Order.objects.filter(pk__in=processed).aggregate(s=Sum("amount", default=0))["s"]
        or Decimal(0)
    )
    return int(earned), int(spent), Decimal(returned)


def _share(total: int, part: Decimal, whole: Decimal) -> int:
    """floor(total × part / whole), with part capped at whole."""
    if whole <= 0 or total <= 0:
        return 0
    part = min(max(part, Decimal(0)), whole)
    return int((Decimal(total) * part / whole).to_integral_value(rounding=ROUND_FLOOR))


def _reverse(
    *,
    member: Member,
    original: Order,
    order: Order,
    key: str,
    earn_back: int,
    restore: int,
    label: str,
    today: dt.date,
) -> int:
    """Restore spent points (a new lot), then take back earned points (never below zero)."""
    programme = programme_get()
    if restore > 0:
        entry_insert(
            member=member,
            kind=EntryKind.REVERSE,
            points=restore,
            is_lot=True,
            source=f"restore:{key}",
            reason=f"points spent on {original.external_id} restored ({label})",
            order_id=order.pk,
            effective_on=today,
            expires_on=expiry_for(programme, today),
        )
    available = balance_of(member_id=member.pk, today=today).available
    taken = min(earn_back, available)
    reason = f"{label} of {original.external_id}"
    if taken < earn_back:
        reason += f": {earn_back - taken} points already spent, not recovered"
    own_lot = (
        LedgerEntry.objects.filter(
            kind=EntryKind.EARN, source=order_key(original.customer_id, original.external_id)
        )
        .values_list("pk", flat=True)
        .first()
    )
    source = f"{label}:{key}"
    if taken > 0:
        entry = entry_take(
            member=member,
            kind=EntryKind.REVERSE,
            points=taken,
            source=source,
            reason=reason,
            today=today,
            order_id=order.pk,
            prefer_lot_id=own_lot,
        )
        return 0 if entry is None else 1
    entry = entry_insert(
        member=member,
        kind=EntryKind.REVERSE,
        points=0,
        source=source,
        reason=reason,
        order_id=order.pk,
        effective_on=today,
    )
    return 0 if entry is None else 1


@transaction.atomic
def order_refund_points(*, order: Order, today: dt.date | None = None) -> int:
    """A refunded (or cancelled after earning) order: reverse what is left of its earned
    points and restore what is left of the points spent on it. Once (``refund:`` source)."""
    today = today or timezone.localdate()
    member = Member.objects.filter(customer_id=order.customer_id).first()
    if member is None:
        return 0
    member = member_lock(member_id=member.pk)
    member_settle(member=member, today=today)
    earned, spent, returned = _earned_and_returned(order, member)
    whole = order.amount
    earn_back = earned - _share(earned, returned, whole)
    restore = spent - _share(spent, returned, whole)
    key = f"{order.customer_id}:{order.external_id}"
    return _reverse(
        member=member,
        original=order,
        order=order,
        key=key,
        earn_back=earn_back,
        restore=restore,
        label="refund",
        today=today,
    )


@transaction.atomic
def order_return_points(*, ret: Order, today: dt.date | None = None) -> int:
    """A return pointing to its original: reverse the original's earned points and restore
    spent ones, in proportion to the amount returned (cumulative, so rounding never adds up
    to more than the order earned). Once per return (``return:`` source)."""
    today = today or timezone.localdate()
    original = ret.original_order
    if original is None:
        return 0
    member = Member.objects.filter(customer_id=original.customer_id).first()
    if member is None:
        return 0
    member = member_lock(member_id=member.pk)
    member_settle(member=member, today=today)
    earned, spent, before = _earned_and_returned(original, member)
    refunded = LedgerEntry.objects.filter(
        kind=EntryKind.REVERSE, source=f"refund:{original.customer_id}:{original.external_id}"
    ).exists()
    after = before + (-ret.amount)
    whole = original.amount
    earn_back = 0 if refunded else _share(earned, after, whole) - _share(earned, before, whole)
    restore = 0 if refunded else _share(spent, after, whole) - _share(spent, before, whole)
    key = f"{ret.customer_id}:{ret.external_id}"
    return _reverse(
        member=member,
        original=original,
        order=ret,
        key=key,
        earn_back=earn_back,
        restore=restore,
        label="return",
        today=today,
    )
