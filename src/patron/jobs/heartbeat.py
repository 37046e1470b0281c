"""Heartbeats in the shared cache: a running job's, and the worker process's.

A worker killed with ``kill -9`` says nothing: its job stayed "running 66%" for ever and new
analyses were refused as "already under way". Now the job's worker beats every
PATRON_JOB_HEARTBEAT_SECONDS (10) into the cache, where a beat lives
PATRON_JOB_HEARTBEAT_TIMEOUT seconds (60); a running job with no live beat is failed by
:func:`patron.jobs.services.job_stale_fail` (and can be started again). The worker process
beats too, for ``/healthz``.
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
def job_heartbeat(job_id: int) -> Iterator[None]:
    """Beat for ``job_id`` while the block runs (its work), on a thread of its own."""
    stop = threading.Event()
    key = _job_key(job_id)
    cache.set(key, os.getpid(), timeout_seconds())  # the first beat before the work starts
    thread = threading.Thread(
        target=_beating, args=(key, os.getpid(), stop), name=f"job-{job_id}-heartbeat", daemon=True
    )
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(5)
        cache.delete(key)


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
