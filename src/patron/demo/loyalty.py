"""The demo's member programme, running for months: members enrolled from the top value
tiers (the first wave 18 months before the last day, the second 6 months before), points
from their orders, redemptions of points and rewards, expiries, tier changes, referrals and
a few manual adjustments, so every loyalty page shows real figures."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

WAVES = (("very_high", 540), ("high", 180))  # value tier, enrolled this many days before
REFERRED_SHARE = 0.1
REDEEMING_SHARE = 0.35
MAX_REDEEMING = 600
TIERS = (
    ("silver", "Silver", "银卡", 0, "0", "1.000", "Birthday coupon", "生日优惠券"),
    (
        "gold",
        "Gold",
        "金卡",
        1,
        "1500",
        "1.250",
        "Free delivery; 1.25× points",
        "免运费；1.25倍积分",
    ),
    (
        "platinum",
        "Platinum",
        "白金卡",
        2,
        "5000",
        "1.500",
        "Priority service; 1.5× points",
        "优先服务；1.5倍积分",
    ),
)
REWARDS = (
    ("coupon-20", "¥20 coupon", "20元优惠券", 2000, None, None, None),
    ("mug", "Branded mug", "品牌马克杯", 1200, 300, 2, None),
    ("tote", "Canvas tote bag", "帆布袋", 800, None, 3, None),
    ("lounge", "VIP lounge pass", "贵宾休息室通行证", 5000, 50, 1, "gold"),
)


@transaction.atomic
def demo_loyalty_create(*, today: dt.date, seed: int = 7, username: str = "demo") -> dict[str, int]:
    """Set up and run the programme on the demo data as of ``today``. Returns counts."""
    from django.contrib.auth import get_user_model

    from patron.customers.models import Customer
    from patron.loyalty import services
    from patron.loyalty.cards import card_new, referral_code_new
    from patron.loyalty.models import ExpiryMode, LedgerEntry, Member, Reward, Tier, TierChange
    from patron.loyalty.services.members import segment_customers

    rng = random.Random(seed)
    programme = services.programme_get()
    programme.expiry_mode, programme.expiry_days = ExpiryMode.DAYS, 365
    programme.cost_per_point = Decimal("0.01")
    programme.tiers_enabled, programme.tier_window_months = True, 12
    programme.referral_bonus_points, programme.downgrade_grace_days = 500, 30
    programme.day_multipliers = {"5": 2}  # double points on Saturdays
    programme.save()
    tiers = {}
    for code, en, zh, rank, threshold, mult, ben_en, ben_zh in TIERS:
        tiers[code], _ = Tier.objects.update_or_create(
            programme=programme,
            code=code,
            defaults={
                "name_en": en,
                "name_zh": zh,
                "rank": rank,
                "threshold": Decimal(threshold),
                "multiplier": Decimal(mult),
                "benefits_en": ben_en,
                "benefits_zh": ben_zh,
            },
        )
    rewards = []
    for code, en, zh, cost, stock, limit, tier in REWARDS:
        reward, _ = Reward.objects.update_or_create(
            code=code,
            defaults={
                "name_en": en,
                "name_zh": zh,
                "points_cost": cost,
                "stock": stock,
                "per_member_limit": limit,
                "min_tier": tiers.get(tier or ""),
            },
        )
        rewards.append(reward)

    # enrol the top tiers in two waves (bulk: cards drawn here, points by one set-based sync)
    ids = {c: pk for c, pk in Customer.objects.values_list("external_id", "pk")}
    members: list[Member] = []
    taken: set[str] = set()
    for tier_code, days in WAVES:
        when = timezone.make_aware(
            dt.datetime.combine(today - dt.timedelta(days=days), dt.time(10))
        )
        for external_id in segment_customers(f"tier:{tier_code}"):
            if external_id in taken:
                continue
            taken.add(external_id)
            members.append(
                Member(
                    customer_id=ids[external_id],
                    card_number=card_new(),
                    referral_code=referral_code_new(),
                    enrolled_at=when,
                )
            )
    Member.objects.bulk_create(members, batch_size=2000)
    members = list(Member.objects.order_by("enrolled_at", "pk"))
    first_wave = [m for m in members if m.enrolled_at.date() < today - dt.timedelta(days=365)]
    second_wave = [m for m in members if m not in first_wave]
    referred = rng.sample(second_wave, int(len(second_wave) * REFERRED_SHARE)) if first_wave else []
    for member in referred:
        member.referred_by = rng.choice(first_wave)
    Member.objects.bulk_update(referred, ["referred_by"], batch_size=2000)
    TierChange.objects.bulk_create(
        [TierChange(member=m, changed_on=m.enrolled_at.date(), reason="enrolled") for m in members],
        batch_size=2000,
    )
    # tiers as they stood 3 months ago, then points for every member's orders since enrolling,
    # then today's tiers (upgrades and downgrades after the grace period)
    services.tiers_reevaluate(today=today - dt.timedelta(days=90))
    services.order_points_sync(changed=True, today=today)
    services.tiers_reevaluate(today=today)

    # redemptions spread over the months, never more than was earned by their day
    redeemers = rng.sample(members, min(MAX_REDEEMING, int(len(members) * REDEEMING_SHARE)))
    redeemed = 0
    for n, member in enumerate(redeemers):
        start = member.enrolled_at.date()
        day = start + dt.timedelta(days=rng.randint(30, max(31, (today - start).days - 1)))
        earned = sum(
            LedgerEntry.objects.filter(
                member=member, pending=False, effective_on__lte=day
            ).values_list("points", flat=True)
        )
        if earned < 800:
            continue
        member.refresh_from_db()
        affordable = [r for r in rewards if r.points_cost <= earned and r.min_tier is None]
        try:
            if affordable and rng.random() < 0.6:
                reward = rng.choice(affordable)
                services.points_redeem(
                    member=member,
                    idempotency_key=f"demo-{n}",
                    rewards=[services.RewardLine(reward.pk, 1)],
                    today=day,
                )
            else:
                services.points_redeem(
                    member=member,
                    idempotency_key=f"demo-{n}",
                    points=rng.randint(100, min(earned, 3000)),
                    today=day,
                )
            redeemed += 1
        except Exception:
            continue
    expired = services.points_expire(today=today)
    user = get_user_model().objects.filter(username=username).first()
    for member in rng.sample(members, min(5, len(members))):
        services.points_adjust(
            member=member,
            points=rng.choice([100, 200, 300]),
            reason="Compensation for a late delivery",
            user=user,
            today=today,
        )
    return {
        "members": len(members),
        "referred": len(referred),
        "redemptions": redeemed,
        "expired": expired,
    }
