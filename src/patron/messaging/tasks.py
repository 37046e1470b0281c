"""Huey tasks of the outbox: dispatch now (queued when a message is queued) and every minute
(deferred messages, retries, recovery after a crash). Several may run at once: the outbox
rows, not the queue, decide who sends what."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task


@db_task()
def outbox_dispatch_task() -> dict[str, object]:
    from patron.messaging.dispatch import outbox_dispatch

    return outbox_dispatch().as_dict()


@db_periodic_task(crontab(minute="*"))
@lock_task("patron-outbox-periodic")
def outbox_dispatch_periodic() -> dict[str, object]:
    from patron.messaging.dispatch import outbox_dispatch

    return outbox_dispatch().as_dict()
