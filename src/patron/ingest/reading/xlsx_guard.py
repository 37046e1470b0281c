"""Check an .xlsx before the workbook reader opens it: sizes, ratios and the sheet's extent.

The workbook reader (calamine) holds a sheet as one rectangle from A1 to its last used cell,
so a 1.6 KB file with one cell at ``XFD1048576`` asks for 549 GB, and a 4 MB file can hold a
1 GB sheet. This module reads the sheet's XML as a stream (a few MB at a time, never the
whole part) and measures what it spans; a workbook beyond the limits of
:mod:`patron.ingest.reading.limits` is refused with a message naming the limit.
"""

from __future__ import annotations

import html
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from patron.ingest.errors import IngestError, IngestErrorCode
from patron.ingest.i18n import gettext, gettext_noop
from patron.ingest.reading import limits

_CHUNK = 4 << 20
_CELL_REF = re.compile(rb"<(?:\w+:)?c\s[^>]*?\br=\"([A-Z]{1,4})([0-9]{1,9})\"")
_ROW_REF = re.compile(rb"<(?:\w+:)?row\s[^>]*?\br=\"([0-9]{1,9})\"")
_CELL_TAG = re.compile(rb"<(?:\w+:)?c[\s>/]")
_ROW_TAG = re.compile(rb"<(?:\w+:)?row[\s>/]")


@dataclass(frozen=True)
class SheetExtent:
    rows: int  # the last used row number
    columns: int  # the last used column number (A = 1)
    cells: int  # cells written in the XML

    @property
    def area(self) -> int:
        return self.rows * self.columns


def column_number(letters: bytes | str) -> int:
    """``A`` -> 1, ``XFD`` -> 16384."""
    number = 0
    for ch in letters.decode() if isinstance(letters, bytes) else letters:
        number = number * 26 + (ord(ch) - 64)
    return number


