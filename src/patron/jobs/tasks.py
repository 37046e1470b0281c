"""Huey tasks. One task runs any job by its id; what the job does is in its row."""

from __future__ import annotations

from huey.contrib.djhuey import db_task


@db_task()
def job_execute(job_id: int) -> None:
    from patron.jobs.services import job_run

    job_run(job_id=job_id)
