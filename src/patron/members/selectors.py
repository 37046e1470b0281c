"""Member self-service reads. Every function takes the signed-in member and reads only that
member's rows; nothing here takes a card number, customer id or redemption id from outside."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, Max, Min, QuerySet, Sum
from django.utils import timezone

from patron.customers.models import Channel, Consent
from patron.loyalty import selectors as loyalty
from patron.loyalty import summary
from patron.loyalty.models import Member, Reward, RewardCode, TierBasis
from patron.loyalty.services.tiers import months_before
from patron.members.models import ErasureRequest, ErasureStatus, Profile
from patron.messaging.models import OutboxMessage, Unsubscribe

DEFAULT_TOPICS = ("offers", "news")


def member_language(*, member: Member | None) -> str:
    """The language of the member's messages (read with the session when it was joined)."""
    if member is None:
        return settings.LANGUAGE_CODE
    try:
        return str(member.portal_profile.language)  # type: ignore[attr-defined]
    except Profile.DoesNotExist:
        return settings.LANGUAGE_CODE


def _tier_name(tier: Any, language: str) -> str | None:
    if tier is None:
        return None
    return str(tier.name_zh if language.startswith("zh") else tier.name_en)


def member_me(*, member: Member, language: str = "en") -> dict[str, Any]:
    """The card, tier, balance, pending and expiring points, and the next tier's gap with the
    day by which it must be closed. A read: nothing is written (settlement is figured, not
    done), and two statements besides the session's: the programme with the next tier, and
    one over the member's ledger (a spend basis adds one over their orders)."""
    today = timezone.localdate()
    rank = member.tier.rank if member.tier_id else -1  # type: ignore[union-attr]
    programme, nxt = summary.programme_next_tier(rank=rank)
    window = programme.tiers_enabled and programme.tier_window_months > 0
    start = months_before(today, programme.tier_window_months) if window else None
    on_points = programme.tier_basis == TierBasis.POINTS
    figures = summary.member_summary(
        member_id=member.pk, today=today, window_start=start if on_points else None
    )
    next_tier = None
    if programme.tiers_enabled and nxt is not None:
        have, since = Decimal(figures.earned), figures.earned_since
        if start is not None and not on_points:
            have, since = _spend_in_window(member=member, start=start, today=today)
        share = 100 if nxt.threshold <= 0 else min(100, int(100 * have / nxt.threshold))
        next_tier = {
            "code": nxt.code,
            "name": _tier_name(nxt, language),
            "missing": max(nxt.threshold - have, 0),
            "basis": programme.tier_basis,
            "percent": share,
            "window_months": programme.tier_window_months,
            "by": tier_deadline(
                since=since, today=today, window_months=programme.tier_window_months
            ),
        }
    return {
        "card_number": member.card_number,
        "tier": member.tier.code if member.tier_id else None,  # type: ignore[union-attr]
        "tier_name": _tier_name(member.tier, language),
        "points_balance": figures.available,
        "points_pending": figures.pending,
        "expiring": figures.expiring,
        "next_tier": next_tier,
    }


def _spend_in_window(*, member: Member, start: dt.date, today: dt.date) -> tuple[Decimal, Any]:
    """The member's spend in (start, today] as the tiers count it, and its first day."""
    from patron.sales.models import REVENUE_STATUSES, Order

    found = Order.objects.filter(
        customer_id=member.customer_id,
        status__in=REVENUE_STATUSES,
        ordered_on__gt=start,
        ordered_on__lte=today,
    ).aggregate(total=Sum("amount"), first=Min("ordered_on"))
    return Decimal(found["total"] or 0), found["first"]


