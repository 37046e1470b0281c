"""Tiers: re-evaluated daily (a Huey periodic task) and on demand; upgrades at once (after
points are earned), downgrades only at re-evaluation, after the grace period, never below
a manual floor that has not ended. Every change is kept (``TierChange``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from patron.loyalty.models import EntryKind, LedgerEntry, Member, Tier, TierBasis, TierChange
from patron.loyalty.services.ledger import programme_get
from patron.sales.models import REVENUE_STATUSES, Order


def months_before(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 - months
    year = day.year + month // 12
    month = month % 12 + 1
    last = [
        31,
        29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28,
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ][month - 1]
    return dt.date(year, month, min(day.day, last))


def qualifying_values(
    *, today: dt.date, customer_ids: list[int] | None = None
) -> dict[int, Decimal]:
    """Member id -> spend (net of returns) or points earned in the rolling window."""
    programme = programme_get()
    start = months_before(today, programme.tier_window_months)
    members = Member.objects.all()
    if customer_ids is not None:
        members = members.filter(customer_id__in=customer_ids)
    by_customer = dict(members.values_list("customer_id", "pk"))
    if programme.tier_basis == TierBasis.POINTS:
        rows = (
            LedgerEntry.objects.filter(
                member_id__in=by_customer.values(),
                kind=EntryKind.EARN,
                pending=False,
                effective_on__gt=start,
                effective_on__lte=today,
            )
            .values("member_id")
            .annotate(v=Sum("points"))
        )
        return {r["member_id"]: Decimal(r["v"]) for r in rows}
    rows = (
        Order.objects.filter(
            customer_id__in=by_customer,
            status__in=REVENUE_STATUSES,
            ordered_on__gt=start,
            ordered_on__lte=today,
        )
        .values("customer_id")
        .annotate(v=Sum("amount"))
    )
    return {by_customer[r["customer_id"]]: Decimal(r["v"]) for r in rows}


def tier_for(value: Decimal, tiers: list[Tier]) -> Tier | None:
    """The highest tier whose threshold ``value`` reaches (tiers by rank, lowest first)."""
    chosen = None
    for tier in tiers:
        if value >= tier.threshold:
            chosen = tier
    return chosen


@transaction.atomic
def tiers_reevaluate(
    *,
    today: dt.date | None = None,
    upgrade_only: bool = False,
    customer_ids: list[int] | None = None,
) -> dict[str, int]:
    """Put members in the tier their qualifying value earns. Returns counts of up/downgrades."""
    today = today or timezone.localdate()
    programme = programme_get()
    counts = {"upgraded": 0, "downgraded": 0}
    if not programme.tiers_enabled:
        return counts
    tiers = list(programme.tiers.order_by("rank"))
    if not tiers:
        return counts
    rank = {t.pk: t.rank for t in tiers}
    values = qualifying_values(today=today, customer_ids=customer_ids)
    members = Member.objects.select_for_update().order_by("pk")
    if customer_ids is not None:
        members = members.filter(customer_id__in=customer_ids)
    changes, changed = [], []
    for member in members.only("pk", "tier_id", "tier_since", "tier_floor_id", "tier_floor_until"):
        target = tier_for(values.get(member.pk, Decimal(0)), tiers)
        floor_on = member.tier_floor_id and (
            member.tier_floor_until is None or member.tier_floor_until >= today
        )
        if floor_on and (target is None or rank[target.pk] < rank[member.tier_floor_id]):
            target = next(t for t in tiers if t.pk == member.tier_floor_id)
        current = rank.get(member.tier_id or 0, -1)
        wanted = rank[target.pk] if target is not None else -1
        if wanted > current:
            reason = "upgrade"
        elif wanted < current and not upgrade_only:
            grace_end = (member.tier_since or today) + dt.timedelta(
                days=programme.downgrade_grace_days
            )
            if today < grace_end:
                continue
            reason = "downgrade"
        else:
            continue
        changes.append(
            TierChange(
                member_id=member.pk,
                from_tier_id=member.tier_id,
                to_tier_id=target.pk if target else None,
                changed_on=today,
                reason=reason,
            )
        )
        member.tier_id, member.tier_since = (target.pk if target else None), today
        changed.append(member)
        counts["upgraded" if reason == "upgrade" else "downgraded"] += 1
    Member.objects.bulk_update(changed, ["tier_id", "tier_since"], batch_size=1000)
    TierChange.objects.bulk_create(changes, batch_size=1000)
    return counts


def tier_migration(*, start: dt.date, end: dt.date) -> dict[tuple[str, str], int]:
    """Members by (tier on ``start``, tier on ``end``), from the tier history (codes; '' for
    no tier), like the value-tier migration of analysis runs."""
    codes = {t.pk: t.code for t in Tier.objects.all()}

    def tier_on(day: dt.date) -> dict[int, str]:
        state: dict[int, str] = {}
        for change in TierChange.objects.filter(changed_on__lte=day).order_by("changed_on", "pk"):
            state[change.member_id] = codes.get(change.to_tier_id or 0, "")
        return state

    before, after = tier_on(start), tier_on(end)
    counts: dict[tuple[str, str], int] = {}
    for member_id in Member.objects.filter(Q(enrolled_at__date__lte=end)).values_list(
        "pk", flat=True
    ):
        key = (before.get(member_id, ""), after.get(member_id, ""))
        counts[key] = counts.get(key, 0) + 1
    return counts
