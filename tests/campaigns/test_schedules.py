"""Schedules: a campaign at a time runs when the minute tick finds it due; a recurring one
runs again every N days to whoever is in the segment then; each occurrence runs once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from patron.campaigns.models import Campaign, CampaignStatus, Schedule, Target
from patron.campaigns.services import (
    campaign_create,
    campaign_launch,
    campaign_occurrence_run,
    campaigns_tick,
    segment_create,
)
from patron.customers.models import Customer

pytestmark = pytest.mark.django_db


def test_timed_and_recurring_campaigns_run_when_due_and_once() -> None:
    # given customers, a campaign for tomorrow and a weekly programme
    Customer.objects.bulk_create([Customer(external_id=f"T{i}") for i in range(5)])
    segment = segment_create(name="all", rules={"all": []})
    later = campaign_create(name="later", segment_id=segment.pk, channel="export",
                            schedule=Schedule.AT,
                            scheduled_at=timezone.now() + dt.timedelta(days=1))  # fmt: skip
    weekly = campaign_create(name="weekly", segment_id=segment.pk, channel="export",
                             schedule=Schedule.RECURRING, every_days=7)  # fmt: skip
    campaign_launch(campaign_id=later.pk)
    campaign_launch(campaign_id=weekly.pk)
    # when the tick runs now: only the weekly programme is due
    assert campaigns_tick()["occurrences"] == 1
    weekly.refresh_from_db()
    assert weekly.occurrences == 1 and weekly.status == CampaignStatus.SCHEDULED
    assert weekly.next_run_at > timezone.now() + dt.timedelta(days=6)
    assert not Target.objects.filter(campaign=later).exists()
    # and running the same occurrence again does nothing
    assert campaign_occurrence_run(campaign_id=weekly.pk) is None
    # when a week has passed, one more customer joined and the tomorrow campaign is due
    Customer.objects.create(external_id="T9")
    Campaign.objects.filter(pk=weekly.pk).update(next_run_at=timezone.now())
    Campaign.objects.filter(pk=later.pk).update(next_run_at=timezone.now())
    assert campaigns_tick()["occurrences"] == 2
    # then the programme's second occurrence froze today's segment, and the timed one ran
    assert Target.objects.filter(campaign=weekly, occurrence=2).count() == 6
    assert Target.objects.filter(campaign=weekly, occurrence=1).count() == 5
    assert Target.objects.filter(campaign=later).count() == 6
    later.refresh_from_db()
    assert later.status in (CampaignStatus.RUNNING, CampaignStatus.DONE)