def tier_deadline(*, since: dt.date | None, today: dt.date, window_months: int) -> dt.date | None:
    """The last day on which what counts now still counts: the qualifying window is rolling,
    so the oldest counted day (``since``; today when nothing counts yet) leaves it on the
    next day, and what is missing grows. Reaching the gap by this day reaches the tier.
    None without a window."""
    if window_months <= 0:
        return None
    first = min(since or today, today)
    # months_before(d) is the day before the window of day d; the answer is the last day d
    # whose window still holds ``first``: about ``window_months`` after it (month ends vary).
    day = first + dt.timedelta(days=31 * window_months)
    while months_before(day, window_months) >= first:
        day -= dt.timedelta(days=1)
    while months_before(day + dt.timedelta(days=1), window_months) < first:
        day += dt.timedelta(days=1)
    return day


def member_statement(*, member: Member, limit: int = 200) -> dict[str, Any]:
    balance = summary.member_summary(member_id=member.pk)
    entries = list(reversed(loyalty.member_statement(member=member, limit=limit)))
    return {
        "card_number": member.card_number,
        "points_balance": balance.available,
        "points_pending": balance.pending,
        "entries": entries,
    }


def member_rewards(*, member: Member, language: str = "en") -> dict[str, Any]:
    """Rewards on offer today, each with whether this member may redeem it now, and the
    member's own reward codes."""
    today = timezone.localdate()
    balance = summary.member_summary(member_id=member.pk).available
    rank = member.tier.rank if member.tier_id else -1  # type: ignore[union-attr]
    rewards = []
    for r in (
        Reward.objects.filter(active=True)
        .select_related("min_tier")
        .order_by("points_cost", "code")
    ):
        if (r.valid_from and today < r.valid_from) or (r.valid_until and today > r.valid_until):
            continue
        tier_ok = r.min_tier is None or rank >= r.min_tier.rank
        in_stock = r.stock is None or r.stock > 0
        rewards.append(
            {
                "reward_id": r.pk,
                "code": r.code,
                "name": r.name_zh if language.startswith("zh") else r.name_en,
                "points_cost": r.points_cost,
                "in_stock": in_stock,
                "can_redeem": tier_ok and in_stock and balance >= r.points_cost,
            }
        )
    return {"points_balance": balance, "rewards": rewards, "codes": member_codes(member=member)}


def member_codes(*, member: Member) -> list[dict[str, Any]]:
    rows = (
        RewardCode.objects.filter(item__redemption__member=member)
        .select_related("item__reward", "item__redemption")
        .order_by("-item__redemption__created_at", "code")[:100]
    )
    return [
        {
            "code": c.code,
            "reward": c.item.reward.name_en,
            "reward_zh": c.item.reward.name_zh,
            "redeemed_at": c.item.redemption.created_at,
            "used_at": c.used_at,
        }
        for c in rows
    ]


def member_referrals(*, member: Member) -> list[dict[str, Any]]:
    return [
        {"name": (m.customer.name or "")[:1] + "**", "joined": m.enrolled_at.date()}
        for m in member.referrals.select_related("customer").order_by("-enrolled_at")[:100]
    ]


def member_orders(*, member: Member, limit: int = 50) -> list[dict[str, Any]]:
    from patron.sales.models import Order

    rows = Order.objects.filter(customer_id=member.customer_id).order_by("-ordered_at")[:limit]
    return [
        {
            "order": o.external_id,
            "date": o.ordered_on,
            "amount": o.amount,
            "status": o.status,
            "status_label": str(o.get_status_display()),
            "is_return": o.status == "returned",
        }
        for o in rows
    ]


def marketing_topics() -> list[str]:
    """Marketing topics a member may opt out of: the campaigns' topics and the defaults."""
    from patron.campaigns.models import Campaign

    found = set(Campaign.objects.values_list("topic", flat=True).distinct()) - {""}
    return sorted(found | set(DEFAULT_TOPICS))


