"""A stored run made by `patron analyze` in a terminal whose process is killed (kill -9) is
failed with a message saying so, not "running" for ever: the run beats while it is made, and
a run whose beat has lapsed, or whose process on this machine is gone, is failed where runs
are listed or started."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.utils import timezone

from patron.ingest.importer import import_file
from patron.ingest.mapping import EntityKind
from patron.insights.models import AnalysisRun, RunStatus
from patron.insights.services import run_stale_fail
from patron.jobs.heartbeat import run_beat, run_heartbeat

pytestmark = pytest.mark.django_db(transaction=True)
WAIT_SECONDS = 180  # a bound on waiting for another process, not a speed claim


def test_a_run_whose_beat_lapsed_is_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATRON_JOB_HEARTBEAT_TIMEOUT", "60")
    long_ago = timezone.now() - dt.timedelta(minutes=5)
    dead, beating, young = (AnalysisRun.objects.create(as_of=dt.date(2024, 1, 1)) for _ in "abc")
    AnalysisRun.objects.filter(pk__in=[dead.pk, beating.pk]).update(created_at=long_ago)
    with run_heartbeat(beating.pk):
        assert run_stale_fail() == 1
    dead.refresh_from_db()
    assert dead.status == RunStatus.FAILED
    assert dead.error.startswith("interrupted: the process making this run stopped")
    assert "no sign of life for 60 s" in dead.error
    assert AnalysisRun.objects.get(pk=beating.pk).status == RunStatus.RUNNING  # it beat
    assert AnalysisRun.objects.get(pk=young.pk).status == RunStatus.RUNNING  # not overdue yet


def _patron(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "patron.cli", *args],
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


@pytest.mark.slow
def test_kill_patron_analyze_mid_run(
    child_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a store with orders, and a beat lapse far longer than the test waits
    orders = tmp_path / "orders.csv"
    rows = [f"O{i},C{i % 300},2024-{1 + i % 12:02d}-{1 + i % 28:02d},{10 + i}" for i in range(3000)]
    orders.write_text("order_id,customer_id,ordered_at,amount\n" + "\n".join(rows) + "\n")
    import_file(orders, kind=EntityKind.TRANSACTIONS)
    monkeypatch.setenv("PATRON_JOB_HEARTBEAT_SECONDS", "1")
    monkeypatch.setenv("PATRON_JOB_HEARTBEAT_TIMEOUT", "3600")

    # when `patron analyze` is killed while its run is being made
    child = _patron("analyze", "--json")
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        while not any(map(run_beat, AnalysisRun.objects.values_list("pk", flat=True))):
            assert child.poll() is None, child.communicate()[1].decode()[-2000:]
            assert time.monotonic() < deadline, "gave up waiting for the run to start"
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate(timeout=WAIT_SECONDS)
    assert child.returncode == -signal.SIGKILL
    run = AnalysisRun.objects.get()
    assert run.status == RunStatus.RUNNING  # nobody could say anything on its way out

    # then `patron runs list` (another process) shows it failed, saying why, at once
    listed = _patron("runs", "list", "--json")
    output, errors = listed.communicate(timeout=WAIT_SECONDS)
    assert listed.returncode == 0, errors.decode()[-2000:]
    shown = {r["run"]: r for r in json.loads(output)}[run.pk]
    assert shown["status"] == "failed"
    assert shown["error"].startswith("interrupted: the process making this run stopped")
    assert f"its process {child.pid} on " in shown["error"]
    run.refresh_from_db()
    assert (run.status, run.error) == (RunStatus.FAILED, shown["error"])
