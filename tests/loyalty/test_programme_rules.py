"""Tiers (upgrade at once, downgrade after grace, manual floor), holds that expire, reward
rules, the questionnaire, masked ID documents, referrals, and the earning rule in SQL and in
Python agreeing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from patron.customers.models import Customer
from patron.loyalty import services
from patron.loyalty.errors import LoyaltyError, LoyaltyErrorCode
from patron.loyalty.models import (
    EntryKind,
    Hold,
    LedgerEntry,
    Question,
    Reward,
    Rounding,
    Tier,
    TierChange,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def tiers() -> dict[str, Tier]:
    p = services.programme_get()
    p.tiers_enabled, p.downgrade_grace_days = True, 30
    p.save()
    return {
        code: Tier.objects.create(
            programme=p,
            code=code,
            name_en=code,
            name_zh=code,
            rank=rank,
            threshold=Decimal(threshold),
            multiplier=Decimal(mult),
        )
        for code, rank, threshold, mult in (("silver", 0, 0, "1"), ("gold", 1, 500, "1.5"))
    }


def test_upgrade_at_once_downgrade_only_after_grace_and_floor(
    tiers: dict[str, Tier], member_of: Any, send_orders: Any
) -> None:
    m = member_of("C1")
    m.refresh_from_db()
    assert m.tier == tiers["silver"]
    today = timezone.localdate()
    send_orders(("A1", "C1", "600", "completed"), day=today.isoformat())  # upgrade at once
    m.refresh_from_db()
    assert m.tier == tiers["gold"] and m.tier_since == today
    # a later order earns at gold's multiplier
    send_orders(("A2", "C1", "100", "completed"), day=today.isoformat())
    assert LedgerEntry.objects.get(source=f"order:{m.customer_id}:A2").points == 150
    # 13 months on the spend has left the window: no downgrade within the grace period...
    later = today + dt.timedelta(days=20)
    services.tiers_reevaluate(today=later.replace(year=later.year + 1))
    m.refresh_from_db()
    assert m.tier == tiers["silver"]  # grace (30 days since tier_since) is long over by then
    # ...and a manual floor keeps gold until its end date
    m.tier_floor, m.tier_floor_until = tiers["gold"], today.replace(year=today.year + 3)
    m.save()
    services.tiers_reevaluate(today=today.replace(year=today.year + 2))
    m.refresh_from_db()
    assert m.tier == tiers["gold"]
    reasons = list(
        TierChange.objects.filter(member=m).order_by("pk").values_list("reason", flat=True)
    )
    assert reasons == ["enrolled", "upgrade", "upgrade", "downgrade", "upgrade"][: len(reasons)]
    assert "downgrade" in reasons


def test_no_downgrade_inside_the_grace_period(tiers: dict[str, Tier], member_of: Any) -> None:
    m = member_of("C1")
    today = timezone.localdate()
    m.tier, m.tier_since = tiers["gold"], today - dt.timedelta(days=10)
    m.save()
    services.tiers_reevaluate(today=today)
    m.refresh_from_db()
    assert m.tier == tiers["gold"]


def test_an_expired_hold_cannot_be_committed_and_gives_points_back(member_of: Any) -> None:
    m = member_of("C1")
    services.points_grant(customer_id=m.customer_id, points=100, reason="r", source="g")
    hold, _ = services.hold_create(member=m, points=60, idempotency_key="h")
    Hold.objects.filter(pk=hold.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    with pytest.raises(LoyaltyError) as caught:
        services.hold_commit(hold_id=hold.pk)
    assert caught.value.code == LoyaltyErrorCode.HOLD_EXPIRED and caught.value.field == "hold_id"
    assert services.balance_of(member_id=m.pk).available == 100
    assert not LedgerEntry.objects.filter(kind=EntryKind.SPEND).exists()


def test_reward_dates_tier_limit_and_stock(tiers: dict[str, Tier], member_of: Any) -> None:
    m = member_of("C1")
    services.points_grant(customer_id=m.customer_id, points=1000, reason="r", source="g")
    today = timezone.localdate()
    late = Reward.objects.create(
        code="late",
        name_en="L",
        name_zh="L",
        points_cost=10,
        valid_from=today + dt.timedelta(days=1),
    )
    vip = Reward.objects.create(
        code="vip", name_en="V", name_zh="V", points_cost=10, min_tier=tiers["gold"]
    )
    once = Reward.objects.create(
        code="once", name_en="O", name_zh="O", points_cost=10, per_member_limit=1, stock=5
    )
    cases = ((late, LoyaltyErrorCode.REWARD_NOT_VALID), (vip, LoyaltyErrorCode.REWARD_TIER))
    for i, (reward, code) in enumerate(cases):
        with pytest.raises(LoyaltyError) as caught:
            services.points_redeem(
                member=m, idempotency_key=f"x{i}", rewards=[services.RewardLine(reward.pk, 1)]
            )
        assert caught.value.code == code and caught.value.field == "reward_id"
    services.points_redeem(
        member=m, idempotency_key="o1", rewards=[services.RewardLine(once.pk, 1)]
    )
    with pytest.raises(LoyaltyError) as caught:
        services.points_redeem(
            member=m, idempotency_key="o2", rewards=[services.RewardLine(once.pk, 1)]
        )
    assert caught.value.code == LoyaltyErrorCode.REWARD_LIMIT
    once.refresh_from_db()
    assert once.stock == 4  # the refused redemption took no stock
    assert services.balance_of(member_id=m.pk).available == 990


def test_questionnaire_answers_become_attributes_and_id_is_masked() -> None:
    Question.objects.create(
        key="diet", text_en="Diet", text_zh="饮食", kind="single", choices=["vegetarian", "any"]
    )
    Customer.objects.create(external_id="C1")
    with pytest.raises(LoyaltyError) as caught:
        services.member_enrol(customer_id="C1", answers={"diet": "fish"})
    assert caught.value.field == "answers.diet"
    m = services.member_enrol(
        customer_id="C1",
        answers={"diet": "vegetarian"},
        id_document_type="student card",
        id_document_number="110101199001011234",
    )
    assert Customer.objects.get(external_id="C1").attributes["diet"] == "vegetarian"
    assert m.id_document_masked == "**************1234"


def test_referral_links_and_bonus_on_first_earned_order(member_of: Any, send_orders: Any) -> None:
    p = services.programme_get()
    p.referral_bonus_points = 200
    p.save()
    referrer = member_of("C1")
    friend = member_of("C2", referral_code=referrer.referral_code)
    assert friend.referred_by == referrer
    send_orders(("A1", "C2", "50", "completed"), ("A2", "C2", "70", "completed"))
    assert services.balance_of(member_id=referrer.pk).available == 200  # once
    with pytest.raises(LoyaltyError) as caught:
        member_of("C3", referral_code="NOPE")
    assert caught.value.field == "referral_code"


@settings(max_examples=15, deadline=None)
@given(
    amount=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999"), places=2),
    rate=st.sampled_from(["1", "0.5", "2.5", "0.1"]),
    rounding=st.sampled_from([Rounding.DOWN, Rounding.NEAREST, Rounding.UP]),
)
def test_sql_rule_and_python_rule_agree(amount: Decimal, rate: str, rounding: str) -> None:
    """The bulk SQL and the till's Python compute the same points (the same order both ways)."""
    from django.db import connection, transaction

    from patron.loyalty.services.earning import _points_sql

    with transaction.atomic():
        p = services.programme_get()
        p.points_per_unit, p.rounding = Decimal(rate), rounding
        p.day_multipliers = {"5": 2}
        p.save()
        c, _ = Customer.objects.get_or_create(external_id="X")
        from patron.sales.models import Order

        o = Order.objects.create(
            customer=c,
            external_id="O",
            ordered_at=timezone.now(),
            ordered_on=dt.date(2024, 6, 1),
            amount=amount,
        )  # a Saturday
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {_points_sql(p)} FROM sales_order o "
                "LEFT JOIN loyalty_tier t ON 1 = 0 WHERE o.id = %s",
                [o.pk],
            )
            in_sql = int(cursor.fetchone()[0])
        in_python = services.points_for(programme=p, amount=amount, weekday=5)
        assert in_sql == in_python
        transaction.set_rollback(True)


