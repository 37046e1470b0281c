"""Cadence on a history built so the truth is known: a first campaign lifts response from 10%
to 50% among customers with no prior contact; a second, ten days later, to customers the first
reached, lifts nothing (20% against 20%) and loses 10% to unsubscribes. The cap is then one
contact. Also: points are not costed (None) without the loyalty app."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from patron.campaigns.cadence import cadence_report
from patron.campaigns.measure import points_liability
from patron.campaigns.models import Campaign, CampaignStatus, Group, Target, TargetState
from patron.customers.models import Consent, Customer
from patron.sales.models import Order

pytestmark = pytest.mark.django_db


def _campaign(name: str, at: dt.datetime, groups: dict[int, str], ids: list[int]) -> Campaign:
    campaign = Campaign.objects.create(
        name=name, status=CampaignStatus.DONE, launched_at=at, attribution_days=5, occurrences=1
    )
    Target.objects.bulk_create(
        Target(
            campaign=campaign,
            customer_id=ids[i],
            group=group,
            state=TargetState.SENT if group == Group.TREATMENT else TargetState.HELD_OUT,
            contacted_at=at,
        )
        for i, group in groups.items()
    )
    return campaign


def _buy(ids: list[int], at: dt.datetime, tag: str) -> None:
    Order.objects.bulk_create(
        Order(external_id=f"{tag}-{pk}", customer_id=pk, ordered_at=at,
              ordered_on=at.date(), amount=Decimal("50"))
        for pk in ids
    )  # fmt: skip


def test_cap_is_where_another_contact_adds_nothing() -> None:
    ids = [Customer.objects.create(external_id=f"C{i:03d}").pk for i in range(80)]
    t0 = timezone.make_aware(dt.datetime(2025, 3, 3, 10))
    t1 = t0 + dt.timedelta(days=10)
    first = {i: Group.TREATMENT if i < 60 else Group.CONTROL for i in range(80)}
    _campaign("first", t0, first, ids)
    second = {i: Group.TREATMENT if i < 40 else Group.CONTROL for i in range(60)}
    _campaign("second", t1, second, ids)
    _buy([ids[i] for i in range(30)] + [ids[60], ids[61]], t0 + dt.timedelta(days=1), "a")
    _buy(
        [ids[i] for i in range(8)] + [ids[i] for i in range(40, 44)], t1 + dt.timedelta(days=1), "b"
    )
    for i in range(4):
        Consent.objects.create(
            customer_id=ids[i],
            channel="email",
            granted=False,
            recorded_at=t1 + dt.timedelta(days=2),
        )

    report = cadence_report(days=30, max_bucket=3)
    zero, one = report["buckets"][0], report["buckets"][1]
    assert (zero["reached"], zero["control"], one["reached"], one["control"]) == (60, 20, 40, 20)
    assert (zero["response_rate"], zero["control_response_rate"]) == (0.5, 0.1)
    assert (one["response_rate"], one["control_response_rate"]) == (0.2, 0.2)
    assert zero["incremental"]["estimate"] == pytest.approx(0.4)
    assert zero["incremental"]["ci_low"] > 0
    assert one["incremental"]["estimate"] == pytest.approx(0.0)
    assert (zero["unsubscribe_rate"], one["unsubscribe_rate"]) == (0.0, 0.1)
    assert report["suggested_cap"] == 1
    # counted over fewer days than the gap, the second campaign's customers had no contact
    short = cadence_report(days=5, max_bucket=3)
    assert short["buckets"][0]["reached"] == 100 and short["buckets"][1]["reached"] == 0


@pytest.mark.django_db
def test_points_are_costed_at_the_programmes_cost_per_point() -> None:
    # given a points offer and the loyalty programme's cost per point (no ledger rows yet)
    from patron.loyalty.models import Programme

    Programme.objects.all().delete()
    campaign = Campaign(name="p", offer="points", offer_points=200)
    assert points_liability(campaign=campaign, granted=3) is None  # no programme: unknown
    Programme.objects.create(cost_per_point="0.02")
    # when / then: the offer's points times the grants, at the liability value
    assert points_liability(campaign=campaign, granted=0) == 0.0
    assert points_liability(campaign=campaign, granted=3) == pytest.approx(200 * 3 * 0.02)
