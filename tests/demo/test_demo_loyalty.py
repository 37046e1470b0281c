"""The demo opens with a running member programme: members from the top tiers, earnings,
redemptions, expiries, tier changes and referrals; the ledger agrees with itself."""

from __future__ import annotations

import pytest
from django.db.models import Sum

from patron.demo.loader import demo_load
from patron.loyalty.models import EntryKind, LedgerEntry, LotUse, Member, Redemption, TierChange
from patron.loyalty.services import balance_of


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_demo_runs_a_programme_with_real_figures() -> None:
    demo_load(customers=400, seed=5)
    members = Member.objects.all()
    assert members.count() > 0
    kinds = set(LedgerEntry.objects.values_list("kind", flat=True))
    assert {EntryKind.EARN, EntryKind.SPEND, EntryKind.ADJUST} <= kinds
    assert Redemption.objects.exists()
    assert members.filter(referred_by__isnull=False).exists()
    assert TierChange.objects.exclude(reason="enrolled").exists()
    for member in members[:50]:
        available = balance_of(member_id=member.pk).available
        lots = (
            LedgerEntry.objects.filter(member=member, is_lot=True).aggregate(s=Sum("points"))["s"]
            or 0
        )
        used = LotUse.objects.filter(lot__member=member).aggregate(s=Sum("points"))["s"] or 0
        assert available == lots - used >= 0
