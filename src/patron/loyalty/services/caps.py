"""The earning rule's cap: at most ``cap_points`` earned from orders per member per period
(a day, a calendar month or a calendar year, by the order's date; a till's accrual is
dated the day it is made).

What counts against the cap: the points each order earned in the period, once (its lot,
or its pending points while it is open). Room taken is never given back: an open order
that is cancelled, a refund or a return leave the room they took, so what a member can
still earn in a period only shrinks and an order never earns more on a later look. An
order that reaches the cap earns what is left of it; past the cap, nothing (no entry).

Single accruals (:func:`cap_room`, under the member's lock) and the bulk sync after an
import (:func:`cap_table_fill`, one statement over every order it is about to earn, in
order of time) apply the same rule: within one period, orders are capped in the order they
are earned.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection

from patron.loyalty.models import CapPeriod, Programme

# The entries that use up room under the cap (alias ``e``): an order's earned lot, or its
# pending points when no lot has replaced them (``:pending`` is 8 characters).
COUNTED = (
    "e.kind = 'earn' AND e.source LIKE 'order:%%' AND (e.pending = {f} OR NOT EXISTS ("
    "SELECT 1 FROM loyalty_ledgerentry l WHERE l.kind = 'earn' "
    "AND l.source = substr(e.source, 1, length(e.source) - 8)))"
)
CAP_TABLE = "loyalty_cap_points"


def _false() -> str:
    return "FALSE" if connection.vendor == "postgresql" else "0"


def period_bounds(period: str, day: dt.date) -> tuple[dt.date, dt.date]:
    """[first day, day after the last) of the period holding ``day``."""
    if period == CapPeriod.DAY:
        return day, day + dt.timedelta(days=1)
    if period == CapPeriod.YEAR:
        return day.replace(month=1, day=1), day.replace(year=day.year + 1, month=1, day=1)
    start = day.replace(day=1)
    end = (start + dt.timedelta(days=32)).replace(day=1)
    return start, end


def period_sql(period: str, column: str) -> str:
    """The first day of the period holding the date ``column``, in SQL."""
    pg = connection.vendor == "postgresql"
    if period == CapPeriod.DAY:
        return column if pg else f"date({column})"
    unit = "year" if period == CapPeriod.YEAR else "month"
    return (
        f"CAST(date_trunc('{unit}', {column}) AS date)"
        if pg
        else f"date({column}, 'start of {unit}')"
    )


def cap_room(*, programme: Programme, member_id: int, day: dt.date) -> int | None:
    """Points the member can still earn in the period holding ``day`` (None: no cap). The
    caller holds the member's lock, so two accruals cannot both take the last room."""
    if programme.cap_points is None:
        return None
    start, end = period_bounds(programme.cap_period, day)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT COALESCE(SUM(e.points), 0) FROM loyalty_ledgerentry e
                WHERE e.member_id = %s AND e.effective_on >= %s AND e.effective_on < %s
                  AND {COUNTED.format(f=_false())}""",
            [member_id, start, end],
        )
        used = int(cursor.fetchone()[0])
    return max(programme.cap_points - used, 0)


def _least(a: str, b: str) -> str:
    return f"LEAST({a}, {b})" if connection.vendor == "postgresql" else f"MIN({a}, {b})"


def _greatest(a: str, b: str) -> str:
    return f"GREATEST({a}, {b})" if connection.vendor == "postgresql" else f"MAX({a}, {b})"


def cap_table_fill(*, programme: Programme, candidates: str, params: list[object]) -> None:
    """Create the temporary table ``loyalty_cap_points (order_id, points)``: the capped
    points of every order ``candidates`` selects (columns ``order_id, member_id, day,
    ordered_at, number, raw``: the orders the sync is about to earn and their uncapped
    points).

    Within a member's period, orders take the room left in order of time, then of order
    number (the file's id, not the database's, which a bulk write assigns in no set order): with
    ``upto`` the running sum of uncapped points and ``room`` what the ledger leaves,
    an order earns min(upto, room) - min(upto - raw, room), never below zero."""
    cap = int(programme.cap_points or 0)
    period = programme.cap_period
    room = f"({cap} - COALESCE(u.points, 0))"
    capped = (
        f"{_greatest('0', _least('r.upto', room))} "
        f"- {_greatest('0', _least('r.upto - r.raw', room))}"
    )
    sql = f"""
        CREATE TEMPORARY TABLE {CAP_TABLE} AS
        WITH cand AS ({candidates}),
        used AS (
            SELECT e.member_id, {period_sql(period, "e.effective_on")} AS period,
                   SUM(e.points) AS points
            FROM loyalty_ledgerentry e
            WHERE e.member_id IN (SELECT member_id FROM cand) AND {COUNTED.format(f=_false())}
            GROUP BY e.member_id, {period_sql(period, "e.effective_on")}),
        r AS (
            SELECT c.order_id, c.member_id, {period_sql(period, "c.day")} AS period, c.raw,
                   SUM(c.raw) OVER (PARTITION BY c.member_id, {period_sql(period, "c.day")}
                                    ORDER BY c.ordered_at, c.number, c.order_id
                                    ROWS UNBOUNDED PRECEDING) AS upto
            FROM cand c)
        SELECT r.order_id, {capped} AS points
        FROM r LEFT JOIN used u ON u.member_id = r.member_id AND u.period = r.period"""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {CAP_TABLE}")
        cursor.execute(sql, params)


def cap_table_drop() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {CAP_TABLE}")
