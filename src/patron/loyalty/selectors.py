"""Loyalty's reads: a member by card, the member's figures from the ledger, statements, lists."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from patron.loyalty import errors
from patron.loyalty.cards import card_valid
from patron.loyalty.errors import LoyaltyError, LoyaltyErrorCode
from patron.loyalty.models import Hold, LedgerEntry, Member, Programme, Tier
from patron.loyalty.services.ledger import balance_of, lots_open, programme_get


def member_by_card(*, card_number: object, field: str = "card_number") -> Member:
    """The member with this card. Raises ``card_invalid`` (bad check digit) or
    ``card_unknown`` (404)."""
    number = str(card_number or "").strip()
    if not card_valid(number):
        raise LoyaltyError(
            errors.CARD_INVALID, code=LoyaltyErrorCode.CARD_INVALID, field=field, value=card_number
        )
    member = Member.objects.select_related("customer", "tier").filter(card_number=number).first()
    if member is None:
        raise LoyaltyError(
            errors.CARD_UNKNOWN, code=LoyaltyErrorCode.CARD_UNKNOWN, field=field, value=number
        )
    return member


def member_expiring(*, member: Member, today: dt.date | None = None) -> list[dict[str, Any]]:
    """Points left in lots that expire, by date, soonest first."""
    today = today or timezone.localdate()
    by_day: dict[dt.date, int] = {}
    for lot in lots_open(member_id=member.pk, today=today):
        if lot.expires_on is not None:
            by_day[lot.expires_on] = by_day.get(lot.expires_on, 0) + lot.remaining  # type: ignore[attr-defined]
    return [{"points": p, "expires_on": d} for d, p in sorted(by_day.items())]


def member_figures(*, member: Member, today: dt.date | None = None) -> dict[str, Any]:
    """The API's member shape: card, customer id, tier, balance and pending from the ledger."""
    balance = balance_of(member_id=member.pk, today=today)
    return {
        "card_number": member.card_number,
        "customer_id": member.customer.external_id,
        "tier": member.tier.code if member.tier_id else None,  # type: ignore[union-attr]
        "points_balance": balance.available,
        "points_pending": balance.pending,
    }


def member_statement(*, member: Member, limit: int | None = None) -> list[dict[str, Any]]:
    """The member's ledger, oldest first, with the spendable balance after each line."""
    rows, running = [], 0
    entries = LedgerEntry.objects.filter(member=member).order_by("effective_on", "pk")
    for e in entries:
        if not e.pending:
            running += e.points
        rows.append(
            {
                "date": e.effective_on,
                "kind": e.kind,
                "kind_label": str(e.get_kind_display()),
                "points": e.points,
                "pending": e.pending,
                "reason": e.reason,
                "source": e.source,
                "expires_on": e.expires_on,
                "balance": running,
            }
        )
    return rows[-limit:] if limit else rows


def member_list(
    *, tier: str | None = None, query: str | None = None, referred: bool | None = None
) -> QuerySet[Member]:
    members = Member.objects.select_related("customer", "tier").order_by("-enrolled_at", "-pk")
    if tier == "-":
        members = members.filter(tier__isnull=True)
    elif tier:
        members = members.filter(tier__code=tier)
    if query:
        from django.db.models import Q

        members = members.filter(
            Q(card_number__startswith=query.strip())
            | Q(customer__external_id=query.strip())
            | Q(customer__name__icontains=query.strip())
        )
    if referred is not None:
        members = members.filter(referred_by__isnull=not referred)
    return members


def tier_progress(*, member: Member, today: dt.date | None = None) -> dict[str, Any] | None:
    """The member's qualifying value in the window and what the next tier needs."""
    from patron.loyalty.services.ledger import programme_get
    from patron.loyalty.services.tiers import qualifying_values

    programme = programme_get()
    if not programme.tiers_enabled:
        return None
    today = today or timezone.localdate()
    value = qualifying_values(today=today, customer_ids=[member.customer_id]).get(member.pk, 0)
    current = member.tier.rank if member.tier_id else -1  # type: ignore[union-attr]
    upper = [t for t in programme.tiers.order_by("rank") if t.rank > current]
    nxt = upper[0] if upper else None
    share = 100 if nxt is None or nxt.threshold <= 0 else min(100, int(100 * value / nxt.threshold))
    return {
        "value": value,
        "basis": programme.tier_basis,
        "next": nxt,
        "percent": share,
        "missing": (nxt.threshold - value) if nxt is not None else 0,
    }


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
