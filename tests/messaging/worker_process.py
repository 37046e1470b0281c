"""A real outbox worker process for the crash and concurrency tests.

``python worker_process.py CRASH_AFTER BATCH``: dispatch the outbox; with CRASH_AFTER > 0 the
process kills itself with SIGKILL at the moment it is about to record its CRASH_AFTER-th
accepted message (the server has the message; its row still says claimed and the worker's
journal says only that it was being sent).
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
    real_accepted = dispatch._accepted
    accepted = {"n": 0}

    def accepted_or_die(journal: object, message_id: int) -> None:
        accepted["n"] += 1
        if accepted["n"] >= crash_after:
            os.kill(os.getpid(), signal.SIGKILL)
        real_accepted(journal, message_id)  # type: ignore[arg-type]

    dispatch._accepted = accepted_or_die  # type: ignore[assignment]

print(json.dumps(dispatch.outbox_dispatch(batch_size=batch).as_dict()))
