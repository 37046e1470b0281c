"""The programme analytics' reads: aggregates in the database, one row per customer at most
into Python, figures from :mod:`patron.analytics.loyalty`."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import Count, Max, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from patron.analytics.loyalty import group_figures, liability_trend, programme_rates
from patron.loyalty.models import EntryKind, LedgerEntry, Member, RedemptionItem, Tier
from patron.loyalty.services.ledger import programme_get
from patron.loyalty.services.tiers import months_before, tier_migration
from patron.sales.models import REVENUE_STATUSES, Order

WINDOW_MONTHS = 12
BEFORE_AFTER_MONTHS = 6


def _as_of() -> dt.date:
    last = Order.objects.aggregate(d=Max("ordered_on"))["d"]
    return last or timezone.localdate()


def points_totals() -> dict[str, Any]:
    """Earned, spent, expired, outstanding points, liability, redemption rate, breakage."""
    sums = LedgerEntry.objects.filter(pending=False).aggregate(
        earned=Sum("points", filter=Q(kind=EntryKind.EARN), default=0),
        spent=Sum("points", filter=Q(kind=EntryKind.SPEND), default=0),
        expired=Sum("points", filter=Q(kind=EntryKind.EXPIRE), default=0),
        outstanding=Sum("points", default=0),
    )
    programme = programme_get()
    rates = programme_rates(
        earned=int(sums["earned"]),
        spent=-int(sums["spent"]),
        expired=-int(sums["expired"]),
        outstanding=int(sums["outstanding"]),
        cost_per_point=float(programme.cost_per_point),
    )
    return {
        "rates": rates,
        "members": Member.objects.count(),
        "cost_per_point": programme.cost_per_point,
    }


def points_by_month() -> list[dict[str, Any]]:
    """Per month: earned, spent, expired, net, and the liability at the month's end."""
    rows = (
        LedgerEntry.objects.filter(pending=False)
        .annotate(month=TruncMonth("effective_on"))
        .values("month")
        .annotate(
            earned=Sum("points", filter=Q(kind=EntryKind.EARN), default=0),
            spent=Sum("points", filter=Q(kind=EntryKind.SPEND), default=0),
            expired=Sum("points", filter=Q(kind=EntryKind.EXPIRE), default=0),
            net=Sum("points", default=0),
        )
        .order_by("month")
    )
    rows = list(rows)
    cost = float(programme_get().cost_per_point)
    trend = liability_trend([r["net"] for r in rows], cost_per_point=cost) if rows else []
    return [
        {
            "month": r["month"],
            "earned": int(r["earned"]),
            "spent": -int(r["spent"]),
            "expired": -int(r["expired"]),
            "liability": float(v),
        }
        for r, v in zip(rows, trend, strict=True)
    ]


def _per_customer(
    start: dt.date, end: dt.date, customer_ids: set[int] | None = None
) -> dict[int, dict[str, Any]]:
    middle = start + (end - start) / 2
    orders = Order.objects.filter(
        status__in=REVENUE_STATUSES, ordered_on__gt=start, ordered_on__lte=end
    )
    if customer_ids is not None:
        orders = orders.filter(customer_id__in=customer_ids)
    rows = orders.values("customer_id").annotate(
        spend=Sum("amount"),
        orders=Count("pk", filter=~Q(status="returned")),
        early=Count("pk", filter=Q(ordered_on__lte=middle)),
        late=Count("pk", filter=Q(ordered_on__gt=middle)),
    )
    return {r["customer_id"]: r for r in rows}


