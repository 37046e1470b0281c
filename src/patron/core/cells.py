"""Cells written to CSV and Excel files: shop text never becomes a formula.

A customer named ``=HYPERLINK("http://x","click")`` or a tag ``+1-2`` is data, but Excel and
LibreOffice run a CSV cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return as a formula (CSV injection, OWASP). Every export goes through :func:`neutralise_cell`:
such text gets a leading ``'`` in CSV (OWASP's advice; spreadsheets hide it), and in a
workbook it is written as a string cell, never a formula, keeping its text as it was.
Numbers, dates and empty cells are left alone: ``-12.50`` as a number is an amount.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: Any) -> Any:
    """``value`` as it may go into a CSV cell: text starting like a formula gets a ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def neutralise_row(values: Iterable[Any]) -> list[Any]:
    """:func:`neutralise_cell` over a row."""
    return [neutralise_cell(v) for v in values]


def xlsx_row(sheet: Any, values: Iterable[Any]) -> list[Any]:
    """A row for openpyxl's ``sheet.append``: text that starts like a formula becomes a cell
    typed as a string (openpyxl would write ``=...`` as a formula), with its text unchanged."""
    from openpyxl.cell import WriteOnlyCell

    row: list[Any] = []
    for value in values:
        if neutralise_cell(value) is not value:
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            row.append(cell)
        else:
            row.append(value)
    return row


def neutralise_arrow(table: Any) -> Any:
    """A ``pyarrow.Table`` with :func:`neutralise_cell` applied to its text columns (in C)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = []
    for column in table.columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            risky = pc.starts_with(column, FORMULA_STARTS[0])
            for start in FORMULA_STARTS[1:]:
                risky = pc.or_(risky, pc.starts_with(column, start))
            column = pc.if_else(risky, pc.binary_join_element_wise("'", column, ""), column)
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def neutralise_frame(frame: Any) -> Any:
    """A copy of a pandas frame with :func:`neutralise_cell` applied to its text cells."""
    out = frame.copy()
    for name in out.columns:
        if out[name].dtype == object or str(out[name].dtype) in ("string", "str"):
            out[name] = out[name].map(neutralise_cell)
    return out


class _Echo:
    """A file whose ``write`` hands the line back, so ``csv.writer`` can stream."""

    def write(self, value: str) -> str:
        return value


def csv_download(*, filename: str, header: Iterable[Any], rows: Iterable[Iterable[Any]]) -> Any:
    """A streamed CSV download: UTF-8 with a BOM (Excel on Chinese Windows reads a BOM-less
    CSV as GBK), every row through :func:`neutralise_row`."""
    import csv

    from django.http import StreamingHttpResponse

    writer = csv.writer(_Echo())

    def lines() -> Any:
        yield ("\ufeff" + writer.writerow(list(header))).encode("utf-8")
        for row in rows:
            yield writer.writerow(neutralise_row(row)).encode("utf-8")

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
