"""What an import says about a file it cannot take as it is: skipped lines apart from
rejected rows, the closest preset and the --map to use, ids spoiled by Excel, masked ids."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from patron.cli import app
from patron.ingest.formats import load_presets
from patron.sales.models import Order

pytestmark = pytest.mark.django_db


def test_skipped_lines_are_reported_by_reason_apart_from_rejected_rows(tmp_path: Path, cli) -> None:
    # given a preamble (with a blank line), a blank line among the rows and a totals row
    path = tmp_path / "sales.csv"
    path.write_text(
        "销售记录导出\n导出时间：2024-01-05\n\ncustomer_id,date,amount\n"
        "A,2024-01-01,10.00\n\nB,2024-01-02,x\nC,2024-01-03,5.00\n合计,,15.00\n",
        encoding="utf-8",
    )
    code, report = cli("import", "transactions", str(path), "--skip-bad")
    assert code == 0, report
    # then lines 1-3 are preamble, line 6 blank, line 9 the trailer; line 7 is the one error
    assert report["skipped_lines"] == {"preamble": 3, "blank": 1, "trailer": 1}
    assert report["skipped"] == 5
    assert (report["rejected"], [e["line"] for e in report["errors"]]) == (1, [7])
    assert report["inserted"] == 2


def test_an_export_without_its_customer_column_names_the_preset_and_the_map(
    tmp_path: Path,
) -> None:
    # given a JD export whose 下单帐号 column was deleted
    path = tmp_path / "jd.csv"
    path.write_text(
        "订单号,商品ID,商品名称,订购数量,支付方式,下单时间,京东价,订单金额,应付金额,订单状态\n"
        "8001,100,茶叶,2,在线支付,2024-06-01 10:00:00,50.00,100.00,100.00,完成\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["import", "transactions", str(path)])
    # then one message: the columns found, the export it looks like, the --map to use
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert "Columns found: 订单号, 商品ID" in text
    assert "JD (Jingdong) POP order export" in text
    assert "customer_id is 下单帐号 or 下单账号" in text
    assert "--map customer_id=<your column>" in text
    assert not Order.objects.exists()


def test_a_column_the_closest_export_knows_is_named_in_the_map_to_use(tmp_path: Path) -> None:
    # given a file with WooCommerce's order_total, which no generic name covers
    path = tmp_path / "orders.csv"
    path.write_text(
        "order_id,customer_id,order_date,status,order_total\nO1,V1,2024-01-01,completed,9.50\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["import", "transactions", str(path)])
    # then the message gives the exact --map
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert "No column for required field(s) amount" in text
    assert "--map amount=order_total" in text


def test_an_id_excel_turned_into_scientific_notation_is_a_named_error(tmp_path: Path, cli) -> None:
    path = tmp_path / "wechat.csv"
    path.write_text(
        "交易时间,公众账号ID,商户号,微信订单号,商户订单号,用户标识,交易类型,交易状态,应结订单金额,"
        "代金券金额,微信退款单号,退款金额,手续费,费率\n"
        "2024-05-04 02:18:18,wx1,123,4200001,M1,oUser1,JSAPI,SUCCESS,30.00,0,0,0.00,0.18,0.60%\n"
        "2024-05-04 03:00:00,wx1,123,4200002,4.00123E+27,oUser2,JSAPI,SUCCESS,9.00,0,0,0.00,"
        "0.05,0.60%\n",
        encoding="utf-8",
    )
    code, report = cli("import", "transactions", str(path))
    assert code == 1 and not Order.objects.exists()
    (error,) = report["errors"]
    assert (error["line"], error["column"], error["value"], error["code"]) == (
        3,
        "商户订单号",
        "4.00123E+27",
        "row.scientific_id",
    )
    assert "scientific notation" in error["message"] and "digits are lost" in error["message"]


def test_a_masked_customer_id_never_names_a_customer(tmp_path: Path, cli) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(
        "customer_id,date,amount\nC1,2024-01-01,10\n1******6198,2024-01-02,20\n"
        "1******6198,2024-01-03,30\n",
        encoding="utf-8",
    )
    code, report = cli("import", "transactions", str(path))
    assert code == 1
    assert [(e["line"], e["code"]) for e in report["errors"]] == [
        (3, "row.masked_id"),
        (4, "row.masked_id"),
    ]


def test_formats_lists_the_platform_presets_in_english_and_chinese() -> None:
    result = CliRunner().invoke(app, ["import", "formats", "--json"])
    listed = {p["name"]: p for p in json.loads(result.stdout)}
    assert set(listed) == {p.name for p in load_presets()}
    assert {
        "pinduoduo_orders",
        "douyin_orders",
        "youzan_orders",
        "alipay_merchant",
        "woocommerce_orders",
        "taobao_order_items",
        "youzan_customers",
        "shopify_customers",
    } <= set(listed)
    assert listed["youzan_customers"]["kind"] == "customers"
    assert listed["pinduoduo_orders"]["label"] == {
        "en": "Pinduoduo order export",
        "zh-hans": "拼多多 订单导出",
    }
    assert all(p["download"]["en"] and p["download"]["zh-hans"] for p in listed.values())
    table = CliRunner().invoke(app, ["import", "formats"])
    assert "拼多多 订单导出" in table.output and "Douyin shop" in table.output


@pytest.mark.parametrize(
    ("cell", "no_such_day"),
    [
        ("2024-02-30", True),
        ("2023/4/31", True),
        ("2023年2月29日", True),
        ("2024-02-30 10:00:00", True),
        ("2024-13-01", False),  # a month past 12 is a format problem, not a missing day
        ("yesterday", False),
    ],
)
def test_a_day_the_calendar_does_not_have_is_named_as_such(
    tmp_path: Path, cli, cell: str, no_such_day: bool
) -> None:
    # given a sales file with one date that is well written but does not exist
    path = tmp_path / "sales.csv"
    path.write_text(
        f"customer_id,date,amount\nA,2024-01-01,10.00\nB,{cell},5.00\nC,2024-01-03,5.00\n",
        encoding="utf-8",
    )
    # when
    code, report = cli("import", "transactions", str(path))
    # then line 3 is the one error, and it says which kind
    assert code == 1
    assert [(e["line"], e["value"]) for e in report["errors"]] == [(3, cell)]
    message = report["errors"][0]["message"]
    assert ("no such day in the calendar" in message) is no_such_day, message
    assert not Order.objects.exists()
