"""Imports of survey answers and tickets: Chinese headers, CSV and Excel, every bad row named
by line and column, all or nothing unless skip_bad."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation
from typer.testing import CliRunner

from patron.cli import app
from patron.retention.models import ChurnWarning
from patron.service.errors import ServiceError
from patron.service.imports import responses_import, tickets_import
from patron.service.models import SurveyResponse, Ticket

pytestmark = pytest.mark.django_db

ANSWERS = """\ufeff序号,客户编号,答题时间,推荐意愿,满意度,物流,价格,意见
1,C1,2024-06-01 10:00,9,5,5,4,质量很好
2,C2,2024-06-02 11:00,11,4,3,3,还行
3,C3,2024-06-03 12:00,−1,4,3,3,
4,C1,2024-06-04 09:30,十,2,2,1,物流太慢
5,,2024-06-05 09:00,8,4,4,4,
6,C404,2024-06-05 10:00,8,4,4,4,
7,C1,2024-06-01 10:00,7,3,4,4,重复的
8,C2,2024-06-06 10:00,3,,2,x,太贵了
9,C3,2024-06-07 10:00,,6,4,4,
"""


@pytest.fixture
def customers(make_customer: Any) -> None:
    for external_id in ("C1", "C2", "C3"):
        make_customer(external_id)


def _errors(error: pytest.ExceptionInfo[ServiceError]) -> list[tuple[int, str]]:
    return [(e["line"], e["column"]) for e in error.value.extra["errors"]]


def test_bad_answers_are_named_by_line_and_column_and_nothing_is_imported(
    customers: None, tmp_path: Path
) -> None:
    path = tmp_path / "问卷星导出.csv"
    path.write_text(ANSWERS, encoding="utf-8")
    with pytest.raises(ServiceError) as error:
        responses_import(path=path)
    assert _errors(error) == [
        (3, "推荐意愿"),  # 11
        (4, "推荐意愿"),  # −1
        (5, "推荐意愿"),  # 十
        (6, "客户编号"),  # no customer
        (7, "客户编号"),  # unknown customer
        (8, "答题时间"),  # the same customer and time as line 2
        (9, "价格"),  # x in a rating column
        (10, "满意度"),  # 6
    ]
    messages = {e["line"]: e["message"] for e in error.value.extra["errors"]}
    assert messages[3] == "expected a whole number from 0 to 10"
    assert messages[8] == "the same customer answered at the same time on line 2"
    assert not SurveyResponse.objects.exists()
    # in Chinese for a Chinese reader
    with translation.override("zh-hans"), pytest.raises(ServiceError) as error:
        responses_import(path=path)
    assert error.value.extra["errors"][0]["message"] == "应为 0 到 10 的整数"
    assert "未导入任何数据" in error.value.message


def test_skip_bad_imports_the_good_rows_with_their_driver_ratings(
    customers: None, tmp_path: Path
) -> None:
    path = tmp_path / "answers.csv"
    path.write_text(ANSWERS, encoding="utf-8")
    report = responses_import(path=path, skip_bad=True)
    assert (report.rows, report.imported, report.rejected) == (9, 1, 8)
    assert report.drivers == ("物流", "价格")  # 序号 is a row number, not a rating
    answer = SurveyResponse.objects.get()
    assert (answer.nps, answer.csat, answer.drivers, answer.comment) == (
        9,
        5,
        {"物流": 5.0, "价格": 4.0},
        "质量很好",
    )
    # importing the same file again adds nothing: the answer is there already
    assert responses_import(path=path, skip_bad=True).imported == 0


def test_english_headers_and_an_excel_export(customers: None, tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["customer_id", "answered_at", "nps", "delivery", "comment"])
    sheet.append(["C1", "2024-06-01 10:00", 10, 5, "great"])
    sheet.append(["C2", "2024-06-01 11:00", 2, 1, "late again"])
    path = tmp_path / "surveymonkey.xlsx"
    book.save(path)
    assert responses_import(path=path).imported == 2
    assert sorted(SurveyResponse.objects.values_list("nps", flat=True)) == [2, 10]


TICKETS = [
    [
        "工单号",
        "客户编号",
        "类型",
        "分类",
        "渠道",
        "标题",
        "内容",
        "创建时间",
        "状态",
        "解决时间",
        "处理结果",
    ],
    [
        "T1",
        "C1",
        "投诉",
        "物流配送",
        "电话",
        "快递丢件",
        "一周没到",
        "2024-06-03 10:00",
        "已解决",
        "2024-06-04 15:00",
        "补发",
    ],
    ["T2", "C2", "投诉", "商品质量", "微信", "屏幕坏了", "", "2024-06-05 10:00", "处理中", "", ""],
    ["T3", "C3", "咨询", "火星", "网站", "营业时间", "", "2024-06-05 11:00", "", "", ""],
    ["T4", "C404", "表扬", "other", "门店", "店员很好", "", "2024-06-05 12:00", "", "", ""],
    ["T1", "C3", "抱怨", "other", "传真", "", "", "昨天", "", "", ""],
]


def _tickets_file(tmp_path: Path) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    for row in TICKETS:
        book.active.append(row)
    path = tmp_path / "helpdesk.xlsx"
    book.save(path)
    return path


def test_ticket_import_all_or_nothing_then_skip_bad(customers: None, tmp_path: Path) -> None:
    path = _tickets_file(tmp_path)
    with pytest.raises(ServiceError) as error:
        tickets_import(path=path)
    assert _errors(error) == [
        (4, "分类"),  # 火星: no such category
        (5, "客户编号"),
        (6, "创建时间"),
        (6, "工单号"),
        (6, "标题"),
        (6, "渠道"),
        (6, "类型"),
    ]
    assert "the same" not in error.value.extra["errors"][3]["message"]
    assert "line 2" in error.value.extra["errors"][3]["message"]
    assert not Ticket.objects.exists() and not ChurnWarning.objects.exists()
    report = tickets_import(path=path, skip_bad=True, source="udesk")
    assert report.imported == 2
    done, still_open = Ticket.objects.order_by("external_id")
    assert (done.status, done.resolution, done.category.code) == ("resolved", "补发", "delivery")
    assert done.resolved_at is not None and done.source == "udesk"
    assert still_open.status == "open" and still_open.kind == "complaint"
    # only the complaint still open raises a churn warning
    assert list(ChurnWarning.objects.values_list("customer__external_id", flat=True)) == ["C2"]


def test_surveys_import_on_the_command_line(customers: None, tmp_path: Path) -> None:
    path = tmp_path / "answers.csv"
    path.write_text(ANSWERS, encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(app, ["surveys", "import", str(path)])
    assert result.exit_code == 1
    assert "line 3, 推荐意愿: expected a whole number from 0 to 10 ('11')" in result.output
    assert "line 5, 推荐意愿: expected a whole number from 0 to 10 ('十')" in result.output
    result = runner.invoke(app, ["surveys", "import", str(path), "--skip-bad", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["imported"] == 1
