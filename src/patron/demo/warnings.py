"""The demo's churn warning list, partly worked, so the warning pages have something to show."""

from __future__ import annotations

import datetime as dt
import random

from django.contrib.auth import get_user_model

WORKED_SHARE = 0.3  # of the raised warnings, how many already have a response
_LOST_REASONS = ("price", "competitor", "service", "quality", "assortment", "moved", "no_need")


def demo_warnings_create(*, today: dt.date, seed: int = 7, username: str = "demo") -> int:
    """Raise the warning list of the latest run as of ``today`` and record responses on a
    seeded share of it (called, offered, won back, lost with a reason) by the demo user.

    Returns how many warnings were raised.
    """
    from patron.retention.models import ChurnWarning, Response
    from patron.retention.services import warning_list_refresh, warning_respond

    raised = warning_list_refresh(today=today).raised
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        return raised
    rng = random.Random(seed)
    warnings = list(ChurnWarning.objects.order_by("pk"))
    for warning in rng.sample(warnings, int(len(warnings) * WORKED_SHARE)):
        response = rng.choices(
            [Response.CALLED, Response.OFFERED, Response.WON_BACK, Response.LOST],
            weights=[3, 2, 2, 3],
        )[0]
        warning_respond(
            warning=warning,
            response=response,
            by=user,
            lost_reason=rng.choice(_LOST_REASONS) if response == Response.LOST else "",
        )
    return raised
