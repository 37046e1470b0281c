"""Excel workbooks (.xlsx) read with calamine: cells as CSV-export text, sheet rows as lines."""

from __future__ import annotations

import math
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from patron.ingest.errors import IngestError, IngestErrorCode
from patron.ingest.i18n import gettext
from patron.ingest.reading import limits
from patron.ingest.reading._columns import HEADER_SEARCH_ROWS, _find_header, _names, _unique_keys
from patron.ingest.reading.base import TableReader
from patron.ingest.reading.types import FileInfo, RawBatch, SourceFormat
from patron.ingest.reading.xlsx_guard import check_workbook, unreadable_workbook
from patron.ingest.reading.xlsx_stream import stream_rows

XLSX_SUFFIXES = frozenset({".xlsx", ".xlsm"})


def _cell_text(value: object) -> str:
    """An Excel cell as the text the same value would have in a CSV export."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 2**53:
            return str(int(value))
        return repr(value) if math.isfinite(value) else ""
    if isinstance(value, datetime):
        text = value.strftime("%Y-%m-%d %H:%M:%S")
        return f"{text}.{value.microsecond:06d}" if value.microsecond else text
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat()
    return "" if value is None else str(value)


class _XlsxReader(TableReader):
    part: str | None = None  # set to stream the sheet's rows (too large for calamine)

    def _batches(self) -> Iterator[RawBatch]:
        width = len(self.info.column_names)
        size = self.batch_rows
        rows: list[list[str]] = []
        lines: list[int] = []
        with _xlsx_rows(self.info.path, self.info.sheet, self.part) as (_, sheet_rows):
            for number, cells in sheet_rows:
                if number <= self.info.header_line:
                    continue
                row = [c if c.__class__ is str else _cell_text(c) for c in cells]
                if len(row) != width:
                    fitted = self._fit(row, number, width)
                    if fitted is None:
                        continue
                    row = fitted
                rows.append(row)
                lines.append(number)
                if len(rows) >= size:
                    yield self._batch(rows, lines)
                    rows, lines = [], []
        if rows:
            yield self._batch(rows, lines)


@contextmanager
def _xlsx_rows(
    path: Path, sheet: str | None, part: str | None = None
) -> Iterator[tuple[str, Iterator[tuple[int, list[Any]]]]]:
    """Open a workbook sheet and iterate ``(sheet row number, cells)``; closes the workbook.

    With ``part`` (the sheet's XML part) the rows are streamed from it instead of loaded.
    """
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises several unrelated types
        raise unreadable_workbook(path, exc) from None
    try:
        names = list(book.sheet_names)
        if sheet is not None and sheet not in names:
            raise IngestError(
                gettext("%(file)s has no sheet %(sheet)s; its sheets are %(sheets)s.")
                % {"file": path.name, "sheet": repr(sheet), "sheets": ", ".join(names)},
                code=IngestErrorCode.SHEET_NOT_FOUND,
                extra={"sheet": sheet, "sheets": names},
            )
        if not names:
            raise IngestError(
                gettext("%(file)s has no sheets.") % {"file": path.name},
                code=IngestErrorCode.EMPTY_FILE,
                extra={"path": str(path)},
            )
        name = sheet if sheet is not None else names[0]
        if part is not None:
            yield name, stream_rows(path, part)
            return
        # calamine's row iterator starts at sheet row 1 (leading empty rows included).
        yield name, enumerate(book.get_sheet_by_name(name).iter_rows(), start=1)
    finally:
        book.close()


def _open_xlsx(
    path: Path,
    *,
    sheet: str | None,
    known: Collection[str],
    batch_rows: int,
    names: Sequence[str] | None,
) -> TableReader:
    # Sizes and the sheet's extent, before calamine allocates it; a sheet too large for
    # calamine is streamed.
    scan = check_workbook(path, sheet)
    part = scan.part if scan is not None and scan.extent.area > limits.MAX_SHEET_CELLS else None
    if names is not None:
        with _xlsx_rows(path, sheet) as (name, _):
            pass
        info = FileInfo(
            path, SourceFormat.XLSX, None, None, tuple(names), 0, name, _unique_keys(names)
        )
        reader = _XlsxReader(info, batch_rows=batch_rows, preamble=())
        reader.part = part
        return reader
    with _xlsx_rows(path, sheet, part) as (name, sheet_rows):
        head: list[tuple[int, list[str]]] = []
        filled = 0
        for number, cells in sheet_rows:
            row = [_cell_text(c) for c in cells]
            head.append((number, row))
            filled += any(c.strip() for c in row)
            if filled > HEADER_SEARCH_ROWS:
                break
    index = _find_header(head, known)
    if index is None:
        raise IngestError(
            gettext("Sheet %(sheet)s of %(file)s is empty.")
            % {"sheet": repr(name), "file": path.name},
            code=IngestErrorCode.EMPTY_FILE,
            extra={"path": str(path), "sheet": name},
        )
    header_line, header_row = head[index]
    written, keys = _names(header_row)
    info = FileInfo(path, SourceFormat.XLSX, None, None, written, header_line, name, keys)
    reader = _XlsxReader(info, batch_rows=batch_rows, preamble=range(1, header_line))
    reader.part = part
    return reader