@pytest.mark.parametrize("period", ["day", "month", "year"])
def test_the_cap_per_member_per_period_is_the_same_for_till_accruals_and_imports(
    member_of: Any, send_orders: Any, period: str
) -> None:
    # given: a cap of 100 points; one member's orders come from a till, the other's are
    # imported (one import per day), with the same amounts on the same days
    p = services.programme_get()
    p.cap_points, p.cap_period = 100, period
    p.save()
    till, shop = member_of("C1"), member_of("C2")
    days = [dt.date(2024, 3, 30)] * 3 + [dt.date(2024, 3, 31), dt.date(2024, 4, 1)]
    amounts = ["40", "50", "30", "20", "70"]
    # when
    by_till = []
    for i, (day, amount) in enumerate(zip(days, amounts, strict=True)):
        entry, _ = services.points_accrue(member=till, order_id=f"T{i}", amount=amount, today=day)
        by_till.append(entry.points if entry else 0)
        send_orders((f"S{i}", "C2", amount, "completed"), day=day.isoformat())
    by_import = [
        LedgerEntry.objects.filter(source=f"order:{shop.customer_id}:S{i}")
        .values_list("points", flat=True)
        .first()
        or 0
        for i in range(len(days))
    ]
    # then: the third order reaches the cap; the next period starts afresh
    expected = {
        "day": [40, 50, 10, 20, 70],
        "month": [40, 50, 10, 0, 70],
        "year": [40, 50, 10, 0, 0],
    }[period]
    assert by_till == by_import == expected
    # a retry answers what the order first earned
    again, created = services.points_accrue(member=till, order_id="T2", amount="30", today=days[2])
    assert (again.points, created) == (10, False)


def test_one_import_caps_its_orders_in_order_of_time(member_of: Any, send_orders: Any) -> None:
    p = services.programme_get()
    p.cap_points, p.cap_period = 100, "month"
    p.save()
    m = member_of("C1")
    # two orders in one import, and the room an earlier import left
    send_orders(("A0", "C1", "30", "completed"), day="2024-03-01")
    send_orders(("A1", "C1", "50", "completed"), ("A2", "C1", "50", "completed"), day="2024-03-02")
    earned = dict(
        LedgerEntry.objects.filter(member=m, kind=EntryKind.EARN).values_list("source", "points")
    )
    key = f"order:{m.customer_id}"
    assert earned == {f"{key}:A0": 30, f"{key}:A1": 50, f"{key}:A2": 20}
