"""Reads: a campaign's accounting (every target in exactly one state), its results against
the control group, lists, and one customer's campaigns."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from patron.campaigns.models import (
    Campaign,
    CampaignStatus,
    Group,
    Response,
    ResponseKind,
    Target,
    TargetState,
)
from patron.campaigns.rules import PURCHASE_STATUSES
from patron.messaging.models import OutboxStatus


@dataclass
class CampaignAccount:
    status: str
    targeted: int = 0
    sent: int = 0
    held_out: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    failed: int = 0
    in_doubt: int = 0  # counted in failed, shown apart: maybe sent, never re-sent
    pending: int = 0  # queued, deferred under the cap or quiet hours, or being sent

    def api(self) -> dict[str, Any]:
        """The API's shape: status, targeted, sent, held_out, skipped {reason: n}, failed."""
        return {
            "status": self.status,
            "targeted": self.targeted,
            "sent": self.sent,
            "held_out": self.held_out,
            "skipped": dict(self.skipped),
            "failed": self.failed,
        }

    @property
    def accounted(self) -> int:
        return self.sent + self.held_out + sum(self.skipped.values()) + self.failed + self.pending


def campaign_get(*, campaign_id: int) -> Campaign | None:
    return Campaign.objects.select_related("segment").filter(pk=campaign_id).first()


def campaign_list() -> QuerySet[Campaign]:
    return Campaign.objects.select_related("segment").order_by("-created_at", "-id")


def campaign_account(*, campaign: Campaign) -> CampaignAccount:
    """Every target of every occurrence in exactly one state, in one grouped query: held out
    and skipped as frozen, the rest by its outbox row (sent, skipped at dispatch, failed or
    in doubt; still open = pending)."""
    rows = (
        Target.objects.filter(campaign=campaign)
        .values("state", "reason", "message__status", "message__reason")
        .annotate(n=Count("id"))
        .order_by()
    )
    account = CampaignAccount(status=campaign.status)
    for row in rows:
        n = row["n"]
        account.targeted += n
        state, status = row["state"], row["message__status"]
        if state == TargetState.HELD_OUT:
            account.held_out += n
        elif state == TargetState.SKIPPED:
            account.skipped[row["reason"]] = account.skipped.get(row["reason"], 0) + n
        elif state == TargetState.SENT:
            account.sent += n
        elif state == TargetState.FAILED:
            account.failed += n
        elif status == OutboxStatus.SENT:
            account.sent += n
        elif status == OutboxStatus.SKIPPED:
            reason = row["message__reason"]
            account.skipped[reason] = account.skipped.get(reason, 0) + n
        elif status == OutboxStatus.FAILED:
            account.failed += n
        elif status == OutboxStatus.IN_DOUBT:
            account.failed += n
            account.in_doubt += n
        else:
            account.pending += n
    if account.status == CampaignStatus.RUNNING and account.pending == 0:
        account.status = CampaignStatus.DONE
    return account


@dataclass(frozen=True)
class GroupResult:
    group: str
    customers: int
    buyers: int
    revenue: Decimal
    redeemed: int
    clicks: int

    @property
    def rate(self) -> float | None:
        return self.buyers / self.customers if self.customers else None


def campaign_results(*, campaign: Campaign) -> dict[str, GroupResult]:
    """Treatment (reached) against control (held out): customers who bought within the
    attribution window from the contact time, their revenue, coupons and clicks."""
    from patron.sales.models import Order

    window = dt.timedelta(days=campaign.attribution_days)
    orders = Order.objects.filter(
        customer_id=OuterRef("customer_id"),
        status__in=PURCHASE_STATUSES,
        amount__gt=0,
        ordered_at__gte=OuterRef("contacted_at"),
        ordered_at__lt=OuterRef("contacted_at") + window,
    )
    reached = Target.objects.filter(campaign=campaign, group=Group.TREATMENT).filter(
        state=TargetState.SENT
    ) | Target.objects.filter(
        campaign=campaign, group=Group.TREATMENT, message__status=OutboxStatus.SENT
    )
    held = Target.objects.filter(campaign=campaign, group=Group.CONTROL, state=TargetState.HELD_OUT)
    results = {}
    for name, targets in (("treatment", reached), ("control", held)):
        spend = (
            Order.objects.filter(
                customer_id=OuterRef("customer_id"),
                status__in=PURCHASE_STATUSES,
                amount__gt=0,
                ordered_at__gte=OuterRef("contacted_at"),
                ordered_at__lt=OuterRef("contacted_at") + window,
            )
            .order_by()
            .values("customer_id")
            .annotate(s=Sum("amount"))
            .values("s")
        )
        customers = targets.count()
        buyers = targets.filter(Exists(orders)).count()
        revenue = targets.annotate(spent=Subquery(spend)).aggregate(
            r=Coalesce(Sum("spent"), Decimal(0))
        )["r"]
        redeemed = targets.filter(coupon_redeemed_at__isnull=False).count()
        clicks = (
            Response.objects.filter(campaign=campaign, kind=ResponseKind.CLICK)
            .values("customer_id")
            .distinct()
            .count()
            if name == "treatment"
            else 0
        )
        results[name] = GroupResult(name, customers, buyers, Decimal(revenue), redeemed, clicks)
    return results


def campaigns_for_customer(*, customer_id: int, limit: int = 20) -> list[Target]:
    return list(
        Target.objects.filter(customer_id=customer_id)
        .select_related("campaign", "message")
        .order_by("-campaign__created_at", "-occurrence")[:limit]
    )
