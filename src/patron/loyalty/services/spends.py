"""The spend hot path: the member's lock with a check whether anything is due to settle
(one statement), and a spend that checks the balance, writes its entry and takes its lots
soonest-expiring first (on PostgreSQL one statement, set-based; elsewhere the same rules
in several).

Under the member's row lock the balance read by the spend's statement is the ledger after
every earlier spend of the member committed (READ COMMITTED takes a new snapshot per
statement), so concurrent spends queue on the lock and none can overdraw.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.utils import timezone

from patron.loyalty import errors
from patron.loyalty.errors import LoyaltyError, LoyaltyErrorCode
from patron.loyalty.models import Hold, HoldStatus, LedgerEntry, Member
from patron.loyalty.services.ledger import (
    _BALANCE_SUMS,
    _INSERT_FIELDS,
    _insert_values,
    balance_require,
    entry_take,
    member_settle,
)


def _day(value: dt.date) -> object:
    return LedgerEntry._meta.get_field("effective_on").get_db_prep_value(value, connection)


def member_lock_settled(*, member: Member, today: dt.date, now: dt.datetime | None = None) -> None:
    """Lock the member's row until the transaction ends and settle it (holds past their
    time released, lots past their last day expired) when anything is due: the lock and
    the check are one statement; settling costs more only when there is something to do.

    The check may see a hold or lot another spend settled while this one waited for the
    lock: settling again is then a no-op (guarded updates, unique sources)."""
    now = now or timezone.now()
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    moment = Hold._meta.get_field("expires_at").get_db_prep_value(now, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT m.id, EXISTS (SELECT 1 FROM loyalty_hold h WHERE h.member_id = m.id"
            " AND h.status = %s AND h.expires_at <= %s),"
            " EXISTS (SELECT 1 FROM loyalty_ledgerentry e WHERE e.member_id = m.id"
            " AND e.is_lot AND e.expires_on < %s)"
            f" FROM loyalty_member m WHERE m.id = %s{lock}",
            [HoldStatus.HELD, moment, _day(today), member.pk],
        )
        row = cursor.fetchone()
    if row is None:
        raise Member.DoesNotExist(f"member {member.pk}")
    if row[1] or row[2]:
        member_settle(member=member, today=today, now=now)


# The balance before the spend; the entry only when the balance covers it; its lots
# (remainder = points less uses), preferred lot first, then soonest-expiring (never last),
# then oldest; a running sum picks the lots that cover the spend and the last is taken in
# part. The lots and the balance are read as they were before this statement.
_SPEND_CTES = f"""
WITH bal(available, pending) AS (SELECT {_BALANCE_SUMS}),
new AS (
    INSERT INTO loyalty_ledgerentry ({", ".join(_INSERT_FIELDS)})
    SELECT {", ".join(["%s"] * len(_INSERT_FIELDS))} FROM bal WHERE bal.available >= %s
    ON CONFLICT (kind, source) DO NOTHING RETURNING id
),
lots AS (
    SELECT e.id, e.expires_on, e.effective_on,
           e.points - COALESCE((SELECT SUM(u.points) FROM loyalty_lotuse u
                                WHERE u.lot_id = e.id), 0) AS remaining
    FROM loyalty_ledgerentry e
    WHERE e.member_id = %s AND e.is_lot AND (e.available_on IS NULL OR e.available_on <= %s)
),
ordered AS (
    SELECT id, remaining,
           SUM(remaining) OVER (ORDER BY (id = %s) IS TRUE DESC, expires_on ASC NULLS LAST,
                                         effective_on, id) AS upto
    FROM lots WHERE remaining > 0
),
uses AS (
    INSERT INTO loyalty_lotuse (entry_id, lot_id, points)
    SELECT new.id, o.id, LEAST(o.remaining, %s - (o.upto - o.remaining))
    FROM new, ordered o WHERE o.upto - o.remaining < %s
    RETURNING points
)
"""
_SPEND_SQL = (
    _SPEND_CTES
    + """SELECT (SELECT id FROM new), (SELECT available FROM bal),
       (SELECT COALESCE(SUM(points), 0) FROM uses)"""
)


def entry_spend(
    *,
    member: Member,
    kind: str,
    points: int,
    source: str,
    reason: str,
    today: dt.date,
    field: str = "points",
    prefer_lot_id: int | None = None,
    created_by: object | None = None,
) -> tuple[LedgerEntry | None, int]:
    """Check the balance covers ``points`` (> 0) and take them from the lots as one negative
    entry. Returns (entry, the available balance before it); entry None when the source is
    in the ledger already (nothing taken twice). The caller holds the member's lock.

    Raises
    ------
    LoyaltyError
        ``insufficient_points`` (409) naming ``field``; nothing is written.
    """
    if connection.vendor != "postgresql":
        before = balance_require(member=member, points=points, today=today, field=field)
        entry = entry_take(
            member=member,
            kind=kind,
            points=points,
            source=source,
            reason=reason,
            today=today,
            prefer_lot_id=prefer_lot_id,
            created_by=created_by,
        )
        return entry, before.available
    entry, params = spend_params(
        member=member,
        kind=kind,
        points=points,
        source=source,
        reason=reason,
        today=today,
        prefer_lot_id=prefer_lot_id,
        created_by=created_by,
    )
    with connection.cursor() as cursor:
        cursor.execute(_SPEND_SQL, params)
        new_id, available, taken = cursor.fetchone()
    available = int(available)
    if new_id is None:
        if available < points:
            raise insufficient(available=available, points=points, field=field)
        return None, available
    spent_check(member=member, points=points, taken=int(taken))
    entry.pk = new_id
    entry._state.adding = False
    return entry, available


def spend_params(
    *,
    member: Member,
    kind: str,
    points: int,
    source: str,
    reason: str,
    today: dt.date,
    prefer_lot_id: int | None = None,
    created_by: object | None = None,
) -> tuple[LedgerEntry, list[object]]:
    """The entry (no pk yet) and the parameters of ``_SPEND_CTES``."""
    entry, values = _insert_values(
        {
            "member": member,
            "kind": kind,
            "points": -points,
            "source": source,
            "reason": reason[:200],
            "effective_on": today,
            "created_by": created_by,
        }
    )
    day = _day(today)
    params = [day, day, member.pk, *values, points, member.pk, day, prefer_lot_id, points, points]
    return entry, params


def insufficient(*, available: int, points: int, field: str = "points") -> LoyaltyError:
    return LoyaltyError(
        errors.INSUFFICIENT,
        code=LoyaltyErrorCode.INSUFFICIENT,
        field=field,
        extra={"points_balance": available},
        needed=points,
        balance=available,
    )


def spent_check(*, member: Member, points: int, taken: int) -> None:
    if taken != points:
        # The balance was checked in the statement and equals the lots' remainder.
        raise RuntimeError(
            f"ledger of member {member.pk} is short of {points - taken} points in its lots"
        )
