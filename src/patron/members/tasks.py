"""Huey task of member notifications: a scan every five minutes queues what is due in the
outbox (the outbox's own tasks send it). Runs may overlap safely: the outbox key decides."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task


@db_periodic_task(crontab(minute="*/5"))
@lock_task("patron-member-notifications")
def member_notifications_periodic() -> dict[str, int]:
    from patron.members.notify import notifications_scan

    return notifications_scan()
