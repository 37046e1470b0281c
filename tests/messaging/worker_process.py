"""A real outbox worker process for the crash and concurrency tests.

``python worker_process.py CRASH_AFTER BATCH``: dispatch the outbox; with CRASH_AFTER > 0 the
process kills itself with SIGKILL at the moment it is about to commit its CRASH_AFTER-th
accepted message as sent (the server has the message; the row still says claimed): the
commit that would mark it is the one that claims the next message, or the batch's last mark.
"""

from __future__ import annotations

import json
import os
import signal
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "patron.settings")

import django

django.setup()

from patron.messaging import dispatch  # noqa: E402

crash_after, batch = int(sys.argv[1]), int(sys.argv[2])
if crash_after:
    real_claim, real_mark_sent = dispatch._claim, dispatch._mark_sent
    accepted = {"n": 0}

    def _accepted() -> None:
        accepted["n"] += 1
        if accepted["n"] >= crash_after:
            os.kill(os.getpid(), signal.SIGKILL)

    def claim_or_die(message_id: int, *, worker: str, previous: int | None) -> bool:
        if previous is not None:  # the server accepted ``previous``; its row says claimed
            _accepted()
        return real_claim(message_id, worker=worker, previous=previous)

    def mark_sent_or_die(message_id: int, now: object) -> None:
        _accepted()
        real_mark_sent(message_id, now)  # type: ignore[arg-type]

    dispatch._claim = claim_or_die  # type: ignore[assignment]
    dispatch._mark_sent = mark_sent_or_die  # type: ignore[assignment]

print(json.dumps(dispatch.outbox_dispatch(batch_size=batch).as_dict()))
