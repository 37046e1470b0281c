"""The warning list brought up to date as a background job, with its steps as progress."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from patron.jobs.errors import JobError, JobErrorCode
from patron.jobs.models import Job, JobKind
from patron.jobs.progress import JobProgress
from patron.jobs.selectors import job_active
from patron.jobs.services import job_create


@transaction.atomic
def warning_refresh_start(*, user: Any) -> Job:
    """Queue a refresh of the warning list with the latest analysis run.

    Raises
    ------
    JobError
        A refresh is queued or running already.
    """
    active = job_active(kind=JobKind.WARNING_REFRESH)
    if active is not None:
        raise JobError(
            _("The warning list is being brought up to date already (job %(id)s).")
            % {"id": active.pk},
            code=JobErrorCode.ANALYSIS_UNDER_WAY,
            extra={"job": active.pk},
        )
    return job_create(kind=JobKind.WARNING_REFRESH, params={}, user=user)


def warning_refresh_work(*, job: Job, progress: JobProgress) -> dict[str, Any]:
    """Refresh the list; each step moves the progress on by one."""
    from patron.retention.services import REFRESH_STEPS, warning_list_refresh

    total = len(REFRESH_STEPS) + 1
    progress.update(0, total=total, message=REFRESH_STEPS[0])
    seen: list[str] = []

    def step(name: str) -> None:
        seen.append(name)
        progress.update(len(seen) - 1, total=total, message=name)

    result = warning_list_refresh(step=step)
    progress.update(total, total=total, message="")
    out = result.as_dict()
    out["closed"] = result.won_back + result.recovered
    return out
