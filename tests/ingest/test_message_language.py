"""The importer speaks the active language: row errors, the rejects file's reasons and the
file-level errors are English by default (as the command line and scripts read them) and
Simplified Chinese under ``translation.override("zh-hans")``; the codes never change.

Every expected text is written out here by hand, not taken from Patron's constants."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import translation

from patron.ingest.errors import IngestError
from patron.ingest.importer import ImportOptions, import_file, import_plan
from patron.ingest.mapping import EntityKind

# line 3: not an amount; 4: no customer; 5: a masked customer id; 6: a cell too many;
# 7: no such day (the file's dates are detected as %Y-%m-%d).
BAD_ROWS = (
    "customer_id,date,amount\n"
    "C1,2024-01-05,10.00\n"
    "C2,2024-01-06,abc\n"
    ",2024-01-07,5.00\n"
    "1******6198,2024-01-08,3.00\n"
    "C5,2024-01-09,1,extra\n"
    "C7,2024-02-30,2.00\n"
)
# line -> (column, value, code)
WHERE = {
    3: ("amount", "abc", "row.invalid_value"),
    4: ("customer_id", None, "row.missing_value"),
    5: ("customer_id", "1******6198", "row.masked_id"),
    6: ("", None, "row.shape"),
    7: ("date", "2024-02-30", "row.invalid_value"),
}
MESSAGES = {
    "en": {
        3: "expected an amount such as 123.45 (¥, 元 and thousands separators are fine)",
        4: "a value is required here",
        5: "a masked id hides who this is; Patron never matches or merges customers on masked "
        "values: export the file with full ids, or name another column with "
        "--map customer_id=COLUMN",
        6: "line 6 has 4 cells but the header has 3 names",
        7: "no such day in the calendar: check the day of the month",
    },
    "zh-hans": {
        3: "应为金额，例如 123.45（可以带 ¥、元 和千位分隔符）",
        4: "此处必须填写",
        5: "打码的 ID 看不出是谁；Patron 从不按打码的值匹配或合并客户：请导出带完整 ID 的文件，"
        "或用 --map customer_id=COLUMN 指定另一列",
        6: "第 6 行有 4 个单元格，但表头只有 3 个列名",
        7: "日历中没有这一天：请检查日期中的“日”",
    },
}

JD_WITHOUT_BUYER = (
    "订单号,商品ID,商品名称,订购数量,支付方式,下单时间,京东价,订单金额,应付金额,订单状态\n"
    "8001,100,茶叶,2,在线支付,2024-06-01 10:00:00,50.00,100.00,100.00,完成\n"
)


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_row_errors_and_rejects_are_in_the_active_language(tmp_path: Path, language: str) -> None:
    # given a file with five kinds of bad row
    path = tmp_path / "orders.csv"
    path.write_text(BAD_ROWS, encoding="utf-8")
    rejects = tmp_path / "rejects.csv"

    # when it is checked in that language
    with translation.override(language):
        report = import_file(
            path,
            kind=EntityKind.TRANSACTIONS,
            options=ImportOptions(dry_run=True, skip_bad=True, rejects=rejects),
        )

    # then each row error names its line and column and says what was expected, in it
    expected = MESSAGES[language]
    found = {e.line: (e.column, e.value, str(e.code), e.message) for e in report.errors}
    assert found == {line: (*WHERE[line], expected[line]) for line in WHERE}
    assert (report.read, report.rejected) == (5, 5)  # line 6 is not read as a row
    # and so does the reason column of the rejects file, one row per bad line
    with rejects.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    header = {"en": ["line", "column", "reason"], "zh-hans": ["行号", "列", "原因"]}
    assert rows[0][:3] == header[language]  # its header too (issue #16)
    assert {int(row[0]): row[2] for row in rows[1:]} == expected


@pytest.mark.django_db
def test_a_file_read_in_a_forked_reader_process_keeps_the_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a file read by the reader process (as files over 8 MiB are)
    import patron.ingest.pipeline

    monkeypatch.setattr(patron.ingest.pipeline, "SUBPROCESS_MIN_BYTES", 0)
    monkeypatch.delenv("PATRON_IMPORT_IN_PROCESS", raising=False)
    path = tmp_path / "orders.csv"
    path.write_text(BAD_ROWS, encoding="utf-8")
    with translation.override("zh-hans"):
        report = import_file(
            path, kind=EntityKind.TRANSACTIONS, options=ImportOptions(dry_run=True, skip_bad=True)
        )
    # then the rows it rejected are named in Chinese all the same
    assert {e.line: e.message for e in report.errors} == MESSAGES["zh-hans"]


def test_with_no_language_active_it_is_english() -> None:
    # nothing activated (the command line): Django's LANGUAGE_CODE, which is English
    from django.conf import settings

    assert settings.LANGUAGE_CODE == "en" and translation.get_language() == "en"
    with pytest.raises(IngestError) as raised:
        import_plan(
            Path("/nonexistent/orders.csv"), kind=EntityKind.TRANSACTIONS, options=ImportOptions()
        )
    assert raised.value.message == "No file at /nonexistent/orders.csv."


@pytest.mark.parametrize(
    ("language", "empty", "encoding"),
    [
        (
            "en",
            "empty.csv has no header row (the file is empty or blank).",
            "Unknown encoding 'latin-9x'; try utf-8, utf-8-sig, gbk or gb18030.",
        ),
        (
            "zh-hans",
            "empty.csv 没有表头行（文件是空的或全是空行）。",
            "未知编码 'latin-9x'；请试试 utf-8、utf-8-sig、gbk 或 gb18030。",
        ),
    ],
)
def test_file_errors_are_in_the_active_language(
    tmp_path: Path, language: str, empty: str, encoding: str
) -> None:
    (tmp_path / "empty.csv").write_text("\n\n", encoding="utf-8")
    (tmp_path / "orders.csv").write_text("customer_id,date,amount\n", encoding="utf-8")
    kind = EntityKind.TRANSACTIONS
    with translation.override(language):
        with pytest.raises(IngestError) as no_header:
            import_plan(tmp_path / "empty.csv", kind=kind, options=ImportOptions())
        with pytest.raises(IngestError) as bad_encoding:
            import_plan(
                tmp_path / "orders.csv", kind=kind, options=ImportOptions(encoding="latin-9x")
            )
    assert (no_header.value.message, str(no_header.value.code)) == (empty, "ingest.empty_file")
    assert (bad_encoding.value.message, str(bad_encoding.value.code)) == (
        encoding,
        "ingest.unknown_encoding",
    )


def test_the_closest_export_and_the_map_to_use_in_chinese(tmp_path: Path) -> None:
    # given a JD export whose buyer column (下单帐号) was deleted
    path = tmp_path / "jd.csv"
    path.write_text(JD_WITHOUT_BUYER, encoding="utf-8")
    with translation.override("zh-hans"), pytest.raises(IngestError) as raised:
        import_plan(path, kind=EntityKind.TRANSACTIONS, options=ImportOptions())
    # then one Chinese message: the export by its Chinese name, its column, the --map to use
    message = raised.value.message
    assert message.startswith("这个 transactions 文件中没有必填字段 customer_id 对应的列。")
    assert "找到的列：订单号, 商品ID," in message
    assert "文件看起来是京东 POP 商家订单导出，但缺少这一列。" in message
    assert "customer_id 对应的列是 下单帐号 或 下单账号" in message
    assert message.endswith("如果您的文件用了别的列名：--map customer_id=<您的列名>。")
    assert str(raised.value.code) == "ingest.missing_column"
    assert raised.value.extra["closest"] == "jd_orders"


def test_without_django_the_readers_and_validation_speak_english(tmp_path: Path) -> None:
    # given the file-only path (patron analyze --source), which never sets Django up
    path = tmp_path / "orders.csv"
    path.write_text(BAD_ROWS, encoding="utf-8")
    code = f"""
import sys
from patron.ingest.mapping import EntityKind, resolve_columns
from patron.ingest.reading import open_table
from patron.ingest.validation import DateFormatHolder, validate_batch
reader = open_table({str(path)!r})
mapping = resolve_columns(reader.info.header, EntityKind.TRANSACTIONS)
dates = DateFormatHolder(None)
for batch in reader.batches():
    for error in validate_batch(batch, mapping, tz="UTC", date_format=dates).errors:
        print(error.line, error.message)
for problem in reader.problems:
    print(problem.line, problem.message)
assert not any(name == "django" or name.startswith("django.") for name in sys.modules)
"""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    # then the messages are the English ones, and Django was never imported
    assert done.returncode == 0, done.stderr
    printed = dict(line.split(" ", 1) for line in done.stdout.splitlines())
    assert printed == {str(line): message for line, message in MESSAGES["en"].items()}
