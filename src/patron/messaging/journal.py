"""An outbox worker's journal: the messages of its claimed batch it hands over, one line each,
in a file of its own on the machine it runs on.

Before a message goes to the server the worker appends ``S <id>`` (sending), and once the
server has accepted it ``A <id>``; the batch's statuses are then written to the database in
one statement. A line is one ``write`` to the file, without waiting for the disk: the kernel
keeps it whatever happens to the worker process (killed, crashed), and only a crash or restart
of the machine itself can lose it. The journal's first line names the boot it was written in
(``/proc/sys/kernel/random/boot_id``, fsynced): recovery reads a gone worker's journal only
when the machine has not restarted since, and otherwise treats the worker's whole claimed
batch as in doubt. Where the boot cannot be known, every line is fsynced.

Recovery of a gone worker's claimed rows (:func:`journal_read`): accepted -> sent; sending but
not accepted -> in doubt (it may have gone out; never re-sent); neither -> queued again.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


def _boot_id() -> str:
    try:
        return BOOT_ID.read_text(encoding="ascii").strip()
    except OSError:
        return ""


def journal_path(worker: str) -> Path:
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", worker)
    return Path(settings.PATRON_OUTBOX_JOURNAL_DIR) / f"{name}.journal"


class Journal:
    """The running worker's journal (created empty, its boot line on the disk)."""

    def __init__(self, worker: str) -> None:
        self.path = journal_path(worker)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.boot = _boot_id()
        self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o600)
        os.write(self.fd, f"boot {self.boot or '-'}\n".encode())
        os.fsync(self.fd)

    def sending(self, message_id: int) -> None:
        self._line(f"S {message_id}\n")

    def accepted(self, message_id: int) -> None:
        self._line(f"A {message_id}\n")

    def _line(self, line: str) -> None:
        os.write(self.fd, line.encode())
        if not self.boot:
            os.fsync(self.fd)

    def close(self, *, remove: bool) -> None:
        os.close(self.fd)
        if remove:
            self.path.unlink(missing_ok=True)


@dataclass(frozen=True)
class Handed:
    sending: frozenset[int]
    accepted: frozenset[int]


def journal_read(worker: str) -> Handed | None:
    """What a gone worker of this machine handed over; None when its journal cannot be
    trusted (another machine's worker, no journal, written before the machine restarted)."""
    try:
        lines = journal_path(worker).read_text(encoding="ascii").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    if not lines or lines[0] != f"boot {_boot_id() or '-'}":
        return None  # written before the machine restarted: lines may be lost
    sending, accepted = set(), set()
    for line in lines[1:]:
        kind, _, number = line.partition(" ")
        if number.isdigit():
            (sending if kind == "S" else accepted).add(int(number))
    return Handed(frozenset(sending), frozenset(accepted))


def journal_remove(worker: str) -> None:
    journal_path(worker).unlink(missing_ok=True)
