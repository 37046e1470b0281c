"""Workbooks within limits: a sheet too large for calamine is streamed row by row with the
same cells, lines, skipped lines and problems as calamine gives; one past a limit is refused
before anything large is allocated."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from patron.ingest.errors import IngestError, IngestErrorCode
from patron.ingest.reading import limits, open_table
from patron.ingest.reading.xlsx_guard import column_letters, column_number

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))
import hostile


def _read(reader: Any) -> tuple[Any, ...]:
    lines: list[int] = []
    columns: dict[str, list[Any]] = {}
    for batch in reader.batches():
        lines += batch.lines.tolist()
        for name, values in batch.columns.items():
            columns.setdefault(name, []).extend(values.to_pylist())
    return lines, columns, list(reader.skipped), list(reader.problems)


def test_the_streamed_reader_reads_as_calamine(tmp_path: Path, monkeypatch: Any) -> None:
    # given a workbook of typed cells, a preamble, a blank row and a too-wide row
    path = tmp_path / "orders.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "说明"
    sheet = book.create_sheet("订单")
    sheet["A1"] = "#导出时间：2024-02-01"
    sheet.append([])
    sheet.append(["订单编号", "下单时间", "实付金额(元)", "数量", "会员", "生日", "备注"])
    sheet.append(
        ["00123", dt.datetime(2024, 1, 31, 9, 5, 7), 178.8, 2, True, dt.date(1990, 1, 1), " a "]
    )
    sheet.append([123456789012, dt.datetime(2024, 2, 1), 4.00123e27, 1.0, False, None, None])
    sheet.append([])
    sheet.append(["X9", "2024-02-02 10:00:00", "¥1,234.50", 3, None, None, "", "extra"])
    sheet.append(["X10", dt.datetime(2024, 3, 1, 12, 0, 0, 500000), -5, "é", "", "", "x"])
    book.save(path)
    # when it is read by calamine, then streamed (every sheet past the limit)
    calamine = _read(open_table(path, sheet="订单", known_columns=["订单编号"]))
    monkeypatch.setattr(limits, "MAX_SHEET_CELLS", 0)
    streamed = _read(open_table(path, sheet="订单", known_columns=["订单编号"]))
    # then
    assert streamed == calamine
    assert calamine[0] == [4, 5, 8]


def test_a_far_cell_is_refused_before_it_is_allocated(tmp_path: Path) -> None:
    with pytest.raises(IngestError) as refused:
        open_table(hostile.far_cell_xlsx(tmp_path))
    assert refused.value.code is IngestErrorCode.TOO_LARGE
    assert "reaches column XFD (16,384 columns; at most 2,000)" in refused.value.message


def test_a_packed_sheet_is_refused_by_its_ratio(tmp_path: Path) -> None:
    with pytest.raises(IngestError) as refused:
        open_table(hostile.packed_sheet_xlsx(tmp_path))
    assert "times its packed size" in refused.value.message


def test_column_names() -> None:
    for number in (1, 26, 27, 52, 702, 703, 16384):
        assert column_number(column_letters(number)) == number
    assert (column_letters(16384), column_letters(28)) == ("XFD", "AB")
