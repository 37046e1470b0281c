"""Live progress of a running job, in the shared cache.

A job's work often runs inside one database transaction (an import is all-or-nothing), so it
cannot write its own progress to the job's row where the browser would see it: the row would
stay invisible until the commit, and on SQLite the write would wait on the import's own lock.
Progress therefore goes to Django's cache (a file cache under var/ by default, Redis when
``PATRON_CACHE_URL`` says so: shared by the web server and the worker), and the job's row gets
the last figures when the job ends. Messages are stored untranslated (English msgids) and
translated when shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.cache import cache

CACHE_SECONDS = 24 * 60 * 60


def _key(job_id: int) -> str:
    return f"patron:job:{job_id}:progress"


@dataclass
class JobProgress:
    """What a job's work calls to say how far it got: ``update(done, total, message)``."""

    job_id: int
    done: int = 0
    total: int | None = None
    message: str = ""

    def update(
        self, done: int | None = None, *, total: int | None = None, message: str | None = None
    ) -> None:
        if done is not None:
            self.done = max(0, int(done))
        if total is not None:
            self.total = max(0, int(total))
        if message is not None:
            self.message = message
        cache.set(
            _key(self.job_id),
            {"done": self.done, "total": self.total, "message": self.message},
            CACHE_SECONDS,
        )

    def clear(self) -> None:
        cache.delete(_key(self.job_id))


def progress_read(job_id: int) -> dict[str, Any] | None:
    """The live figures of a running job, or None when it has reported none."""
    value = cache.get(_key(job_id))
    return value if isinstance(value, dict) else None
