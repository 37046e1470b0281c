"""Tests for patron.ingest.reading: formats, encodings, delimiters, header search, line numbers."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patron.ingest import reading
from patron.ingest.errors import IngestError, IngestErrorCode
from patron.ingest.reading import RowProblem, SkippedLine, SourceFormat, TableReader, open_table

Rows = list[list[str | None]]


def read_all(reader: TableReader) -> tuple[list[int], dict[str, list[str | None]]]:
    """All batches of a reader joined: the line numbers and the cells per column."""
    lines: list[int] = []
    columns: dict[str, list[str | None]] = {k: [] for k in reader.info.column_names}
    for batch in reader.batches():
        assert list(batch.columns) == list(reader.info.column_names)
        assert all(a.type == pa.string() for a in batch.columns.values())
        assert batch.lines.dtype.kind == "i"
        lines.extend(int(n) for n in batch.lines)
        for key, values in batch.columns.items():
            assert len(values) == len(batch.lines)
            columns[key].extend(values.to_pylist())
    assert reader.rows_read == len(lines)
    return lines, columns


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# --------------------------------------------------------------------------- encodings


@pytest.mark.parametrize(
    ("encoding", "detected"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),
        ("gbk", "gb18030"),
        ("gb18030", "gb18030"),
        ("utf-16", "utf-16"),
    ],
)
def test_encoding_is_detected(tmp_path: Path, encoding: str, detected: str) -> None:
    # given a Chinese export in each encoding
    text = "客户编号,交易日期,金额\r\nC001,2024-01-31,￥1,234.50\r\nC002,2024年2月1日,３.５\r\n"
    text = text.replace("￥1,234.50", '"￥1,234.50"')
    path = write(tmp_path / "orders.csv", text, encoding)

    # when
    reader = open_table(path)
    lines, columns = read_all(reader)

    # then
    assert reader.info.encoding == detected
    assert reader.info.header == ("客户编号", "交易日期", "金额")
    assert lines == [2, 3]
    assert columns == {
        "客户编号": ["C001", "C002"],
        "交易日期": ["2024-01-31", "2024年2月1日"],
        "金额": ["￥1,234.50", "３.５"],
    }


def test_gb18030_only_characters(tmp_path: Path) -> None:
    # given a name GBK cannot encode (𠮷, outside the BMP)
    with pytest.raises(UnicodeEncodeError):
        "𠮷".encode("gbk")
    path = write(tmp_path / "c.csv", "姓名,电话\n𠮷野家,13812345678\n", "gb18030")

    # when / then
    reader = open_table(path)
    assert reader.info.encoding == "gb18030"
    assert read_all(reader)[1]["姓名"] == ["𠮷野家"]


def test_explicit_gbk_encoding(tmp_path: Path) -> None:
    path = write(tmp_path / "tb.csv", '订单编号,买家会员名\n="1930679858170647",张三\n', "gbk")
    reader = open_table(path, encoding="gbk")
    assert reader.info.encoding == "gbk"
    assert read_all(reader)[1] == {"订单编号": ['="1930679858170647"'], "买家会员名": ["张三"]}


def test_utf8_character_cut_at_the_end_of_the_sample_is_still_utf8(tmp_path: Path) -> None:
    # given a UTF-8 file whose 1 MiB detection sample ends inside a 3-byte character
    size = reading._ENCODING_SAMPLE
    head = "name\n" + "a" * (size - 7) + "\n"
    data = (head + "中文\n").encode("utf-8")
    assert len(head.encode()) == size - 1  # '中' starts one byte before the sample end
    (tmp_path / "big.csv").write_bytes(data)

    # when / then
    assert reading.detect_encoding(tmp_path / "big.csv") == "utf-8"


def test_wrong_explicit_encoding_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "姓名\n张三\n", "gbk")
    with pytest.raises(IngestError) as info:
        read_all(open_table(path, encoding="utf-8"))
    assert info.value.code is IngestErrorCode.DECODE_ERROR
    assert "--encoding" in info.value.message


def test_unknown_encoding(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "a\n1\n")
    with pytest.raises(IngestError) as info:
        open_table(path, encoding="klingon")
    assert info.value.code is IngestErrorCode.UNKNOWN_ENCODING


# --------------------------------------------------------------------------- delimiters


@pytest.mark.parametrize(
    ("delimiter", "fmt"),
    [
        (",", SourceFormat.CSV),
        ("\t", SourceFormat.TSV),
        (";", SourceFormat.CSV),
        ("|", SourceFormat.CSV),
    ],
)
def test_delimiter_is_sniffed(tmp_path: Path, delimiter: str, fmt: SourceFormat) -> None:
    # given cells that contain the other candidate delimiters and spaces
    rows = [["id", "name", "amount"], ["1", "Li, Lei; x|y", "1,234.50"], ["2", "Wang Fang", "7"]]
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows(rows)
    path = write(tmp_path / "data.txt", buffer.getvalue())

    # when
    reader = open_table(path)

    # then
    assert (reader.info.delimiter, reader.info.format) == (delimiter, fmt)
    assert read_all(reader)[1] == {
        "id": ["1", "2"],
        "name": ["Li, Lei; x|y", "Wang Fang"],
        "amount": ["1,234.50", "7"],
    }


def test_whitespace_cdnow_with_leading_space(tmp_path: Path) -> None:
    text = (
        " customer_id  date number_of_cds  dollar_value\n"
        " 00001 19970101  1   11.77\n"
        " 00002 19970112  2   89.00\n"
        "\n"
        " 00003 19970102  2   20.76\n"
    )
    reader = open_table(write(tmp_path / "CDNOW_master.txt", text))
    assert reader.info.format is SourceFormat.WHITESPACE
    assert reader.info.delimiter is None
    lines, columns = read_all(reader)
    assert lines == [2, 3, 5]
    assert columns == {
        "customer_id": ["00001", "00002", "00003"],
        "date": ["19970101", "19970112", "19970102"],
        "number_of_cds": ["1", "2", "2"],
        "dollar_value": ["11.77", "89.00", "20.76"],
    }
    assert reader.skipped == [SkippedLine(4, "blank")]


def test_headerless_file_with_names(tmp_path: Path) -> None:
    path = write(
        tmp_path / "CDNOW_master.txt", " 00001 19970101  1   11.77\n 00001 19970112  1   12.00\n"
    )
    reader = open_table(path, names=["customer_id", "date", "number_of_cds", "dollar_value"])
    assert reader.info.header_line == 0
    lines, columns = read_all(reader)
    assert lines == [1, 2]
    assert columns["date"] == ["19970101", "19970112"]
    assert reader.skipped == []


@pytest.mark.parametrize("given", [";", "semicolon"])
def test_delimiter_override(tmp_path: Path, given: str) -> None:
    path = write(tmp_path / "d.csv", "a;b,c\n1;2,3\n")
    reader = open_table(path, delimiter=given)
    assert reader.info.delimiter == ";"
    assert read_all(reader)[1] == {"a": ["1"], "b,c": ["2,3"]}


def test_delimiter_override_tab_alias(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", "a\tb\n1,5\t2\n")
    reader = open_table(path, delimiter="\\t")
    assert reader.info.format is SourceFormat.TSV
    assert read_all(reader)[1] == {"a": ["1,5"], "b": ["2"]}


# --------------------------------------------------------------------------- line numbers


def test_quoted_line_breaks_keep_exact_line_numbers(tmp_path: Path) -> None:
    text = (
        "id,address,note\r\n"  # 1
        '1,"吉林省 通化市\r\n柳河县",a\r\n'  # 2-3
        '2,"line one\nline two\nline three",b\r\n'  # 4-6
        '3,"old mac\rbreak",c\r\n'  # 7-8
        "4,plain,d\r\n"  # 9
    )
    reader = open_table(write(tmp_path / "q.csv", text))
    lines, columns = read_all(reader)
    assert lines == [2, 4, 7, 9]
    assert columns["address"] == [
        "吉林省 通化市\r\n柳河县",
        "line one\nline two\nline three",
        "old mac\rbreak",
        "plain",
    ]


def test_preamble_and_blank_lines(tmp_path: Path) -> None:
    # given a WeChat-Pay-like bill: preamble lines (some with commas), then the header
    text = (
        "微信支付账单明细\n"  # 1
        "微信昵称：[某某]\n"  # 2
        "起始时间：[2019-09-01 00:00:00],终止时间：[2019-09-30 23:59:59]\n"  # 3
        "\n"  # 4
        "----------------------微信支付账单明细列表--------------------\n"  # 5
        "交易时间,交易类型,金额(元)\n"  # 6
        "2019-09-16 10:00:00,商户消费,¥28.16\n"  # 7
        "\n"  # 8
        ",,\n"  # 9
        "2019-09-17 11:00:00,商户消费,￥0.12\n"  # 10
    )
    reader = open_table(write(tmp_path / "wx.csv", text), known_columns=["交易时间", "金额"])
    lines, columns = read_all(reader)
    assert reader.info.header_line == 6
    assert reader.info.header == ("交易时间", "交易类型", "金额(元)")
    assert lines == [7, 10]
    assert columns["金额(元)"] == ["¥28.16", "￥0.12"]
    assert reader.skipped == [
        *(SkippedLine(n, "preamble") for n in range(1, 6)),
        SkippedLine(8, "blank"),
        SkippedLine(9, "blank"),
    ]
    # a second pass starts afresh
    read_all(reader)
    assert len(reader.skipped) == 7


def test_known_columns_match_folded_header_names(tmp_path: Path) -> None:
    # given a header with full-width units, trailing spaces and wrappers
    text = '#支付宝业务明细查询\n#账号：[2088]\n"商户订单号 ",商家实收（元）\nA1,1.00\n'
    reader = open_table(write(tmp_path / "am.csv", text), known_columns=["商家实收"])
    assert reader.info.header_line == 3
    assert reader.info.header == ("商户订单号", "商家实收（元）")


def test_without_a_known_column_the_first_non_blank_row_is_the_header(tmp_path: Path) -> None:
    text = "\n\nx,y\n1,2\n"
    reader = open_table(write(tmp_path / "h.csv", text), known_columns=["客户编号"])
    assert reader.info.header_line == 3
    assert reader.info.header == ("x", "y")
    assert read_all(reader)[0] == [4]


def test_crlf_line_endings(tmp_path: Path) -> None:
    reader = open_table(write(tmp_path / "w.csv", "a,b\r\n1,2\r\n\r\n3,4\r\n"))
    lines, columns = read_all(reader)
    assert lines == [2, 4]
    assert columns == {"a": ["1", "3"], "b": ["2", "4"]}


def test_ragged_rows(tmp_path: Path) -> None:
    text = "a,b,c\n1,2,3\n4,5,6,7\n8\n9,10,11,,\n12,13\n"
    reader = open_table(write(tmp_path / "r.csv", text))
    lines, columns = read_all(reader)
    assert lines == [2, 4, 5, 6]
    assert columns == {
        "a": ["1", "8", "9", "12"],
        "b": ["2", None, "10", "13"],
        "c": ["3", None, "11", None],
    }
    assert reader.problems == [RowProblem(3, "line 3 has 4 cells but the header has 3 names")]


def test_trailing_commas_alipay_style(tmp_path: Path) -> None:
    text = "交易号  ,商家订单号  ,金额（元）,\n2088  ,T1  ,  1.00 ,\n2089  ,T2  ,2.00,\n"
    reader = open_table(write(tmp_path / "ap.csv", text, "gbk"))
    _, columns = read_all(reader)
    assert reader.info.header == ("交易号", "商家订单号", "金额（元）")
    assert reader.problems == []
    assert columns == {
        "交易号": ["2088", "2089"],
        "商家订单号": ["T1", "T2"],
        "金额（元）": ["1.00", "2.00"],
    }


def test_cells_are_stripped_and_empty_cells_are_null(tmp_path: Path) -> None:
    text = "id,phone\n 7\t,\t\n\u3000８ ,'186\n"
    _, columns = read_all(open_table(write(tmp_path / "s.csv", text)))
    assert columns == {"id": ["7", "８"], "phone": [None, "'186"]}


def test_duplicate_and_empty_header_names(tmp_path: Path) -> None:
    reader = open_table(write(tmp_path / "d.csv", "金额,金额,,金额 (2)\n1,2,3,4\n"))
    assert reader.info.header == ("金额", "金额", "", "金额 (2)")
    assert reader.info.column_names == ("金额", "金额 (2)", "column 3", "金额 (2) (2)")
    assert read_all(reader)[1] == {
        "金额": ["1"],
        "金额 (2)": ["2"],
        "column 3": ["3"],
        "金额 (2) (2)": ["4"],
    }


def test_batch_rows_give_the_same_data_as_one_batch(tmp_path: Path) -> None:
    body = "".join(f'{i},"v{i}\nx"\n' if i % 4 == 0 else f"{i},v{i}\n" for i in range(20))
    path = write(tmp_path / "b.csv", "n,v\n" + body.replace("7,v7\n", "\n7,v7\n"))
    whole = read_all(open_table(path, batch_rows=1_000))
    small = open_table(path, batch_rows=3)
    assert read_all(small) == whole
    assert all(len(b) <= 3 for b in small.batches())
    assert whole[0][:6] == [2, 4, 5, 6, 7, 9]


# --------------------------------------------------------------------------- errors


def test_missing_empty_and_unsupported_files(tmp_path: Path) -> None:
    with pytest.raises(IngestError) as missing:
        open_table(tmp_path / "nope.csv")
    assert missing.value.code is IngestErrorCode.FILE_NOT_FOUND

    with pytest.raises(IngestError) as empty:
        open_table(write(tmp_path / "empty.csv", "\n \n"))
    assert empty.value.code is IngestErrorCode.EMPTY_FILE

    with pytest.raises(IngestError) as unsupported:
        open_table(write(tmp_path / "x.json", "{}"))
    assert unsupported.value.code is IngestErrorCode.UNSUPPORTED_FORMAT


# --------------------------------------------------------------------------- Excel


def _workbook(path: Path) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "说明"
    sheet["A1"] = "nothing here"
    orders = book.create_sheet("订单")
    orders["A1"] = "#导出时间：2024-02-01"
    orders.append([])
    orders.append(["订单编号", "下单时间", "实付金额(元)", "数量", "会员", "生日", "备注"])
    orders.append(
        ["00123", dt.datetime(2024, 1, 31, 9, 5, 7), 178.8, 2, True, dt.date(1990, 1, 1), "  a "]
    )
    orders.append([123456789012, dt.datetime(2024, 2, 1), 4.00123e27, 1.0, False, None, None])
    orders.append([])
    orders.append(["X9", "2024-02-02 10:00:00", "¥1,234.50", 3, None, None, "", "extra"])
    orders.append(["X10", None, 0.1, 1])
    book.save(path)
    return path


def test_xlsx_typed_cells_become_canonical_text(tmp_path: Path) -> None:
    # given a workbook whose data sheet is the second one, with a preamble
    path = _workbook(tmp_path / "orders.xlsx")

    # when
    reader = open_table(path, sheet="订单", known_columns=["订单编号"])
    lines, columns = read_all(reader)

    # then
    assert (reader.info.format, reader.info.sheet, reader.info.header_line) == (
        SourceFormat.XLSX,
        "订单",
        3,
    )
    assert lines == [4, 5, 8]
    assert columns == {
        "订单编号": ["00123", "123456789012", "X10"],
        # calamine returns a midnight datetime as a date
        "下单时间": ["2024-01-31 09:05:07", "2024-02-01", None],
        "实付金额(元)": ["178.8", "4.00123e+27", "0.1"],
        "数量": ["2", "1", "1"],
        "会员": ["true", "false", None],
        "生日": ["1990-01-01", None, None],
        "备注": ["a", None, None],
    }
    assert SkippedLine(6, "blank") in reader.skipped
    assert [s.line for s in reader.skipped if s.reason == "preamble"] == [1, 2]
    assert reader.problems == [RowProblem(7, "line 7 has 8 cells but the header has 7 names")]


def test_xlsx_first_sheet_by_default_and_batches(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "orders.xlsx")
    assert open_table(path).info.sheet == "说明"
    whole = read_all(open_table(path, sheet="订单"))
    assert read_all(open_table(path, sheet="订单", batch_rows=1)) == whole


def test_xlsx_missing_sheet(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "orders.xlsx")
    with pytest.raises(IngestError) as info:
        open_table(path, sheet="Sheet9")
    assert info.value.code is IngestErrorCode.SHEET_NOT_FOUND
    assert info.value.extra["sheets"] == ["说明", "订单"]


# --------------------------------------------------------------------------- Parquet


def test_parquet_typed_columns_become_canonical_text(tmp_path: Path) -> None:
    table = pa.table(
        {
            "customer_id": pa.array([" 00001 ", "", None, "00004"]),
            "qty": pa.array([1, None, -3, 4], pa.int64()),
            "amount": pa.array([1.0, 2.5, float("nan"), 0.1]),
            "day": pa.array([dt.date(2024, 1, 2)] * 4),
            "at": pa.array([dt.datetime(2024, 1, 2, 3, 4, 5), None, None, dt.datetime(2024, 1, 3)]),
            "at_utc": pa.array(
                [dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)] * 4,
                pa.timestamp("ms", "Asia/Shanghai"),
            ),
            "member": pa.array([True, False, None, True]),
            "price": pa.array([Decimal("1.20")] * 4, pa.decimal128(10, 2)),
            "store": pa.array(["A", "B", "A", "B"]).dictionary_encode(),
        }
    )
    path = tmp_path / "orders.parquet"
    pq.write_table(table, path, row_group_size=2)

    reader = open_table(path)
    lines, columns = read_all(reader)

    assert (reader.info.format, reader.info.header_line) == (SourceFormat.PARQUET, 0)
    assert lines == [2, 3, 4, 5]
    assert columns == {
        "customer_id": ["00001", None, None, "00004"],
        "qty": ["1", None, "-3", "4"],
        "amount": ["1", "2.5", None, "0.1"],
        "day": ["2024-01-02"] * 4,
        "at": ["2024-01-02 03:04:05", None, None, "2024-01-03 00:00:00"],
        "at_utc": ["2024-01-02 03:04:05+00:00"] * 4,
        "member": ["true", "false", None, "true"],
        "price": ["1.20"] * 4,
        "store": ["A", "B", "A", "B"],
    }
    assert read_all(open_table(path, batch_rows=3)) == (lines, columns)


def test_parquet_blank_rows_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "p.pq"
    pq.write_table(pa.table({"a": ["x", None, " "], "b": [None, None, ""]}), path)
    reader = open_table(path)
    assert read_all(reader) == ([2], {"a": ["x"], "b": [None]})
    assert reader.skipped == [SkippedLine(3, "blank"), SkippedLine(4, "blank")]


# --------------------------------------------------------------------------- property


_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_cell = st.lists(
    st.sampled_from([*"ab 1.,;|\t\"'\n\r\u3000中文客户¥￥𠮷", "\r\n"]), max_size=8
).map("".join)


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.data(),
    width=st.integers(1, 4),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"]),
    terminator=st.sampled_from(["\n", "\r\n", "\r"]),
    delimiter=st.sampled_from([",", "\t", ";", "|"]),
    batch_rows=st.integers(1, 5),
    sniff=st.booleans(),
)
def test_csv_round_trip(
    tmp_path: Path,
    data: st.DataObject,
    width: int,
    encoding: str,
    terminator: str,
    delimiter: str,
    batch_rows: int,
    sniff: bool,
) -> None:
    # given a table written by csv.writer
    rows = data.draw(st.lists(st.lists(_cell, min_size=width, max_size=width), max_size=12))
    header = [f"hdr_{i}" for i in range(width)]
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=terminator)
    # csv.writer quotes a cell with a line break only if the terminator holds that character;
    # real writers (Excel) always quote it, so do that for such rows.
    quoting = csv.writer(
        buffer, delimiter=delimiter, lineterminator=terminator, quoting=csv.QUOTE_ALL
    )
    writer.writerow(header)
    expected_lines: list[int] = []
    expected: dict[str, list[str | None]] = {h: [] for h in header}
    line = 2
    for row in rows:
        start = buffer.tell()
        breaks = any(c in cell for cell in row for c in "\r\n" if c not in terminator)
        (quoting if breaks else writer).writerow(row)
        record = buffer.getvalue()[start:]
        if any(cell.strip() for cell in row):
            expected_lines.append(line)
            for h, cell in zip(header, row, strict=True):
                expected[h].append(cell.strip() or None)
        line += len(_LINE_BREAK.findall(record))
    path = tmp_path / "round.csv"
    path.write_bytes(buffer.getvalue().encode(encoding))

    # when
    reader = open_table(
        path,
        # GB18030 detection is a heuristic; UTF-8, BOMs and UTF-16 must be found unaided
        encoding="gb18030" if encoding == "gb18030" else None,
        delimiter=None if sniff and width > 1 else delimiter,
        known_columns=header,
        batch_rows=batch_rows,
    )
    lines, columns = read_all(reader)

    # then
    assert reader.info.header == tuple(header)
    assert reader.problems == []
    assert lines == expected_lines
    assert columns == expected