def members_against_others() -> dict[str, Any]:
    """Members and non-members who bought in the last 12 months: spend, frequency,
    retention; and members' own monthly spend before and after enrolment."""
    end = _as_of()
    start = months_before(end, WINDOW_MONTHS)
    rows = _per_customer(start, end)
    member_ids = set(Member.objects.values_list("customer_id", flat=True))
    groups = {}
    for key, chosen in (("members", True), ("others", False)):
        picked = [r for cid, r in rows.items() if (cid in member_ids) == chosen]
        groups[key] = group_figures(
            [float(r["spend"] or 0) for r in picked],
            [r["orders"] for r in picked],
            [r["early"] > 0 for r in picked],
            [r["late"] > 0 for r in picked],
        )
    # members' own spend, the months before and after enrolment (members enrolled long enough)
    span = BEFORE_AFTER_MONTHS
    before_total, after_total, counted = Decimal(0), Decimal(0), 0
    for member in Member.objects.filter(enrolled_at__date__lte=months_before(end, span)).only(
        "customer_id", "enrolled_at"
    ):
        day = member.enrolled_at.date()
        sums = Order.objects.filter(
            customer_id=member.customer_id, status__in=REVENUE_STATUSES
        ).aggregate(
            before=Sum(
                "amount",
                filter=Q(ordered_on__gt=months_before(day, span), ordered_on__lte=day),
                default=0,
            ),
            after=Sum(
                "amount",
                filter=Q(ordered_on__gt=day, ordered_on__lte=_months_after(day, span)),
                default=0,
            ),
        )
        before_total += sums["before"]
        after_total += sums["after"]
        counted += 1
    own = None
    if counted:
        own = {
            "members": counted,
            "before": before_total / counted / span,
            "after": after_total / counted / span,
        }
    return {"start": start, "end": end, "groups": groups, "own": own}


def _months_after(day: dt.date, months: int) -> dt.date:
    return months_before(day, -months)


def tier_distribution() -> list[dict[str, Any]]:
    counts = dict(Member.objects.values_list("tier_id").annotate(n=Count("pk")))
    rows = [{"tier": t, "members": counts.get(t.pk, 0)} for t in Tier.objects.order_by("-rank")]
    rows.append({"tier": None, "members": counts.get(None, 0)})
    return rows


def tier_moves(start: dt.date, end: dt.date) -> dict[str, Any]:
    counts = tier_migration(start=start, end=end)
    codes = [""] + [t.code for t in Tier.objects.order_by("rank")]
    names = {t.code: t for t in Tier.objects.all()}
    return {
        "codes": codes,
        "names": names,
        "matrix": [[counts.get((a, b), 0) for b in codes] for a in codes],
        "start": start,
        "end": end,
        "up": sum(n for (a, b), n in counts.items() if codes.index(b) > codes.index(a)),
        "down": sum(n for (a, b), n in counts.items() if codes.index(b) < codes.index(a)),
    }


def top_rewards(limit: int = 10) -> list[dict[str, Any]]:
    return list(
        RedemptionItem.objects.values("reward__code", "reward__name_en", "reward__name_zh")
        .annotate(quantity=Sum("quantity"), points=Sum("points"))
        .order_by("-quantity", "reward__code")[:limit]
    )


def referral_value() -> dict[str, Any]:
    """Referred members against other members: revenue, CLV (latest run) and retention."""
    from patron.insights.models import CustomerScore
    from patron.insights.selectors import analysis_run_list

    end = _as_of()
    start = months_before(end, WINDOW_MONTHS)
    run = analysis_run_list().first()
    out: dict[str, Any] = {
        "referrers": Member.objects.filter(referrals__isnull=False).distinct().count()
    }
    for key, referred in (("referred", True), ("others", False)):
        ids = set(
            Member.objects.filter(referred_by__isnull=not referred).values_list(
                "customer_id", flat=True
            )
        )
        rows = _per_customer(start, end, ids)
        figures = group_figures(
            [float(r["spend"] or 0) for r in rows.values()],
            [r["orders"] for r in rows.values()],
            [r["early"] > 0 for r in rows.values()],
            [r["late"] > 0 for r in rows.values()],
        )
        clv = None
        if run is not None and ids:
            clv = CustomerScore.objects.filter(run=run, customer_id__in=ids).aggregate(
                c=Sum("clv"), n=Count("clv")
            )
            clv = (clv["c"] / clv["n"]) if clv["n"] else None
        revenue = sum((r["spend"] or 0) for r in rows.values())
        out[key] = {"members": len(ids), "figures": figures, "revenue": revenue, "clv": clv}
    return out
