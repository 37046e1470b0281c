"""Exports that arrive zipped: Alipay's merchant bill is a .zip of GBK-named CSV files.

The zip holds the detail file (业务明细) and a summary (业务明细(汇总)); the importer reads
the entry whose header a preset of the wanted kind recognises best (the detail), the larger
one on a tie. The entry is unpacked into a private temporary folder that goes away with the
reader.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
import zipfile
from collections.abc import Collection
from pathlib import Path
from typing import Any

from patron.ingest.errors import IngestError, IngestErrorCode
from patron.ingest.formats import load_presets
from patron.ingest.i18n import gettext
from patron.ingest.mapping import EntityKind
from patron.ingest.reading import (
    PARQUET_SUFFIXES,
    TEXT_SUFFIXES,
    XLSX_SUFFIXES,
    TableReader,
    open_table,
)
from patron.ingest.reading.archive_guard import check_archive

ZIP_SUFFIXES = frozenset({".zip"})
_READABLE = TEXT_SUFFIXES | XLSX_SUFFIXES | PARQUET_SUFFIXES
_UTF8_NAMES = 0x800  # the zip flag that says an entry's name is UTF-8


def entry_name(info: zipfile.ZipInfo) -> str:
    """An entry's name as the exporter wrote it: zips made on Chinese Windows (Alipay's)
    store GBK names without the UTF-8 flag, which Python reads as cp437."""
    if info.flag_bits & _UTF8_NAMES:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("gb18030")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def open_import_table(
    path: str | Path, *, kind: EntityKind, known_columns: Collection[str], **options: Any
) -> TableReader:
    """:func:`~patron.ingest.reading.open_table`, reading a .zip's best entry for ``kind``.

    Raises
    ------
    IngestError
        As ``open_table``; or the zip is unreadable or holds no file Patron reads.
    """
    path = Path(path)
    if path.suffix.lower() not in ZIP_SUFFIXES:
        return open_table(path, known_columns=known_columns, **options)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise IngestError(
            gettext("%(file)s cannot be read as a zip file (%(reason)s).")
            % {"file": path.name, "reason": exc},
            code=IngestErrorCode.UNREADABLE_FILE,
            extra={"path": str(path)},
        ) from None
    folder = Path(tempfile.mkdtemp(prefix="patron-zip-"))
    try:
        with archive:
            check_archive(path, archive)  # sizes, ratios, nested archives, ../ names
            candidates = []
            for info in archive.infolist():
                name = Path(entry_name(info)).name
                if info.is_dir() or Path(name).suffix.lower() not in _READABLE:
                    continue
                target = folder / f"{len(candidates)}-{name}"
                with archive.open(info) as source, target.open("wb") as out:
                    shutil.copyfileobj(source, out)
                candidates.append((target, info.file_size))
        if not candidates:
            raise IngestError(
                gettext("%(file)s holds no file Patron reads (%(suffixes)s).")
                % {"file": path.name, "suffixes": ", ".join(sorted(_READABLE))},
                code=IngestErrorCode.UNSUPPORTED_FORMAT,
                extra={"path": str(path)},
            )
        presets = [p for p in load_presets() if p.kind is kind]
        best: tuple[int, int, TableReader] | None = None
        for target, size in candidates:
            try:
                reader = open_table(target, known_columns=known_columns, **options)
            except IngestError:
                continue  # an empty or unreadable entry: another may do
            score = max((p.score(reader.info.header) for p in presets), default=0)
            if best is None or (score, size) > best[:2]:
                best = (score, size, reader)
        if best is None:
            raise IngestError(
                gettext("No file in %(file)s can be read as a table.") % {"file": path.name},
                code=IngestErrorCode.UNREADABLE_FILE,
                extra={"path": str(path)},
            )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    reader = best[2]
    weakref.finalize(reader, shutil.rmtree, folder, True)
    return reader
