"""`patron worker` in a process of its own takes a queued job from Huey's SQLite queue and runs
it against the same database; `patron serve` starts and stops one the same way."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from typer.testing import CliRunner

from patron.cli import app
from patron.ingest.mapping import EntityKind
from patron.jobs.imports import CHECK_REJECTS, upload_check_start, upload_create, upload_dir
from patron.jobs.models import Job, JobStatus

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
WAIT_SECONDS = 180  # a bound on waiting for another process, not a speed claim


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "expected an amount such as 123.45 (¥, 元 and thousands separators are fine)"),
        ("zh-hans", "应为金额，例如 123.45（可以带 ¥、元 和千位分隔符）"),
    ],
)
def test_a_worker_process_runs_the_queued_check(
    real_queue: Any, make_user: Any, language: str, expected: str
) -> None:
    from patron.cli.worker import worker_process

    # given an upload whose check is queued in a language, with no worker running
    alice = make_user("alice", "marketing")
    data = b"customer_id,date,amount\nC1,2024-01-05,10.00\nC2,2024-01-06,abc\nC3,2024-01-07,2\n"
    upload = upload_create(
        user=alice, file=SimpleUploadedFile("orders.csv", data), kind=EntityKind.TRANSACTIONS
    )
    with translation.override(language):
        job = upload_check_start(upload=upload, user=alice, mapping=dict(upload.mapping))
    assert real_queue.pending_count() == 1
    assert Job.objects.get(pk=job.pk).status == JobStatus.QUEUED

    # when the worker `patron serve` starts runs beside us
    with worker_process(True) as child:
        assert child is not None
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline and not Job.objects.get(pk=job.pk).finished:
            assert child.poll() is None, "the worker stopped"
            time.sleep(0.5)
    # then it ran the check, in its own process, and stopped with the block
    assert child.returncode is not None
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error
    assert job.worker.endswith(f":{child.pid}")
    assert (job.result["read"], job.result["rejected"]) == (3, 1)
    assert [e["line"] for e in job.result["errors"]] == [3]
    # in the language it was queued in, though the worker's process never activated one
    assert job.result["errors"][0]["message"] == expected
    assert (upload_dir(upload) / CHECK_REJECTS).is_file()
    # the check left the queue (the worker's scheduler may have queued a periodic task of
    # its own, such as the outbox dispatch, just before it stopped)
    left = [getattr(t, "name", type(t).__name__) for t in real_queue.pending()]
    assert not [name for name in left if "job_execute" in name], left


def test_a_worker_stops_when_the_process_that_started_it_is_gone(real_queue: Any) -> None:
    # given a worker told that its parent is another process (so, gone)
    child = subprocess.Popen(
        [sys.executable, "-m", "patron.cli", "worker", "--parent-pid", "1"],
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    # then it stops by itself, cleanly
    try:
        output, _ = child.communicate(timeout=WAIT_SECONDS)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, output.decode()[-2000:]
    assert b"Patron worker: taking jobs from" in output
    assert b"The following commands are available" not in output  # Huey's start-up banner


def test_worker_refuses_when_jobs_run_immediately() -> None:
    result = CliRunner().invoke(app, ["worker"])
    assert result.exit_code == 1
    assert "PATRON_JOBS_IMMEDIATE is on" in result.output


def test_serve_starts_a_worker_unless_told_otherwise(
    monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    from patron.cli.worker import worker_wanted

    assert not worker_wanted()  # the tests run jobs immediately: no queue, no worker
    monkeypatch.setitem(settings.HUEY, "immediate", False)
    assert worker_wanted()
    monkeypatch.setenv("PATRON_WORKER", "external")  # a worker runs as a service of its own
    assert not worker_wanted()
