"""Loyalty's reads: a member by card, the member's figures from the ledger, statements, lists."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from patron.loyalty import errors
from patron.loyalty.cards import card_valid
from patron.loyalty.errors import LoyaltyError, LoyaltyErrorCode
from patron.loyalty.models import LedgerEntry, Member
from patron.loyalty.services.ledger import balance_of, lots_open


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
