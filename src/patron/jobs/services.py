"""Writes: create a job and queue it, run it (in the worker), record how it ended.

A job is queued on commit, so the worker never looks for a row that is not there yet. Its
work is a function of the registry below, ``work(*, job, progress) -> result``: it reports
progress through :class:`~patron.jobs.progress.JobProgress`, returns a JSON-able result, and
raises :class:`~patron.core.errors.PatronError` for a failure a person can act on (its
``extra["result"]``, when there is one, is kept as the job's result).

A job whose params name a ``language`` (:func:`job_language`, taken when a person starts it)
runs in that language, so the messages its work builds (an import's row errors, the reasons
in its rejects file, its error) read as that person reads the page; other jobs run in
``LANGUAGE_CODE``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import os
import socket
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext_noop

from patron.core.errors import PatronError
from patron.jobs.heartbeat import (
    beat_process_gone,
    job_beating,
    job_heartbeat,
    pid_alive,
    run_beat,
    timeout_seconds,
)
from patron.jobs.models import Job, JobKind, JobStatus
from patron.jobs.progress import JobProgress, progress_read

logger = logging.getLogger("patron.jobs")

# kind -> the work function (a dotted path, imported when a job of that kind runs).
WORK: dict[str, Any] = {
    JobKind.IMPORT_CHECK: "patron.jobs.imports.upload_check_work",
    JobKind.IMPORT: "patron.jobs.imports.upload_import_work",
    JobKind.ANALYSIS: "patron.jobs.analysis.analysis_work",
    JobKind.WARNING_REFRESH: "patron.retention.tasks.warning_refresh_work",
    JobKind.RECOMMEND: "patron.recommend.tasks.recommendation_job_work",
}
ERROR_MAX_CHARS = 4000
INTERRUPTED = gettext_noop("The worker stopped while this job was running; start it again.")


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


@transaction.atomic
def job_create(*, kind: JobKind, params: dict[str, Any], user: Any = None) -> Job:
    """Record a queued job and hand it to the queue once the transaction commits."""
    job = Job(
        kind=kind,
        params=params,
        created_by=user if user is not None and user.is_authenticated else None,
    )
    job.full_clean()
    job.save()
    transaction.on_commit(functools.partial(_enqueue, job.pk))
    return job


def job_language() -> dict[str, str]:
    """``{"language": ...}``: the active language (the request's), for a job's params; empty
    when no language is active."""
    language = translation.get_language()
    return {"language": language} if language else {}


@contextlib.contextmanager
def _in_language(params: dict[str, Any]) -> Iterator[None]:
    """Activate the language a job's params name while its work runs (a language Patron no
    longer offers falls back to its nearest, else to ``LANGUAGE_CODE``)."""
    language = params.get("language") if isinstance(params, dict) else None
    if not isinstance(language, str) or not language:
        yield
        return
    try:
        language = translation.get_supported_language_variant(language)
    except LookupError:
        language = settings.LANGUAGE_CODE
    with translation.override(language):
        yield


def _enqueue(job_id: int) -> None:
    from patron.jobs.tasks import job_execute

    job_execute(job_id)


def job_run(*, job_id: int) -> Job | None:
    """Run a queued job: queued -> running -> done or failed. What the worker calls.

    A job that is not queued (already taken, or gone) is left alone, so a task delivered
    twice runs its work once. Returns the job, or None when there is no such job.
    """
    claimed = Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=timezone.now(), worker=worker_name()
    )
    job = Job.objects.filter(pk=job_id).first()
    if job is None or not claimed:
        return job
    progress = JobProgress(job_id=job.pk)
    work = WORK[job.kind]
    work = import_string(work) if isinstance(work, str) else work
    try:
        with _in_language(job.params), job_heartbeat(job.pk):
            result = work(job=job, progress=progress)
    except PatronError as error:
        extra = error.extra if isinstance(error.extra, dict) else {}
        _finish(job, progress, JobStatus.FAILED, result=extra.get("result"), error=error.message)
    except Exception as error:
        logger.exception("job %s (%s) failed", job.pk, job.kind)
        _finish(job, progress, JobStatus.FAILED, error=f"{type(error).__name__}: {error}")
    else:
        _finish(job, progress, JobStatus.DONE, result=result)
    return job


def _finish(
    job: Job,
    progress: JobProgress,
    status: JobStatus,
    *,
    result: dict[str, Any] | None = None,
    error: str = "",
) -> None:
    live = progress_read(job.pk) or {}
    job.status = status
    job.result = result or {}
    job.error = error[:ERROR_MAX_CHARS]
    job.progress_done = int(live.get("done") or progress.done)
    job.progress_total = live.get("total", progress.total)
    job.message = str(live.get("message") or progress.message)[:200]
    job.finished_at = timezone.now()
    job.save(
        update_fields=[
            "status",
            "result",
            "error",
            "progress_done",
            "progress_total",
            "message",
            "finished_at",
        ]
    )
    progress.clear()


def job_interrupted_fail() -> int:
    """Mark as failed the running jobs of this host whose worker process is gone (a worker
    killed mid-job); returns how many. Run when a worker starts."""
    host = socket.gethostname()
    failed = 0
    for job in Job.objects.filter(status=JobStatus.RUNNING, worker__startswith=f"{host}:"):
        pid = job.worker.rsplit(":", 1)[1]
        if pid.isdigit() and pid_alive(int(pid)):
            continue
        updated = Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
            status=JobStatus.FAILED, error=INTERRUPTED, finished_at=timezone.now()
        )
        if updated:
            _runs_fail(job)
        failed += updated
        JobProgress(job_id=job.pk).clear()
    from patron.insights.services import run_stale_fail

    run_stale_fail()
    return failed


STOPPED = gettext_noop(
    "The worker running this job stopped (no sign of life for a minute); start it again."
)
RUN_STOPPED = "the job running this analysis stopped (its worker died)"


def _runs_fail(job: Job) -> None:
    """An analysis job that died leaves its run "running": fail the runs it started (not a
    run made meanwhile by a live process elsewhere, `patron analyze` in a terminal)."""
    if job.kind != JobKind.ANALYSIS or job.started_at is None:
        return
    from patron.insights.models import AnalysisRun, RunStatus

    running = AnalysisRun.objects.filter(status=RunStatus.RUNNING, created_at__gte=job.started_at)
    for pk in running.values_list("pk", flat=True):
        beat = run_beat(pk)
        if beat is not None and not beat_process_gone(beat):
            continue  # its maker beats, and is not the dead worker
        AnalysisRun.objects.filter(pk=pk, status=RunStatus.RUNNING).update(
            status=RunStatus.FAILED, error=RUN_STOPPED
        )


def job_stale_fail() -> int:
    """Fail the running jobs whose worker has not beaten for PATRON_JOB_HEARTBEAT_TIMEOUT
    (killed, or its machine gone), and the runs they left running; returns how many jobs.
    Cheap when nothing runs: called where a job's state is asked for."""
    now = timezone.now()
    cutoff = now - dt.timedelta(seconds=timeout_seconds())
    failed = 0
    for job in Job.objects.filter(status=JobStatus.RUNNING, started_at__lt=cutoff):
        if job_beating(job.pk):
            continue
        if Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
            status=JobStatus.FAILED, error=STOPPED, finished_at=now
        ):
            failed += 1
            _runs_fail(job)
            JobProgress(job_id=job.pk).clear()
            logger.warning("job %s (%s): no heartbeat since %s; failed", job.pk, job.kind, cutoff)
    from patron.insights.services import run_stale_fail

    run_stale_fail()  # and runs made outside jobs (`patron analyze`) whose process is gone
    return failed