def member_preferences(*, member: Member) -> dict[str, Any]:
    from patron.loyalty.models import Question
    from patron.members.notify import MEMBER_TOPICS

    off = set(
        Unsubscribe.objects.filter(customer_id=member.customer_id, channel="").values_list(
            "topic", flat=True
        )
    )
    attributes = member.customer.attributes or {}
    questions = Question.objects.filter(active=True).order_by("position", "key")
    return {
        "language": member_language(member=member),
        "notifications": {t: t not in off for t in MEMBER_TOPICS},
        "answers": {q.key: attributes.get(q.key) for q in questions},
    }


def member_consents(*, member: Member) -> dict[str, Any]:
    granted = dict(
        Consent.objects.filter(customer_id=member.customer_id).values_list("channel", "granted")
    )
    off = set(
        Unsubscribe.objects.filter(customer_id=member.customer_id, channel="").values_list(
            "topic", flat=True
        )
    )
    return {
        "channels": {c: bool(granted.get(c, False)) for c in Channel.values},
        "topics": {t: t not in off for t in marketing_topics()},
        "all_marketing": "" not in off,
    }


def member_export(*, member: Member) -> dict[str, Any]:
    """Everything Patron keeps about the member, for their own download."""
    c = member.customer
    return {
        "customer": {
            "customer_id": c.external_id,
            "name": c.name,
            "email": c.email,
            "phone": c.phone,
            "gender": c.gender,
            "birth_date": c.birth_date,
            "region": c.region,
            "city": c.city,
            "attributes": c.attributes,
            "tags": c.tags,
            "created_at": c.created_at,
        },
        "membership": {
            "card_number": member.card_number,
            "tier": member.tier.code if member.tier_id else None,  # type: ignore[union-attr]
            "enrolled_at": member.enrolled_at,
            "referral_code": member.referral_code,
        },
        "statement": member_statement(member=member, limit=100000)["entries"],
        "reward_codes": member_codes(member=member),
        "orders": member_orders(member=member, limit=100000),
        "consents": member_consents(member=member),
        "preferences": member_preferences(member=member),
        "messages": [
            {"date": m.created_at, "subject": m.subject, "channel": m.channel, "status": m.status}
            for m in OutboxMessage.objects.filter(customer_id=c.pk).order_by("-created_at")[:1000]
        ],
    }


def erasure_pending(*, member: Member) -> bool:
    return ErasureRequest.objects.filter(member=member, status=ErasureStatus.PENDING).exists()


# --- staff -----------------------------------------------------------------------------------


def portal_usage(*, days: int = 30) -> dict[str, Any]:
    """Members who use the portal: how many signed in ever and lately, the latest sign-ins."""
    since = timezone.now() - dt.timedelta(days=days)
    profiles = Profile.objects.filter(first_sign_in_at__isnull=False)
    return {
        "members": Member.objects.count(),
        "ever": profiles.count(),
        "lately": profiles.filter(last_sign_in_at__gte=since).count(),
        "days": days,
        "latest": list(
            profiles.select_related("member__customer", "member__tier").order_by(
                "-last_sign_in_at"
            )[:50]
        ),
    }


def erasure_requests(*, status: str = ErasureStatus.PENDING) -> QuerySet[ErasureRequest]:
    return ErasureRequest.objects.filter(status=status).order_by("requested_at")


def customer_notifications(*, customer_id: int, limit: int = 20) -> dict[str, Any]:
    """The member notifications of one customer (the 360 panel), newest first."""
    rows = OutboxMessage.objects.filter(customer_id=customer_id, key__startswith="member.")
    profile = (
        Profile.objects.filter(member__customer_id=customer_id)
        .values("last_sign_in_at", "sign_ins")
        .first()
    )
    totals = rows.aggregate(total=Count("pk"), last_sent=Max("sent_at"))
    return {
        "messages": list(rows.order_by("-created_at", "-pk")[:limit]),
        "total": totals["total"],
        "last_sign_in": (profile or {}).get("last_sign_in_at"),
        "sign_ins": (profile or {}).get("sign_ins", 0),
        "last_sent": totals["last_sent"],
    }
