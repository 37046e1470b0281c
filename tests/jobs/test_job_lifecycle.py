"""A job's life: queued, running with progress, done or failed; through the real Huey queue."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from patron.core.errors import PatronError
from patron.jobs import services
from patron.jobs.models import Job, JobKind, JobStatus
from patron.jobs.progress import JobProgress, progress_read
from patron.jobs.selectors import job_get_for_user, job_state
from patron.jobs.services import job_create, job_interrupted_fail, job_run, worker_name

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(make_user: Any) -> Any:
    return make_user("alice", "marketing")


@pytest.fixture
def work(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """A stand-in for an analysis's work that records what the job looked like mid-run."""
    seen: dict[str, Any] = {}

    def fake(*, job: Job, progress: JobProgress) -> dict[str, Any]:
        progress.update(0, total=4, message="Summarising customers")
        progress.update(3)
        row = Job.objects.get(pk=job.pk)
        seen["status"] = row.status
        seen["state"] = job_state(job=row)
        if job.params.get("fail") == "patron":
            raise PatronError("no orders", extra={"result": {"partial": 1}})
        if job.params.get("fail") == "bug":
            raise ValueError("broken")
        return {"answer": 42}

    monkeypatch.setitem(services.WORK, JobKind.ANALYSIS, fake)
    yield seen


def test_a_job_is_queued_then_runs_with_progress_and_ends_done(
    alice: Any, work: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    # given a job created in a transaction: nothing runs before the commit
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = job_create(kind=JobKind.ANALYSIS, params={}, user=alice)
        assert Job.objects.get(pk=job.pk).status == JobStatus.QUEUED
    assert len(callbacks) == 1
    assert job_state(job=job).percent == 0 and not job_state(job=job).finished

    # when the commit hands it to the queue (immediate mode in the tests: it runs at once)
    callbacks[0]()

    # then mid-run it was "running", and its live progress (3 of 4) came from the cache
    assert work["status"] == JobStatus.RUNNING
    live = work["state"]
    assert (live.done, live.total, live.percent) == (3, 4, 75)
    assert live.message == "Summarising customers" and live.detail == "3 of 4"
    # and at the end it is done, with its result, its last progress, and times
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.result == {"answer": 42}
    assert (job.progress_done, job.progress_total) == (3, 4)
    assert job.started_at is not None and job.finished_at >= job.started_at
    assert job.created_by == alice and job.worker == worker_name()
    assert progress_read(job.pk) is None  # the live figures are gone with the job
    done = job_state(job=job)
    assert done.percent == 100 and done.finished and done.message == ""


@pytest.mark.parametrize(
    ("fail", "error", "result"),
    [("patron", "no orders", {"partial": 1}), ("bug", "ValueError: broken", {})],
)
def test_a_failing_job_keeps_the_error_and_any_result(
    alice: Any, work: dict[str, Any], fail: str, error: str, result: dict[str, Any]
) -> None:
    job = Job.objects.create(kind=JobKind.ANALYSIS, params={"fail": fail}, created_by=alice)
    job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error == error and job.result == result
    assert job.finished_at is not None


def test_a_job_delivered_twice_runs_once(alice: Any, work: dict[str, Any]) -> None:
    job = Job.objects.create(kind=JobKind.ANALYSIS, params={}, created_by=alice)
    job_run(job_id=job.pk)
    finished = Job.objects.get(pk=job.pk).finished_at
    work.clear()
    job_run(job_id=job.pk)  # the same task again
    assert work == {}  # the work did not run again
    assert Job.objects.get(pk=job.pk).finished_at == finished
    assert job_run(job_id=job.pk + 1000) is None  # no such job: nothing to do


@pytest.mark.django_db(transaction=True)  # the task closes the connection, as in a worker
def test_through_the_real_sqlite_queue(alice: Any, work: dict[str, Any]) -> None:
    from huey.contrib.djhuey import HUEY

    # given Huey with its SQLite storage (not the tests' immediate mode)
    HUEY.immediate = False
    try:
        assert type(HUEY.storage).__name__ == "SqliteStorage"
        HUEY.flush()
        # when a job is created and committed
        job = job_create(kind=JobKind.ANALYSIS, params={}, user=alice)
        # then it waits in the queue file, still queued
        assert HUEY.pending_count() == 1
        assert Job.objects.get(pk=job.pk).status == JobStatus.QUEUED
        # and a worker taking it from the queue runs it
        task = HUEY.dequeue()
        HUEY.execute(task)
        assert HUEY.pending_count() == 0
    finally:
        HUEY.immediate = True
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.result == {"answer": 42}


def test_a_job_whose_worker_died_is_marked_failed_when_a_worker_starts(alice: Any) -> None:
    import socket

    host = socket.gethostname()
    orphan = Job.objects.create(
        kind=JobKind.ANALYSIS, status=JobStatus.RUNNING, worker=f"{host}:{2**22 + 12345}"
    )
    alive = Job.objects.create(
        kind=JobKind.ANALYSIS, status=JobStatus.RUNNING, worker=f"{host}:{os.getpid()}"
    )
    elsewhere = Job.objects.create(
        kind=JobKind.ANALYSIS, status=JobStatus.RUNNING, worker="another-host:1"
    )
    assert job_interrupted_fail() == 1
    orphan.refresh_from_db()
    assert orphan.status == JobStatus.FAILED and "worker stopped" in orphan.error
    assert Job.objects.get(pk=alive.pk).status == JobStatus.RUNNING
    assert Job.objects.get(pk=elsewhere.pk).status == JobStatus.RUNNING


def test_who_sees_a_job(make_user: Any, alice: Any) -> None:
    bob = make_user("bob", "marketing")
    ann = make_user("ann", "analyst")
    root = make_user("root", "admin")
    job = Job.objects.create(kind=JobKind.ANALYSIS, created_by=alice)
    assert job_get_for_user(user=alice, job_id=job.pk) == job
    assert job_get_for_user(user=bob, job_id=job.pk) is None  # not his
    assert job_get_for_user(user=ann, job_id=job.pk) == job  # analysts read everything
    assert job_get_for_user(user=root, job_id=job.pk) == job


def test_the_database_refuses_a_job_in_an_unknown_state() -> None:
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Job.objects.create(kind=JobKind.ANALYSIS, status="exploded")
    with pytest.raises(IntegrityError), transaction.atomic():
        Job.objects.create(kind=JobKind.ANALYSIS, progress_done=-1)
