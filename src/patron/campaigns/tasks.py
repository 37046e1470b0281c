"""Huey tasks: run a campaign's due occurrence, and the minute tick (schedules, recurring
programmes, points offers, campaigns done)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task


@db_task()
def campaign_occurrence_task(campaign_id: int) -> None:
    from patron.campaigns.services import campaign_occurrence_run

    campaign_occurrence_run(campaign_id=campaign_id)


@db_periodic_task(crontab(minute="*"))
@lock_task("patron-campaigns-tick")
def campaigns_tick_periodic() -> dict[str, int]:
    from patron.campaigns.services import campaigns_tick

    return campaigns_tick()
