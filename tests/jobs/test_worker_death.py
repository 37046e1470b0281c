"""A worker that dies mid-job (kill -9): `patron serve` starts another, the job is failed
(never "running" for ever), its analysis run is not left "running", a new analysis runs,
and /healthz reports the worker. And the heartbeat rule on its own."""

from __future__ import annotations

import datetime as dt
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from patron.ingest.importer import import_file
from patron.ingest.mapping import EntityKind
from patron.insights.models import AnalysisRun, RunStatus
from patron.jobs.heartbeat import job_heartbeat
from patron.jobs.models import Job, JobKind, JobStatus
from patron.jobs.services import STOPPED, job_stale_fail

pytestmark = pytest.mark.django_db(transaction=True)
WAIT_SECONDS = 180  # a bound on waiting for another process, not a speed claim


def _wait(condition: Any, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(0.1)


def test_a_running_job_without_a_heartbeat_is_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATRON_JOB_HEARTBEAT_TIMEOUT", "60")
    long_ago = timezone.now() - dt.timedelta(minutes=5)
    dead = Job.objects.create(kind=JobKind.ANALYSIS, status=JobStatus.RUNNING, started_at=long_ago)
    alive = Job.objects.create(kind=JobKind.IMPORT, status=JobStatus.RUNNING, started_at=long_ago)
    young = Job.objects.create(
        kind=JobKind.IMPORT, status=JobStatus.RUNNING, started_at=timezone.now()
    )
    run = AnalysisRun.objects.create(as_of=dt.date(2024, 1, 1))  # left "running" by the dead job
    AnalysisRun.objects.filter(pk=run.pk).update(created_at=long_ago + dt.timedelta(seconds=1))
    with job_heartbeat(alive.pk):
        assert job_stale_fail() == 1
    dead.refresh_from_db()
    assert (dead.status, dead.error) == (JobStatus.FAILED, STOPPED)
    assert Job.objects.get(pk=alive.pk).status == JobStatus.RUNNING  # it beats
    assert Job.objects.get(pk=young.pk).status == JobStatus.RUNNING  # not overdue yet
    assert AnalysisRun.objects.get(pk=run.pk).status == RunStatus.FAILED


@pytest.mark.slow
def test_kill_the_worker_mid_job(
    real_queue: Any, make_user: Any, tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from patron.cli import worker as worker_cli
    from patron.jobs.analysis import analysis_start

    # given a store with orders, jobs through the queue, and quick heartbeats
    orders = tmp_path / "orders.csv"
    rows = [f"O{i},C{i % 30},2024-{1 + i % 12:02d}-{1 + i % 28:02d},{10 + i}" for i in range(600)]
    orders.write_text("order_id,customer_id,ordered_at,amount\n" + "\n".join(rows) + "\n")
    import_file(orders, kind=EntityKind.TRANSACTIONS)
    monkeypatch.setitem(settings.HUEY, "immediate", False)
    monkeypatch.setenv("PATRON_JOB_HEARTBEAT_SECONDS", "1")
    monkeypatch.setenv("PATRON_JOB_HEARTBEAT_TIMEOUT", "5")
    monkeypatch.setattr(worker_cli, "RESTART_CHECK_SECONDS", 0.5)
    alice = make_user("alice", "marketing")

    with worker_cli.supervised_worker(True) as supervisor:
        assert supervisor is not None
        first = supervisor.child
        assert first is not None
        _wait(lambda: Client().get("/healthz").status_code == 200, "the worker's heartbeat")
        # when an analysis is running and its worker is killed
        job = analysis_start(user=alice, as_of=None)
        _wait(lambda: Job.objects.get(pk=job.pk).status != JobStatus.QUEUED, "the job to start")
        assert Job.objects.get(pk=job.pk).status == JobStatus.RUNNING
        os.kill(first.pid, signal.SIGKILL)

        # then another worker starts, the job is failed, no run is left running
        _wait(lambda: supervisor.restarts >= 1, "a new worker")
        _wait(lambda: Job.objects.get(pk=job.pk).status == JobStatus.FAILED, "the job failed")
        assert not AnalysisRun.objects.filter(status=RunStatus.RUNNING).exists()
        # and a new analysis is accepted and runs to the end on the new worker
        again = analysis_start(user=alice, as_of=None)
        _wait(lambda: Job.objects.get(pk=again.pk).finished, "the new job")
        again.refresh_from_db()
        assert again.status == JobStatus.DONE, again.error
        assert supervisor.child is not None and supervisor.child.pid != first.pid
        assert again.worker.endswith(f":{supervisor.child.pid}")
        health = Client().get("/healthz").json()
        assert health["worker"] == "alive" and health["worker_pid"] == supervisor.child.pid
    # the worker stops with the block, and /healthz says so once its beat has lapsed
    assert supervisor.child.poll() is not None
