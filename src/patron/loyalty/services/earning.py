"""The earning rule: points for an amount (Python, for a till's accrual) and the same rule
as SQL (for the set-based sync), the orders' source key, and the SQL pieces the sync
builds its statements from."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from django.db import connection

from patron.loyalty.models import (
    ExpiryMode,
    Programme,
    Rounding,
    Tier,
)
from patron.sales.models import OrderStatus

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
