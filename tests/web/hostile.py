"""Hostile and broken import files, generated: what an attacker or a careless export sends.

Each maker writes one file into a folder and returns its path. Sizes are the smallest that
still show the problem (a compression ratio, a cell past a block, millions of blank lines).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

_FILLER = "x" * 4000  # one long cell a row: the sheet compresses over 100 times
HEADER = "order_id,customer_id,ordered_at,amount\n"
_NS = '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'


def _xlsx(path: Path, sheet: bytes | None = None, *, sheet_chunks: int = 0) -> Path:
    """A minimal workbook of one sheet; ``sheet_chunks`` repeats a row block to inflate it."""
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
            'package/2006/content-types"><Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
            'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType='
            '"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
            "schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
            '" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.'
            'org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships"><sheets><sheet name="Orders" sheetId="1" '
            'r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
            'schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="'
            'worksheets/sheet1.xml"/></Relationships>'
        ),
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as out:
            if sheet is not None:
                out.write(sheet)
            else:
                out.write((_NS + "<sheetData>").encode())
                out.write(_header_row())
                block = b"".join(
                    f'<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="B{r}" t="inlineStr"><is><t>c'
                    f'</t></is></c><c r="C{r}" t="inlineStr"><is><t>2024-01-02</t></is></c>'
                    f'<c r="D{r}"><v>1</v></c><c r="E{r}" t="inlineStr"><is><t>{_FILLER}'
                    "</t></is></c></row>".encode()
                    for r in range(2, 102)
                )
                for _ in range(sheet_chunks):  # the same rows again: compresses ~1000 times
                    out.write(block)
                out.write(b"</sheetData></worksheet>")
    return path


def _header_row() -> bytes:
    cells = "".join(
        f'<c r="{col}1" t="inlineStr"><is><t>{name}</t></is></c>'
        for col, name in zip(
            "ABCD", ("order_id", "customer_id", "ordered_at", "amount"), strict=True
        )
    )
    return f'<row r="1">{cells}</row>'.encode()


def far_cell_xlsx(folder: Path) -> Path:
    """1.6 KB: the sheet declares A1:XFD1048576 and has a cell at XFD1048576 (calamine would
    ask for 549 GB)."""
    sheet = (
        _NS
        + '<dimension ref="A1:XFD1048576"/><sheetData>'
        + _header_row().decode()
        + '<row r="2"><c r="A2"><v>1</v></c><c r="B2" t="inlineStr"><is><t>c1</t></is></c>'
        '<c r="C2" t="inlineStr"><is><t>2024-01-02</t></is></c><c r="D2"><v>5</v></c></row>'
        '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
        "</sheetData></worksheet>"
    ).encode()
    return _xlsx(folder / "far-cell.xlsx", sheet)


def packed_sheet_xlsx(folder: Path) -> Path:
    """Under 1 MB holding a sheet of ~170 MB: refused by its compression ratio."""
    return _xlsx(folder / "packed-sheet.xlsx", sheet_chunks=400)


def blank_lines_csv(folder: Path, megabytes: int = 24) -> Path:
    """One order, then millions of ``,,,`` lines (the reader must count, not keep, them)."""
    path = folder / "blank-lines.csv"
    block = ",,,\n" * 250_000
    with path.open("w") as f:
        f.write(HEADER + "1,c1,2024-01-02,10\n")
        for _ in range(megabytes * 1_000_000 // len(block)):
            f.write(block)
    return path


def zip_bomb(folder: Path) -> Path:
    """~100 KB that unpacks to 96 MB of one CSV: refused by its ratio before unpacking."""
    path = folder / "bomb.zip"
    archive = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9)
    with archive, archive.open("orders.csv", "w", force_zip64=True) as out:
        out.write(HEADER.encode())
        block = b",,,\n" * (1 << 18)
        for _ in range(96):
            out.write(block)
    return path


def climbing_zip(folder: Path) -> Path:
    """An entry named ``../../evil.csv``."""
    path = folder / "climb.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("../../evil.csv", HEADER + "1,c1,2024-01-02,10\n")
    return path


def nested_zip(folder: Path) -> Path:
    """A zip inside the zip."""
    inner = folder / "inner.zip"
    with zipfile.ZipFile(inner, "w") as archive:
        archive.writestr("orders.csv", HEADER + "1,c1,2024-01-02,10\n")
    path = folder / "nested.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(inner, "inner.zip")
    inner.unlink()
    return path


def nul_csv(folder: Path) -> Path:
    path = folder / "nul.csv"
    path.write_bytes(
        (HEADER + "1,c1,2024-01-02,10\n2,c\x002,2024-01-02,11\n3,c3,2024-01-03,5\n").encode()
    )
    return path


def bom_in_cell_csv(folder: Path) -> Path:
    path = folder / "bom-cell.csv"
    path.write_bytes((HEADER + "1,c1,2024-01-02,10\n2,\ufeffc2,2024-01-02,11\n").encode())
    return path


def mixed_encoding_csv(folder: Path) -> Path:
    """UTF-8 and GBK lines in one file ("张三" read as GB18030 would become "寮犱笁")."""
    path = folder / "mixed.csv"
    path.write_bytes(
        HEADER.encode()
        + "1,张三,2024-01-02,10\n".encode()
        + "2,李四,2024-01-02,11\n".encode("gbk")
        + "3,王五,2024-01-03,5\n".encode()
    )
    return path


def huge_cell_csv(folder: Path) -> Path:
    """A 5 MB cell (a quote left open, or not a table at all)."""
    path = folder / "huge-cell.csv"
    path.write_text(HEADER + "1,c1,2024-01-02,10\n2,c2,2024-01-02," + "9" * 5_000_000 + "\n")
    return path


def markup_csv(folder: Path) -> Path:
    """Rich markup in a header and a cell."""
    path = folder / "markup[red].csv"
    path.write_text("order_id,customer_id,ordered_at,amount,[/x]\n1,[/y]c1,2024-01-02,10,[bold]\n")
    return path


def poisoned_dates_csv(folder: Path) -> Path:
    path = folder / "dates.csv"
    path.write_text(
        HEADER + "1,c1,2024-01-02,10\n2,c2,9999-12-31,11\n3,c3,0001-01-01,5\n4,c4,1969-06-30,5\n"
    )
    return path


def conflicting_customers_csv(folder: Path) -> Path:
    """Two rows of order 1 naming different customers."""
    path = folder / "conflict.csv"
    path.write_text(HEADER + "1,c1,2024-01-02,10\n1,c2,2024-01-02,11\n2,c3,2024-01-03,5\n")
    return path
