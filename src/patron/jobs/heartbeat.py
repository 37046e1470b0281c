"""Heartbeats in the shared cache: a running job's, and the worker process's.

A worker killed with ``kill -9`` says nothing: its job stayed "running 66%" for ever and new
analyses were refused as "already under way". Now the job's worker beats every
PATRON_JOB_HEARTBEAT_SECONDS (10) into the cache, where a beat lives
PATRON_JOB_HEARTBEAT_TIMEOUT seconds (60); a running job with no live beat is failed by
:func:`patron.jobs.services.job_stale_fail` (and can be started again). The worker process
beats too, for ``/healthz``. So does every stored analysis run while it is made, whoever
makes it (a job, or ``patron analyze`` in a terminal): a run whose process is gone is failed
by :func:`patron.insights.services.run_stale_fail`.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Iterator
from typing import Any

from django.core.cache import cache

WORKER_KEY = "patron:worker:heartbeat"


def beat_seconds() -> float:
    return float(os.environ.get("PATRON_JOB_HEARTBEAT_SECONDS", "10"))


def timeout_seconds() -> float:
    return float(os.environ.get("PATRON_JOB_HEARTBEAT_TIMEOUT", "60"))


def _job_key(job_id: int) -> str:
    return f"patron:job:{job_id}:heartbeat"


def _beating(key: str, value: Any, stop: threading.Event) -> None:
    while True:
        with contextlib.suppress(Exception):  # a cache hiccup must not end the job
            cache.set(key, value, timeout_seconds())
        if stop.wait(beat_seconds()):
            return


@contextlib.contextmanager
def _beat_while(key: str, value: Any, name: str) -> Iterator[None]:
    """Beat ``value`` under ``key`` while the block runs, on a thread of its own."""
    stop = threading.Event()
    cache.set(key, value, timeout_seconds())  # the first beat before the work starts
    thread = threading.Thread(target=_beating, args=(key, value, stop), name=name, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(5)
        cache.delete(key)


def job_heartbeat(job_id: int) -> contextlib.AbstractContextManager[None]:
    """Beat for ``job_id`` while the block runs (its work)."""
    return _beat_while(_job_key(job_id), os.getpid(), f"job-{job_id}-heartbeat")


def run_heartbeat(run_id: int) -> contextlib.AbstractContextManager[None]:
    """Beat for the analysis run ``run_id`` while the block makes it: ``{"host", "pid"}`` of
    this process, so a run on this machine whose process is gone is seen at once."""
    value = {"host": socket.gethostname(), "pid": os.getpid()}
    return _beat_while(_run_key(run_id), value, f"run-{run_id}-heartbeat")


def _run_key(run_id: int) -> str:
    return f"patron:run:{run_id}:heartbeat"


def run_beat(run_id: int) -> dict[str, Any] | None:
    """The last beat of the process making run ``run_id`` ({"host", "pid"}), or None when
    none beat within PATRON_JOB_HEARTBEAT_TIMEOUT."""
    value = cache.get(_run_key(run_id))
    return value if isinstance(value, dict) else None


def beat_process_gone(beat: dict[str, Any]) -> bool:
    """Whether the process that left ``beat`` ({"host", "pid"}) is known to be gone: it ran
    on this machine and no process has its number any more."""
    pid = beat.get("pid")
    return beat.get("host") == socket.gethostname() and isinstance(pid, int) and not pid_alive(pid)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def job_beating(job_id: int) -> bool:
    return cache.get(_job_key(job_id)) is not None


def worker_heartbeat_start() -> None:
    """Beat for this worker process until it ends (a daemon thread)."""
    value = {"host": socket.gethostname(), "pid": os.getpid()}
    threading.Thread(
        target=_beating,
        args=(WORKER_KEY, value, threading.Event()),
        name="worker-heartbeat",
        daemon=True,
    ).start()


def worker_seen() -> dict[str, Any] | None:
    """The last live worker's beat ({"host", "pid"}), or None when none beat lately."""
    value = cache.get(WORKER_KEY)
    return value if isinstance(value, dict) else None
