"""Queue a background task once the current transaction commits, naming the task by its path.

A service that queues its own app's task (a campaign's occurrence, the outbox's dispatch) and
the task that then calls back into the service would otherwise import each other; naming the
task by its dotted path here keeps ``services`` free of ``tasks`` (tests/core/test_layers.py
allows no circle but the jobs pair).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string


def task_on_commit(path: str, *args: Any, unless_immediate: bool = False) -> None:
    """Call the Huey task at ``path`` with ``args`` after commit.

    ``unless_immediate``: skip it when jobs run in the caller's process (Huey's immediate
    mode, as in tests), where the work is asked for explicitly instead.
    """

    def enqueue() -> None:
        if unless_immediate and settings.HUEY.get("immediate"):
            return
        import_string(path)(*args)

    transaction.on_commit(enqueue)
