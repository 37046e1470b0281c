"""The entry point: open an import file with the reader its extension calls for."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path

from patron.ingest.errors import IngestError, IngestErrorCode
from patron.ingest.i18n import gettext
from patron.ingest.reading.base import TableReader
from patron.ingest.reading.excel import XLSX_SUFFIXES, _open_xlsx
from patron.ingest.reading.parquet import PARQUET_SUFFIXES, _open_parquet
from patron.ingest.reading.text import TEXT_SUFFIXES, _open_text


def open_table(
    path: str | Path,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
    known_columns: Collection[str] = (),
    batch_rows: int = 50_000,
    names: Sequence[str] | None = None,
) -> TableReader:
    """Open an import file: format from the extension, encoding and delimiter sniffed unless
    given, header row found by ``known_columns``.

    ``names`` is for a file without a header row (the CDNOW sample): every row is data, the
    columns take these names and ``info.header_line`` is 0.

    Raises
    ------
    IngestError
        The file is missing, of an unknown kind, empty, undecodable or has no such sheet.
    """
    path = Path(path)
    if not path.is_file():
        raise IngestError(
            gettext("No file at %(path)s.") % {"path": path},
            code=IngestErrorCode.FILE_NOT_FOUND,
            extra={"path": str(path)},
        )
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return _open_text(
            path,
            encoding=encoding,
            delimiter=delimiter,
            known=known_columns,
            batch_rows=batch_rows,
            names=names,
        )
    if suffix in XLSX_SUFFIXES:
        return _open_xlsx(
            path, sheet=sheet, known=known_columns, batch_rows=batch_rows, names=names
        )
    if suffix in PARQUET_SUFFIXES:
        return _open_parquet(path, batch_rows=batch_rows, names=names)
    supported = sorted(TEXT_SUFFIXES | XLSX_SUFFIXES | PARQUET_SUFFIXES)
    raise IngestError(
        gettext("%(file)s: unsupported file type %(suffix)s; use %(suffixes)s.")
        % {
            "file": path.name,
            "suffix": suffix or gettext("(none)"),
            "suffixes": ", ".join(supported),
        },
        code=IngestErrorCode.UNSUPPORTED_FORMAT,
        extra={"path": str(path), "suffix": suffix},
    )