def column_letters(number: int) -> str:
    """1 -> ``A``, 16384 -> ``XFD``."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def unreadable_workbook(path: Path, reason: object) -> IngestError:
    """The error for a file the workbook readers cannot read (calamine's or the stream's)."""
    return IngestError(
        gettext("%(file)s cannot be read as an Excel workbook (%(reason)s).")
        % {"file": path.name, "reason": reason},
        code=IngestErrorCode.UNREADABLE_FILE,
        extra={"path": str(path)},
    )


def _refuse(path: Path, message: str, values: dict[str, object]) -> IngestError:
    return IngestError(
        gettext(message) % {"file": path.name, **values},
        code=IngestErrorCode.TOO_LARGE,
        extra={"path": str(path), **{k: v for k, v in values.items() if k != "file"}},
    )


TOO_MUCH_UNPACKED = gettext_noop(
    "%(file)s unpacks to more than %(limit)s MB (at %(part)s): Patron refuses it to keep the "
    "server's memory safe. Split the file, or raise PATRON_IMPORT_MAX_UNPACKED_MB."
)
TOO_PACKED = gettext_noop(
    "%(file)s: its part %(part)s unpacks to %(ratio)s times its packed size (at most "
    "%(limit)s): this looks like a zip bomb, not an export."
)
TOO_WIDE = gettext_noop(
    "%(file)s: sheet %(sheet)s reaches column %(column)s (%(columns)s columns; at most "
    "%(limit)s). Delete the empty columns on the right, or save the sheet as CSV."
)
TOO_LONG_SHEET = gettext_noop(
    "%(file)s: sheet %(sheet)s has %(rows)s rows (at most %(limit)s). Save it as CSV."
)


def check_zip_entry(path: Path, info: zipfile.ZipInfo, *, part: str | None = None) -> None:
    """Refuse one member of a zip (or .xlsx) whose unpacked size or ratio passes the limits."""
    name = part or info.filename
    if info.file_size > limits.MAX_UNPACKED_BYTES:
        raise _refuse(
            path,
            TOO_MUCH_UNPACKED,
            {"limit": limits.MAX_UNPACKED_BYTES // (1024 * 1024), "part": name},
        )
    if info.file_size > limits.RATIO_FLOOR_BYTES:
        ratio = info.file_size // max(1, info.compress_size)
        if ratio > limits.MAX_PACK_RATIO:
            raise _refuse(
                path, TOO_PACKED, {"ratio": ratio, "limit": limits.MAX_PACK_RATIO, "part": name}
            )


def sheet_extent(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> SheetExtent:
    """The last used row and column of a worksheet part, read as a stream.

    When no cell carries a reference (allowed, rare), the widest row's cell count is the
    width.
    """
    rows = columns = cells = row_tags = 0
    widest = in_row = 0  # cells in the widest row, and in the row being read
    carry = b""
    with archive.open(info) as stream:
        while True:
            chunk = stream.read(_CHUNK)
            data = carry + chunk
            if chunk:
                cut = data.rfind(b">") + 1
                data, carry = data[:cut], data[cut:]
                if len(carry) > _CHUNK:  # no tag ends in 4 MB: not a worksheet we can read
                    carry = carry[-1024:]
            for match in _CELL_REF.finditer(data):
                columns = max(columns, column_number(match.group(1)))
                rows = max(rows, int(match.group(2)))
            for match in _ROW_REF.finditer(data):
                rows = max(rows, int(match.group(1)))
            starts = [m.start() for m in _ROW_TAG.finditer(data)]
            row_tags += len(starts)
            cells += len(_CELL_TAG.findall(data))
            if columns == 0:  # no references seen: count each row's cells
                previous = 0
                for start in starts:
                    in_row += len(_CELL_TAG.findall(data, previous, start))
                    widest = max(widest, in_row)
                    in_row, previous = 0, start
                in_row += len(_CELL_TAG.findall(data, previous))
                widest = max(widest, in_row)
            if not chunk:
                break
    rows = max(rows, row_tags)
    columns = max(columns, widest if columns == 0 else 0)
    return SheetExtent(rows=rows, columns=columns, cells=cells)


def _sheet_part(archive: zipfile.ZipFile, sheet: str | None) -> tuple[str, zipfile.ZipInfo] | None:
    """The worksheet part of the named (or first) sheet, from the workbook's relations."""
    names = {info.filename: info for info in archive.infolist()}
    try:
        workbook = archive.read("xl/workbook.xml") if "xl/workbook.xml" in names else b""
        rels = (
            archive.read("xl/_rels/workbook.xml.rels")
            if "xl/_rels/workbook.xml.rels" in names
            else b""
        )
    except (zipfile.BadZipFile, OSError, RuntimeError):
        return None
    targets = {
        m.group(1): m.group(2)
        for m in re.finditer(rb'<Relationship\s[^>]*?Id="([^"]+)"[^>]*?Target="([^"]+)"', rels)
    }
    targets.update(
        {
            m.group(2): m.group(1)
            for m in re.finditer(rb'<Relationship\s[^>]*?Target="([^"]+)"[^>]*?Id="([^"]+)"', rels)
        }
    )
    for m in re.finditer(rb"<(?:\w+:)?sheet\s[^>]*>", workbook):
        tag = m.group(0)
        name = re.search(rb'\bname="([^"]*)"', tag)
        rid = re.search(rb'\br:id="([^"]*)"|\bid="([^"]*)"', tag)
        if name is None or rid is None:
            continue
        written = html.unescape(name.group(1).decode("utf-8", "replace"))
        if sheet is not None and written != sheet:
            continue
        target = targets.get(rid.group(1) or rid.group(2), b"").decode("utf-8", "replace")
        part = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        return (written, names[part]) if part in names else None
    return None


@dataclass(frozen=True)
class SheetScan:
    name: str  # the sheet's name
    part: str  # its part in the zip (xl/worksheets/sheet1.xml)
    extent: SheetExtent


def check_workbook(path: Path, sheet: str | None) -> SheetScan | None:
    """Refuse a workbook whose parts or chosen sheet pass the limits; a file that is not a
    zip is left to the workbook reader (which says it cannot read it). Returns what the scan
    found (None when the sheet's part was not found: the workbook reader says why).

    Raises
    ------
    IngestError
        ``TOO_LARGE``: which limit, with the sheet's size.
    """
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        return None
    with archive:
        for info in archive.infolist():
            check_zip_entry(path, info)
        found = _sheet_part(archive, sheet)
        if found is None:
            return None
        shown, part = found
        try:
            extent = sheet_extent(archive, part)
        except (zipfile.BadZipFile, OSError, RuntimeError, EOFError):
            return None  # the workbook reader reports the damage
    values: dict[str, object] = {"sheet": repr(shown)}
    if extent.columns > limits.MAX_COLUMNS:
        raise _refuse(
            path,
            TOO_WIDE,
            {
                **values,
                "column": column_letters(extent.columns),
                "columns": f"{extent.columns:,}",
                "limit": f"{limits.MAX_COLUMNS:,}",
            },
        )
    if extent.rows > limits.MAX_SHEET_ROWS:
        raise _refuse(
            path,
            TOO_LONG_SHEET,
            {**values, "rows": f"{extent.rows:,}", "limit": f"{limits.MAX_SHEET_ROWS:,}"},
        )
    return SheetScan(shown, part.filename, extent)
