"""An analysis run of the store started from the browser, as a background job with progress.

The run is the one ``patron analyze`` stores (:func:`patron.insights.services.
analysis_run_create`); its named steps become the job's progress. One analysis at a time:
a second one waits for nobody, it is refused while the first is queued or running.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from patron.jobs.errors import JobError, JobErrorCode
from patron.jobs.models import Job, JobKind
from patron.jobs.progress import JobProgress
from patron.jobs.selectors import job_active
from patron.jobs.services import job_create, job_stale_fail

# The steps an analysis run names as it starts each (patron.analytics.report and
# patron.insights.services), as msgids so that the browser shows them translated.
STARTING = gettext_noop("Reading the orders")
FINDING_AS_OF = gettext_noop("Finding the last purchase")
ANALYSIS_STEPS = (
    STARTING,
    FINDING_AS_OF,
    gettext_noop("Monthly KPIs"),
    gettext_noop("Cohorts"),
    gettext_noop("Summarising customers"),
    gettext_noop("Scoring customers"),
    gettext_noop("Predicting value"),
    gettext_noop("Storing scores"),
    gettext_noop("Diagnosing segments"),
)


@transaction.atomic
def analysis_start(*, user: Any, as_of: dt.date | None) -> Job:
    """Queue an analysis run of the store as of ``as_of`` (None: the day after the last order).

    Raises
    ------
    JobError
        An analysis is queued or running already.
    """
    # Lock-free check: two people pressing at the same instant may both get a run, which
    # is harmless (runs are snapshots); the check is there to stop a double click.
    job_stale_fail()  # a job whose worker died no longer holds the place
    active = job_active(kind=JobKind.ANALYSIS)
    if active is not None:
        raise JobError(
            _("An analysis is already under way (job %(id)s); wait for it to finish.")
            % {"id": active.pk},
            code=JobErrorCode.ANALYSIS_UNDER_WAY,
            extra={"job": active.pk},
        )
    return job_create(
        kind=JobKind.ANALYSIS,
        params={"as_of": as_of.isoformat() if as_of else None},
        user=user,
    )


def analysis_work(*, job: Job, progress: JobProgress) -> dict[str, Any]:
    """Run and store the analysis; each named step moves the progress on by one."""
    from patron.insights.services import analysis_run_create

    as_of = dt.date.fromisoformat(job.params["as_of"]) if job.params.get("as_of") else None
    steps = [s for s in ANALYSIS_STEPS if as_of is None or s != FINDING_AS_OF]
    total = len(steps) + 1  # and the end
    progress.update(0, total=total, message=STARTING)
    seen: list[str] = []

    def step(name: str) -> None:
        seen.append(name)
        progress.update(len(seen), total=max(total, len(seen) + 1), message=name)

    run, _analysis = analysis_run_create(as_of=as_of, step=step)
    end = max(total, len(seen) + 1)
    progress.update(end, total=end, message="")
    return {
        "run_id": run.pk,
        "as_of": run.as_of.isoformat(),
        "customers": run.customers,
        "duration": run.duration,
    }
