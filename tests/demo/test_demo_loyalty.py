"""The demo's member programme (``demo_loyalty_create``, the demo builder's one loyalty call)
on a small store with an analysis run: members from the top tiers, earnings, redemptions,
expiries, tier changes, referrals and adjustments; the ledger agrees with itself."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Sum

from patron.customers.models import Customer
from patron.demo.loyalty import demo_loyalty_create
from patron.insights.models import AnalysisRun, CustomerScore, RunStatus
from patron.loyalty.models import EntryKind, LedgerEntry, LotUse, Member, Redemption, TierChange
from patron.loyalty.services import balance_of
from patron.sales.services import order_batch_import

pytestmark = pytest.mark.django_db
TODAY = dt.date(2024, 12, 31)


def test_the_demo_runs_a_programme_with_real_figures() -> None:
    run = AnalysisRun.objects.create(as_of=TODAY, code_version="t", status=RunStatus.COMPLETED)
    orders = []
    for i in range(60):
        tier = "very_high" if i < 20 else "high" if i < 45 else "low"
        customer = Customer.objects.create(external_id=f"C{i}")
        CustomerScore.objects.create(
            run=run,
            customer=customer,
            recency_days=5,
            frequency=9,
            monetary=Decimal(900),
            r_score=5,
            f_score=5,
            m_score=5,
            segment="champions",
            value_tier=tier,
            revenue=Decimal(900),
            cost_to_serve=Decimal(0),
        )
        for k in range(24):  # an order a month for two years
            day = TODAY - dt.timedelta(days=30 * k + i % 7)
            orders.append(
                {
                    "order_id": f"O{i}-{k}",
                    "customer_id": f"C{i}",
                    "status": "completed",
                    "ordered_at": f"{day.isoformat()}T10:00:00+00:00",
                    "amount": str(150 + 10 * (i % 9) + (400 if k < 3 and i % 4 == 0 else 0)),
                }
            )
    assert order_batch_import(orders=orders, source="demo")["rejected"] == 0
    counts = demo_loyalty_create(today=TODAY)
    members = Member.objects.all()
    assert counts["members"] == members.count() == 45
    kinds = set(LedgerEntry.objects.values_list("kind", flat=True))
    assert {EntryKind.EARN, EntryKind.SPEND, EntryKind.EXPIRE, EntryKind.ADJUST} <= kinds
    assert Redemption.objects.exists() and counts["expired"] > 0
    assert members.filter(referred_by__isnull=False).exists()
    assert TierChange.objects.exclude(reason="enrolled").exists()
    for member in members:
        available = balance_of(member_id=member.pk, today=TODAY).available
        lots = LedgerEntry.objects.filter(member=member, is_lot=True).aggregate(s=Sum("points"))
        used = LotUse.objects.filter(lot__member=member).aggregate(s=Sum("points"))["s"] or 0
        assert available == (lots["s"] or 0) - used >= 0
