"""Check a .zip before anything in it is unpacked: sizes, ratios, nesting and entry names.

A 1 MB zip can unpack to a gibibyte; an entry named ``../../etc/x`` points outside the
folder it is unpacked to; a zip inside a zip hides the first two checks one level down.
Each is refused with a message naming the entry, before a byte is written.
"""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath

from patron.ingest.errors import IngestError, IngestErrorCode
from patron.ingest.i18n import gettext, gettext_noop
from patron.ingest.reading import limits
from patron.ingest.reading.xlsx_guard import TOO_MUCH_UNPACKED, check_zip_entry

NESTED_SUFFIXES = frozenset(
    {".zip", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".tar", ".zst", ".lz4"}
)
MAX_ENTRIES = 1_000

UNSAFE_NAME = gettext_noop(
    "%(file)s holds an entry named %(entry)s, which points outside the archive: Patron does "
    "not unpack it."
)
NESTED_ARCHIVE = gettext_noop(
    "%(file)s holds another archive (%(entry)s): unpack it and import the file inside."
)
TOO_MANY_ENTRIES = gettext_noop("%(file)s holds %(count)s entries (at most %(limit)s).")


def _error(message: str, path: Path, code: IngestErrorCode, **values: object) -> IngestError:
    return IngestError(
        gettext(message) % {"file": path.name, **values},
        code=code,
        extra={"path": str(path), **values},
    )


def unsafe_name(name: str) -> bool:
    """An entry name that is absolute or climbs out of its folder (``../``, ``C:\\``)."""
    posix = name.replace("\\", "/")
    pure = PurePosixPath(posix)
    return posix.startswith("/") or ".." in pure.parts or (len(posix) > 1 and posix[1] == ":")


def check_archive(path: Path, archive: zipfile.ZipFile) -> None:
    """Refuse a zip beyond the limits of :mod:`~patron.ingest.reading.limits`.

    Raises
    ------
    IngestError
        ``TOO_LARGE`` (sizes, ratio, entry count) or ``UNSAFE_ARCHIVE`` (names, nesting).
    """
    entries = archive.infolist()
    if len(entries) > MAX_ENTRIES:
        raise _error(
            TOO_MANY_ENTRIES, path, IngestErrorCode.TOO_LARGE, count=len(entries), limit=MAX_ENTRIES
        )
    total = 0
    for info in entries:
        if unsafe_name(info.filename):
            raise _error(UNSAFE_NAME, path, IngestErrorCode.UNSAFE_ARCHIVE, entry=info.filename)
        if info.is_dir():
            continue
        if PurePosixPath(info.filename.replace("\\", "/")).suffix.lower() in NESTED_SUFFIXES:
            raise _error(NESTED_ARCHIVE, path, IngestErrorCode.UNSAFE_ARCHIVE, entry=info.filename)
        check_zip_entry(path, info)
        total += info.file_size
        if total > limits.MAX_UNPACKED_BYTES:
            raise _error(
                TOO_MUCH_UNPACKED,
                path,
                IngestErrorCode.TOO_LARGE,
                limit=limits.MAX_UNPACKED_BYTES // (1024 * 1024),
                part=info.filename,
            )
