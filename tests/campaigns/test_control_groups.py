"""Control assignment by a stable hash: the same on every run and occurrence, shares within a
chi-square test's bounds, independent of the order customers come in, independent between
campaigns; and the sample-ratio check at launch."""

from __future__ import annotations

import random
from typing import Any

import pytest
from scipy.stats import chi2_contingency, chisquare

from patron.campaigns.audience import audience_freeze, control_share_of, sample_ratio_p
from patron.campaigns.models import Campaign, Group, Schedule, Target
from patron.campaigns.services import campaign_create, segment_create
from patron.customers.models import Customer
from patron.messaging.policy import stable_share

IDS = list(range(1, 20_001))


@pytest.mark.parametrize("share", [0.05, 0.2, 0.5])
def test_control_shares_are_within_chi_square_bounds(share: float) -> None:
    # given 20,000 customers and a campaign's control share
    controls = sum(control_share_of(7, i) < share for i in IDS)
    # then the control count is what the share says, within chance (p above 0.1%)
    expected = [len(IDS) * share, len(IDS) * (1 - share)]
    assert chisquare([controls, len(IDS) - controls], f_exp=expected).pvalue > 0.001


def test_assignment_is_stable_and_independent_of_order_and_of_other_campaigns() -> None:
    # given the same customers in two orders
    shuffled = IDS[:]
    random.Random(3).shuffle(shuffled)
    # then every customer's draw is the same, whatever the order and however often
    first = {i: control_share_of(11, i) < 0.2 for i in IDS}
    second = {i: control_share_of(11, i) < 0.2 for i in shuffled}
    assert first == second
    # and being a control in one campaign says nothing about another (2x2 independence)
    other = {i: control_share_of(12, i) < 0.2 for i in IDS}
    table = [
        [sum(first[i] and other[i] for i in IDS), sum(first[i] and not other[i] for i in IDS)],
        [
            sum(other[i] and not first[i] for i in IDS),
            sum(not first[i] and not other[i] for i in IDS),
        ],
    ]
    assert chi2_contingency(table).pvalue > 0.001
    # and the draw is the documented hash, not something that could drift between versions
    assert control_share_of(11, 5) == stable_share("campaign:11", 5)


def test_sample_ratio_check_flags_a_skewed_split() -> None:
    assert sample_ratio_p(treatment=8000, control=2000, share=0.2) > 0.5
    assert sample_ratio_p(treatment=8400, control=1600, share=0.2) < 0.001


@pytest.mark.django_db
def test_recurring_occurrences_keep_each_customers_group(
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given customers created in a shuffled order and a recurring campaign
    order = list(range(400))
    random.Random(9).shuffle(order)
    Customer.objects.bulk_create([Customer(external_id=f"X{i:04d}") for i in order])
    segment = segment_create(name="all", rules={"all": []})
    campaign = campaign_create(
        name="weekly",
        segment_id=segment.pk,
        channel="export",
        control_share=0.25,
        schedule=Schedule.RECURRING,
        every_days=7,
    )
    # when two occurrences are frozen
    audience_freeze(campaign=campaign, occurrence=1)
    audience_freeze(campaign=campaign, occurrence=2)
    # then each customer is in the same group both times, as the hash says
    groups: dict[int, set[str]] = {}
    for customer_id, group in Target.objects.filter(campaign=campaign).values_list(
        "customer_id", "group"
    ):
        groups.setdefault(customer_id, set()).add(group)
    assert all(len(g) == 1 for g in groups.values()) and len(groups) == 400
    for customer_id, (group,) in groups.items():
        expected = (
            Group.CONTROL
            if control_share_of(campaign.pk, customer_id) < 0.25
            else (Group.TREATMENT)
        )
        assert group == expected
    assert Campaign.objects.get(pk=campaign.pk).srm_p_value > 0.001
