"""A member's figures for a read path (the member's own /me): what the settlement would
leave, read in one statement and written nowhere; and the programme with the tier above the
member's in another. Kept apart from :mod:`patron.loyalty.selectors` for the member portal."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils import timezone

from patron.loyalty.models import Hold, LedgerEntry, Programme, Tier
from patron.loyalty.services.ledger import programme_get


@dataclass(frozen=True)
class MemberSummary:
    """A member's figures as they stand once settled (holds past their time given back, lots
    past their last day expired), read without settling: what a member may spend now."""

    available: int
    pending: int
    expiring: list[dict[str, Any]]
    earned: int  # points earned in (window_start, today]: the tier value of a points basis
    earned_since: dt.date | None  # the oldest of those earnings


_SUMMARY = """
WITH gone AS (
  SELECT t.id FROM loyalty_hold h
  JOIN loyalty_ledgerentry t ON t.kind = 'hold' AND t.source = 'hold:' || CAST(h.id AS TEXT)
  WHERE h.member_id = %(member)s AND h.status = 'held' AND h.expires_at <= %(now)s
)
SELECT expires_on, SUM(spendable), SUM(pending), SUM(earned), MIN(earned_on),
       SUM(CASE WHEN remaining > 0 THEN remaining ELSE 0 END)
FROM (
  SELECT e.expires_on,
    CASE WHEN NOT e.pending AND (e.available_on IS NULL OR e.available_on <= %(today)s)
         THEN e.points ELSE 0 END AS spendable,
    CASE WHEN e.pending OR e.available_on > %(today)s THEN e.points ELSE 0 END AS pending,
    CASE WHEN %(earning)s THEN e.points ELSE 0 END AS earned,
    CASE WHEN %(earning)s THEN e.effective_on END AS earned_on,
    CASE WHEN e.is_lot AND (e.available_on IS NULL OR e.available_on <= %(today)s)
         THEN e.points - COALESCE((SELECT SUM(u.points) FROM loyalty_lotuse u
                                   WHERE u.lot_id = e.id
                                     AND u.entry_id NOT IN (SELECT id FROM gone)), 0)
         ELSE 0 END AS remaining
  FROM loyalty_ledgerentry e
  WHERE e.member_id = %(member)s AND e.id NOT IN (SELECT id FROM gone)
) lines
GROUP BY expires_on
"""
_EARNING = (
    "e.kind = 'earn' AND NOT e.pending AND e.effective_on > %(start)s "
    "AND e.effective_on <= %(today)s"
)


def member_summary(
    *,
    member_id: int,
    today: dt.date | None = None,
    window_start: dt.date | None = None,
    now: dt.datetime | None = None,
) -> MemberSummary:
    """Balance, pending points, points expiring by date, and the points earned after
    ``window_start``, in one statement and without writing: the figures ``member_refresh``
    followed by ``balance_of`` and ``member_expiring`` give, for a read path (the member's
    /me). Lots past their last day count as expired and holds past their time as released,
    as the settlement (the periodic ``points_expire``) will write them."""
    today = today or timezone.localdate()
    now = now or timezone.now()
    field = LedgerEntry._meta.get_field("effective_on")
    params = {
        "member": member_id,
        "today": field.get_db_prep_value(today, connection),
        "start": field.get_db_prep_value(window_start or today, connection),
        "now": Hold._meta.get_field("expires_at").get_db_prep_value(now, connection),
    }
    sql = _SUMMARY.replace("%(earning)s", _EARNING if window_start else "FALSE")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    available = pending = earned = 0
    since: dt.date | None = None
    expiring = []
    for expires_on, spendable, waiting, earning, earned_on, remaining in rows:
        expires_on, earned_on = _day(expires_on), _day(earned_on)
        available += int(spendable or 0)
        pending += int(waiting or 0)
        earned += int(earning or 0)
        if earned_on is not None and (since is None or earned_on < since):
            since = earned_on
        if expires_on is not None and remaining:
            if expires_on < today:
                available -= int(remaining)  # expired: settlement takes what is left
            else:
                expiring.append({"points": int(remaining), "expires_on": expires_on})
    expiring.sort(key=lambda e: e["expires_on"])
    return MemberSummary(available, pending, expiring, earned, since)


def _day(value: object) -> dt.date | None:
    """A date column's value (SQLite hands back text from a raw statement)."""
    if value is None or isinstance(value, dt.date):
        return value  # type: ignore[return-value]
    return dt.date.fromisoformat(str(value))


_PROGRAMME_NEXT_TIER = """
SELECT p.*, t.id AS next_id, t.code AS next_code, t.name_en AS next_name_en,
       t.name_zh AS next_name_zh, t.threshold AS next_threshold, t."rank" AS next_rank
FROM loyalty_programme p
LEFT JOIN loyalty_tier t ON t.programme_id = p.id AND t."rank" = (
  SELECT MIN(r."rank") FROM loyalty_tier r WHERE r.programme_id = p.id AND r."rank" > %s)
ORDER BY p.id LIMIT 1
"""


def programme_next_tier(*, rank: int) -> tuple[Programme, Tier | None]:
    """The programme (as ``programme_get``) and its lowest tier above ``rank`` (-1: above
    none), in one statement: a member's read path."""
    found = list(Programme.objects.raw(_PROGRAMME_NEXT_TIER, [rank]))
    if not found:
        return programme_get(), None  # a database before its first migration's programme
    programme = found[0]
    if programme.next_id is None:  # type: ignore[attr-defined]
        return programme, None
    tier = Tier(
        id=programme.next_id,  # type: ignore[attr-defined]
        programme_id=programme.pk,
        code=programme.next_code,  # type: ignore[attr-defined]
        name_en=programme.next_name_en,  # type: ignore[attr-defined]
        name_zh=programme.next_name_zh,  # type: ignore[attr-defined]
        rank=programme.next_rank,  # type: ignore[attr-defined]
        threshold=Decimal(str(programme.next_threshold)),  # type: ignore[attr-defined]
    )
    return programme, tier
