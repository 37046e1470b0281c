"""A worksheet read row by row from its XML, in bounded memory, for sheets too large to hold.

calamine (the fast reader) holds a whole sheet, about 70 bytes a cell; past
:data:`~patron.ingest.reading.limits.MAX_SHEET_CELLS` the sheet is read here instead: the
part is decompressed a few MB at a time and parsed with expat, one row held at a time.
Cells become the same Python values calamine gives (str, int-valued float, float, bool,
date, datetime), so :func:`patron.ingest.reading.excel._cell_text` writes them alike.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.parsers import expat

from patron.ingest.errors import IngestError, IngestErrorCode
from patron.ingest.i18n import gettext, gettext_noop
from patron.ingest.reading import limits
from patron.ingest.reading.xlsx_guard import column_number, unreadable_workbook

_CHUNK = 1 << 20
_REF = re.compile(r"([A-Z]{1,4})([0-9]+)")
# Built-in number formats that show a date or a time (ECMA-376 18.8.30).
_DATE_FORMAT_IDS = frozenset({*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)})
_QUOTED = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.')
_EPOCH_1900 = datetime(1899, 12, 30)
_EPOCH_1904 = datetime(1904, 1, 1)

SHARED_STRINGS_TOO_LARGE = gettext_noop(
    "%(file)s holds %(size)s MB of shared text (at most %(limit)s MB for a workbook this "
    "large): save the sheet as CSV."
)


def _local(name: str) -> str:
    return name.rsplit(":", 1)[-1]


def _is_date_format(code: str) -> bool:
    plain = _QUOTED.sub("", code).lower()
    return any(ch in plain for ch in "dmyhs") and "general" not in plain


def _parse(stream: Any, start: Any, end: Any, text: Any) -> None:
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    while chunk := stream.read(_CHUNK):
        parser.Parse(chunk, False)
    parser.Parse(b"", True)


def _shared_strings(archive: zipfile.ZipFile, path: Path) -> list[str]:
    names = {info.filename: info for info in archive.infolist()}
    info = names.get("xl/sharedStrings.xml")
    if info is None:
        return []
    if info.file_size > limits.MAX_SHARED_STRINGS_BYTES:
        raise IngestError(
            gettext(SHARED_STRINGS_TOO_LARGE)
            % {
                "file": path.name,
                "size": info.file_size >> 20,
                "limit": limits.MAX_SHARED_STRINGS_BYTES >> 20,
            },
            code=IngestErrorCode.TOO_LARGE,
            extra={"path": str(path)},
        )
    strings: list[str] = []
    parts: list[str] = []
    state = {"item": False, "text": False, "phonetic": False}

    def start(name: str, attrs: dict[str, str]) -> None:
        tag = _local(name)
        if tag == "si":
            state["item"] = True
            parts.clear()
        elif tag == "rPh":
            state["phonetic"] = True
        elif tag == "t" and not state["phonetic"]:
            state["text"] = True

    def end(name: str) -> None:
        tag = _local(name)
        if tag == "si":
            strings.append("".join(parts))
            state["item"] = False
        elif tag == "rPh":
            state["phonetic"] = False
        elif tag == "t":
            state["text"] = False

    def text(data: str) -> None:
        if state["text"]:
            parts.append(data)

    with archive.open(info) as stream:
        _parse(stream, start, end, text)
    return strings


def _date_styles(archive: zipfile.ZipFile) -> set[int]:
    """Indexes of the cell formats (``s=``) that show dates or times."""
    try:
        data = archive.read("xl/styles.xml")
    except KeyError:
        return set()
    custom: dict[int, str] = {}
    xfs: list[int] = []
    state = {"xfs": False}

    def start(name: str, attrs: dict[str, str]) -> None:
        tag = _local(name)
        if tag == "numFmt":
            custom[int(attrs.get("numFmtId", "0"))] = attrs.get("formatCode", "")
        elif tag == "cellXfs":
            state["xfs"] = True
        elif tag == "xf" and state["xfs"]:
            xfs.append(int(attrs.get("numFmtId", "0")))

    def end(name: str) -> None:
        if _local(name) == "cellXfs":
            state["xfs"] = False

    parser = expat.ParserCreate()
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.Parse(data, True)
    return {
        i
        for i, fmt in enumerate(xfs)
        if fmt in _DATE_FORMAT_IDS or (fmt in custom and _is_date_format(custom[fmt]))
    }


def _date1904(archive: zipfile.ZipFile) -> bool:
    try:
        head = archive.read("xl/workbook.xml")
    except KeyError:
        return False
    match = re.search(rb'date1904="([^"]*)"', head)
    return match is not None and match.group(1).lower() in (b"1", b"true")


def _serial_date(value: float, epoch: datetime) -> date | datetime:
    moment = epoch + timedelta(days=value)
    moment = moment.replace(microsecond=round(moment.microsecond / 1000) * 1000 % 1_000_000)
    if moment.hour == moment.minute == moment.second == moment.microsecond == 0:
        return moment.date()
    return moment


def stream_rows(path: Path, part: str) -> Iterator[tuple[int, list[Any]]]:
    """``(sheet row number, cells)`` of the worksheet ``part``, one row at a time, from row 1
    to the last row with a cell (blank rows as empty lists)."""
    archive = zipfile.ZipFile(path)
    try:
        strings = _shared_strings(archive, path)
        dates = _date_styles(archive)
        epoch = _EPOCH_1904 if _date1904(archive) else _EPOCH_1900
        rows: list[tuple[int, list[Any]]] = []
        row: dict[int, Any] = {}
        state: dict[str, Any] = {
            "row": 0,
            "col": 0,
            "type": "",
            "style": -1,
            "in": "",
            "text": [],
            "last": 0,
        }

        def start(name: str, attrs: dict[str, str]) -> None:
            tag = _local(name)
            if tag == "c":
                ref = attrs.get("r")
                match = _REF.fullmatch(ref) if ref else None
                state["col"] = column_number(match.group(1)) if match else state["col"] + 1
                state["type"] = attrs.get("t", "n")
                state["style"] = int(attrs.get("s", "-1"))
                state["text"] = []
            elif tag == "row":
                number = attrs.get("r")
                state["row"] = int(number) if number else state["row"] + 1
                state["col"] = 0
                row.clear()
            elif tag in ("v", "t"):
                state["in"] = tag
            elif tag == "rPh":
                state["in"] = "skip"

        def end(name: str) -> None:
            tag = _local(name)
            if tag == "c":
                row[state["col"]] = _value("".join(state["text"]), state["type"], state["style"])
            elif tag == "row":
                if row:
                    # Blank rows in between are yielded empty, as calamine does: counted.
                    rows.extend((n, []) for n in range(state["last"] + 1, state["row"]))
                    width = max(row)
                    rows.append((state["row"], [row.get(i) for i in range(1, width + 1)]))
                    state["last"] = state["row"]
            elif tag in ("v", "t", "rPh"):
                state["in"] = ""

        def text(data: str) -> None:
            if state["in"] in ("v", "t"):
                state["text"].append(data)

        def _value(raw: str, kind: str, style: int) -> Any:
            if kind == "s":
                try:
                    return strings[int(raw)]
                except (ValueError, IndexError):
                    return ""
            if kind in ("inlineStr", "str", "e"):
                return raw
            if kind == "b":
                return raw.strip() in ("1", "true")
            if kind == "d":
                return raw
            if raw == "":
                return None
            try:
                value = float(raw)
            except ValueError:
                return raw
            if style in dates:
                try:
                    return _serial_date(value, epoch)
                except (OverflowError, ValueError):
                    return value
            return value

        parser = expat.ParserCreate()
        parser.buffer_text = True
        parser.StartElementHandler = start
        parser.EndElementHandler = end
        parser.CharacterDataHandler = text
        with archive.open(part) as stream:
            while chunk := stream.read(_CHUNK):
                parser.Parse(chunk, False)
                if rows:
                    yield from rows
                    rows.clear()
            parser.Parse(b"", True)
            yield from rows
    except expat.ExpatError as exc:
        raise unreadable_workbook(path, exc) from None
    finally:
        archive.close()
