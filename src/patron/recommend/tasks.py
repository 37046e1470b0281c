"""Background work: a recommendation run, from the CLI's queue (Huey) or the browser's button
(a job of :mod:`patron.jobs`, with the run's steps as its progress)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from huey.contrib.djhuey import db_task

from patron.jobs.errors import JobError, JobErrorCode
from patron.jobs.models import Job, JobKind
from patron.jobs.progress import JobProgress
from patron.jobs.selectors import job_active
from patron.jobs.services import job_create, job_language, job_stale_fail


@db_task()
def recommendation_run_task(as_of: str, per_list: int = 10, evaluate_days: int = 30) -> int:
    from patron.recommend.services import recommendation_run_create

    run = recommendation_run_create(
        as_of=date.fromisoformat(as_of), per_list=per_list, evaluate_days=evaluate_days
    )
    return run.pk


@transaction.atomic
def recommendation_run_start(*, user: Any, as_of: date, per_list: int = 10) -> Job:
    """Queue a recommendation run as of ``as_of`` as a background job.

    Raises
    ------
    JobError
        A recommendation run is queued or running already.
    """
    job_stale_fail()  # a job whose worker died no longer holds the place
    active = job_active(kind=JobKind.RECOMMEND)
    if active is not None:
        raise JobError(
            _("Recommendations are being computed already (job %(id)s).") % {"id": active.pk},
            code=JobErrorCode.ANALYSIS_UNDER_WAY,
            extra={"job": active.pk},
        )
    params = {"as_of": as_of.isoformat(), "per_list": per_list, **job_language()}
    return job_create(kind=JobKind.RECOMMEND, params=params, user=user)


def recommendation_job_work(*, job: Job, progress: JobProgress) -> dict[str, Any]:
    """Compute and store the run; each of its steps moves the progress on by one."""
    from patron.recommend.services import RUN_STEPS, recommendation_run_create

    total = len(RUN_STEPS) + 1
    seen: list[str] = []

    def step(name: str) -> None:
        seen.append(name)
        progress.update(len(seen) - 1, total=total, message=name)

    run = recommendation_run_create(
        as_of=date.fromisoformat(job.params["as_of"]),
        per_list=int(job.params.get("per_list", 10)),
        step=step,
    )
    progress.update(total, total=total, message="")
    return {"run": run.pk, "customers": run.customers, "as_of": run.as_of.isoformat()}
