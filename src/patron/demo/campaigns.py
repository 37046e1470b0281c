"""The demo's past campaigns: sends, controls and responses whose true effect is known.

Each campaign reached the treatment group of a saved segment (customers who consent to the
channel), held a control group out by the same stable hash as a real launch, and then, as the
generator's ground truth, gave each reached customer an extra purchase in the attribution
window with probability ``uplift`` (on top of the purchases they would have made anyway, which
the control group shows). The extra orders (source ``demo-campaign``), their count and revenue
are recorded in the demo state under ``campaigns``, so an evaluation of the campaign can be
checked against the effect that made the data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from django.utils import timezone

CAMPAIGN_SOURCE = "demo-campaign"


@dataclass(frozen=True)
class DemoCampaign:
    name: str
    goal: str
    channel: str
    days_before_end: int  # contacted this many days before the last order day
    uplift: float  # true probability of an extra purchase caused by the campaign
    offer: str
    control_share: float = 0.2


DEMO_CAMPAIGNS = (
    DemoCampaign("春季唤醒 Spring reactivation", "reactivate", "sms", 60, 0.08, "coupon"),
    DemoCampaign("会员双倍积分 Member double points", "frequency", "email", 30, 0.04, "points"),
)


def demo_campaigns_create(*, last_day: dt.date, seed: int = 17) -> dict[str, dict[str, object]]:
    """Write the past campaigns (see the module); returns the truth per campaign name."""
    from patron.campaigns.audience import group_for
    from patron.campaigns.content import coupon_code_new
    from patron.campaigns.models import (
        Campaign,
        CampaignStatus,
        Group,
        Response,
        ResponseKind,
        Segment,
        Target,
        TargetState,
    )
    from patron.campaigns.rules import segment_queryset
    from patron.messaging.policy import contact_policy_get
    from patron.sales.models import Order

    rng = np.random.default_rng(seed)
    policy = contact_policy_get()
    truth: dict[str, dict[str, object]] = {}
    Campaign.objects.filter(name__in=[c.name for c in DEMO_CAMPAIGNS]).delete()
    for spec in DEMO_CAMPAIGNS:
        rules = {"all": [{"field": f"consent_{spec.channel}", "op": "=", "value": True}]}
        segment, _ = Segment.objects.update_or_create(
            name=f"{spec.channel.upper()} consent", defaults={"rules": rules}
        )
        day = last_day - dt.timedelta(days=spec.days_before_end)
        contacted = timezone.make_aware(dt.datetime.combine(day, dt.time(10)))
        campaign = Campaign.objects.create(
            name=spec.name,
            goal=spec.goal,
            segment=segment,
            channel=spec.channel,
            offer=spec.offer,
            offer_points=200 if spec.offer == "points" else 0,
            control_share=spec.control_share,
            attribution_days=14,
            status=CampaignStatus.DONE,
            launched_at=contacted,
            occurrences=1,
            cost_per_message=Decimal("0.05"),
            cost_per_redemption=Decimal("5.00"),
            subject_en=spec.name,
            subject_zh=spec.name,
            body_text_en="Hello {{ name }}",
            body_text_zh="{{ name }}您好",
        )
        ids = list(segment_queryset(rules=rules).order_by("pk").values_list("pk", flat=True))
        targets = []
        for customer_id in ids:
            group = group_for(campaign=campaign, customer_id=customer_id, policy=policy)
            reached = group == Group.TREATMENT
            targets.append(
                Target(
                    campaign=campaign,
                    customer_id=customer_id,
                    occurrence=1,
                    group=group,
                    state=TargetState.SENT if reached else TargetState.HELD_OUT,
                    contacted_at=contacted,
                    coupon_code=coupon_code_new() if reached and spec.offer == "coupon" else None,
                )
            )
        Target.objects.bulk_create(targets, batch_size=2000)
        reached = [t for t in targets if t.group == Group.TREATMENT]
        lifted = [
            t for t, hit in zip(reached, rng.random(len(reached)) < spec.uplift, strict=True) if hit
        ]
        offsets = rng.uniform(0, 13.5, len(lifted))
        amounts = np.round(rng.gamma(2.0, 60.0, len(lifted)) + 10, 2)
        orders = []
        for target, offset, amount in zip(lifted, offsets, amounts, strict=True):
            at = contacted + dt.timedelta(days=float(offset))
            orders.append(
                Order(
                    source=CAMPAIGN_SOURCE,
                    external_id=f"{campaign.pk}-{target.customer_id}",
                    customer_id=target.customer_id,
                    ordered_at=at,
                    ordered_on=timezone.localtime(at).date(),
                    amount=Decimal(str(amount)),
                    channel=spec.channel,
                )
            )
        Order.objects.bulk_create(orders, batch_size=2000)
        if spec.offer == "coupon":
            created = dict(
                Order.objects.filter(
                    source=CAMPAIGN_SOURCE, external_id__startswith=f"{campaign.pk}-"
                ).values_list("customer_id", "pk")
            )
            for target in lifted:
                Target.objects.filter(campaign=campaign, customer_id=target.customer_id).update(
                    coupon_redeemed_at=contacted + dt.timedelta(days=1),
                    coupon_order_id=created[target.customer_id],
                )
            Response.objects.bulk_create(
                [
                    Response(
                        campaign=campaign,
                        customer_id=t.customer_id,
                        kind=ResponseKind.REDEEM,
                        at=contacted + dt.timedelta(days=1),
                        order_id=created[t.customer_id],
                    )
                    for t in lifted
                ]
            )
        truth[spec.name] = {
            "campaign_id": campaign.pk,
            "uplift": spec.uplift,
            "reached": len(reached),
            "control": sum(t.group == Group.CONTROL for t in targets),
            "extra_orders": len(orders),
            "extra_revenue": str(sum((o.amount for o in orders), Decimal(0))),
        }
    return truth
