"""Scheduled loyalty work (Huey periodic tasks, run by `patron worker`): daily expiry of
points and holds, and the daily tier re-evaluation."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task


@db_periodic_task(crontab(hour="2", minute="10"))
def loyalty_points_expire() -> int:
    from patron.loyalty.services import points_expire

    return points_expire()


@db_periodic_task(crontab(hour="2", minute="30"))
def loyalty_tiers_reevaluate() -> dict[str, int]:
    from patron.loyalty.services import tiers_reevaluate

    return tiers_reevaluate()


@db_periodic_task(crontab(minute="*/5"))
def loyalty_holds_release() -> int:
    """Holds past their time give their points back (the balance also settles on every
    spend and read of the member)."""
    from patron.loyalty.services import points_expire

    return points_expire()
