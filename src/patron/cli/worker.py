"""worker: run background jobs; and the worker process `patron serve` starts beside the server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from patron.cli.common import console, err_console, run_with_django

WorkersOption = Annotated[
    int | None,
    typer.Option(
        "--workers", min=1, help="Jobs run at the same time (default: $PATRON_WORKERS or 1)."
    ),
]
ParentOption = Annotated[
    int | None,
    typer.Option("--parent-pid", hidden=True, help="Stop when this process has ended."),
]
# How long `patron serve` lets its worker finish the job under way before stopping it.
STOP_GRACE_SECONDS = 20


def worker(workers: WorkersOption = None, parent_pid: ParentOption = None) -> None:
    """Run background jobs (imports and analyses started in the browser) until stopped.

    `patron serve` and `patron demo` start one for you.

    Run this yourself when serving with another WSGI server, or with --no-worker.

    Ctrl+C lets the job under way finish first.
    """

    def run() -> None:
        from django.conf import settings
        from django.core.management import call_command

        from patron.jobs.heartbeat import worker_heartbeat_start
        from patron.jobs.services import job_interrupted_fail

        config = settings.HUEY
        if config.get("immediate"):
            err_console.print(
                "[red]PATRON_JOBS_IMMEDIATE is on:[/red] jobs run where they are started; "
                "there is no queue for a worker to take them from."
            )
            raise typer.Exit(1)
        worker_heartbeat_start()  # for /healthz
        interrupted = job_interrupted_fail()
        if interrupted:
            err_console.print(f"Marked {interrupted} interrupted job(s) as failed.")
        where = config.get("url") or config.get("filename")
        err_console.print(f"Patron worker: taking jobs from {where}", highlight=False)
        if parent_pid:
            _stop_with_parent(parent_pid)
        options = {"workers": workers} if workers else {}
        call_command("run_huey", **options)

    run_with_django(run)


def _stop_with_parent(parent_pid: int) -> None:
    """Stop gracefully when the process that started this one is gone (killed, not stopped)."""

    def watch() -> None:
        while True:
            time.sleep(2)
            if os.getppid() != parent_pid:
                os.kill(os.getpid(), signal.SIGINT)
                return

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def worker_wanted() -> bool:
    """Whether `patron serve` starts a worker: not when jobs run immediately or
    PATRON_WORKER=external says another one runs (e.g. a service of its own)."""
    from django.conf import settings

    external = os.environ.get("PATRON_WORKER", "").lower() in {"external", "off", "0", "no"}
    return not external and not settings.HUEY.get("immediate")


class WorkerSupervisor:
    """`patron worker` in a child process, started again when it dies (a crash, the OOM
    killer, ``kill -9``): its successor fails the job it left running and takes the next."""

    def __init__(self) -> None:
        self.child: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self._stopping = threading.Event()
        self._lock = threading.Lock()

    def start(self) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "patron.cli", "worker", "--parent-pid", str(os.getpid())]
        # A session of its own: Ctrl+C in the terminal reaches the server only, which then
        # asks the worker once to stop (a second interrupt would cut the job under way short).
        with self._lock:
            self.child = subprocess.Popen(command, env=os.environ.copy(), start_new_session=True)
            return self.child

    def watch(self) -> None:
        """Restart the worker whenever it has ended without being asked to (a thread)."""
        while not self._stopping.wait(RESTART_CHECK_SECONDS):
            child = self.child
            if child is not None and child.poll() is not None and not self._stopping.is_set():
                self.restarts += 1
                err_console.print(
                    f"Background jobs: worker process {child.pid} ended (exit code "
                    f"{child.returncode}); starting another."
                )
                self.start()

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            if self.child is not None:
                _stop(self.child)


# How often `patron serve` looks whether its worker is still alive.
RESTART_CHECK_SECONDS = float(os.environ.get("PATRON_WORKER_CHECK_SECONDS", "2"))


@contextmanager
def worker_process(enabled: bool = True) -> Iterator[subprocess.Popen[bytes] | None]:
    """`patron worker` in a child process for as long as the block runs, restarted if it
    dies; yields the first child (``supervised_worker`` yields the supervisor)."""
    with supervised_worker(enabled) as supervisor:
        yield supervisor.child if supervisor is not None else None


@contextmanager
def supervised_worker(enabled: bool = True) -> Iterator[WorkerSupervisor | None]:
    if not enabled:
        yield None
        return
    supervisor = WorkerSupervisor()
    child = supervisor.start()
    console.print(f"Background jobs: worker process {child.pid} (stops with the server)")
    threading.Thread(target=supervisor.watch, name="worker-supervisor", daemon=True).start()
    # A service manager stops the server with SIGTERM: unwind, so the worker is stopped too.
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        yield supervisor
    finally:
        signal.signal(signal.SIGTERM, previous)
        supervisor.stop()


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _stop(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is not None:
        return
    child.send_signal(signal.SIGINT)  # finish the job under way, take no new one
    try:
        child.wait(STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        child.terminate()
        try:
            child.wait(5)
        except subprocess.TimeoutExpired:
            child.kill()
