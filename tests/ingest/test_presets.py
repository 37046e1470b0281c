"""Platform exports as downloaded: recognised, cleaned, statuses and refunds right."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.db.models import Sum
from typer.testing import CliRunner

from patron.cli import app
from patron.ingest.formats import load_presets
from patron.sales.models import Order
from patron.sales.selectors import net_revenue

pytestmark = pytest.mark.django_db
runner = CliRunner()

# Old Taobao ExportOrderList: GBK, ="..." order numbers, header names with trailing spaces,
# 买家实际支付金额 net of refunds, 无退款申请 in the refund column.
TAOBAO = (
    "订单编号,买家会员名,买家支付宝账号,买家应付货款,总金额,买家实际支付金额,订单状态,"
    "订单创建时间,订单付款时间 ,宝贝标题 ,宝贝总数量,退款金额,店铺名称\n"
    '="1001",tb_alice,a@x.cn,100.00,100.00,100.00,交易成功,2024-03-01 10:00:00,'
    "2024-03-01 10:01:00,连衣裙,1,无退款申请,小店\n"
    '="1002",tb_alice,a@x.cn,327.70,327.70,148.90,交易成功,2024-03-02 11:00:00,'
    "2024-03-02 11:05:00,外套,2,178.80,小店\n"
    '="1003",tb_bob,b@x.cn,178.80,178.80,0.00,交易关闭,2024-03-03 12:00:00,'
    "2024-03-03 12:02:00,裤子,1,178.80,小店\n"
    '="1004",tb_bob,b@x.cn,50.00,50.00,0.00,交易关闭,2024-03-04 09:00:00,,帽子,1,0,小店\n'
    '="1005",tb_carol,c@x.cn,80.00,80.00,80.00,等待买家付款,2024-03-05 09:00:00,,鞋,1,'
    "无退款申请,小店\n"
    '="1006",tb_carol,c@x.cn,60.00,60.00,60.00,"卖家已发货，等待买家确认",'
    "2024/3/6 9:00,2024/3/6 9:01,袜子,3,无退款申请,小店\n"
)

# WeChat Pay merchant bill: BOM, a backtick before every field, a REFUND row under the same
# 商户订单号, and a totals trailer.
WECHAT = (
    "\ufeff交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,"
    "交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,"
    "充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,"
    "费率备注\n"
    "`2024-05-04  02:18:18,`wx1,`123,`0,`,`4200001,`M1,`oUser1,`JSAPI,`SUCCESS,`CMB_CREDIT,"
    "`CNY,`30.00,`0.00,`0,`0,`0.00,`0.00,`,`,`咖啡,`,`0.18,`0.60%,`30.00,`0.00,`\n"
    "`2024-05-05 10:00:00,`wx1,`123,`0,`,`4200002,`M2,`oUser2,`NATIVE,`SUCCESS,`OTHERS,"
    "`CNY,`50.00,`0.00,`0,`0,`0.00,`0.00,`,`,`蛋糕,`,`0.30,`0.60%,`50.00,`0.00,`\n"
    "`2024-05-06 11:00:00,`wx1,`123,`0,`,`4200001,`M1,`oUser1,`JSAPI,`REFUND,`CMB_CREDIT,"
    "`CNY,`0.00,`0.00,`5000001,`R1,`10.00,`0.00,`ORIGINAL,`SUCCESS,`咖啡,`,`-0.06,`0.60%,"
    "`0.00,`10.00,`\n"
    "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\n"
    "`3,`80.00,`10.00,`0.00,`0.42,`80.00,`10.00\n"
)


def invoke(*args: str) -> tuple[int, dict]:
    result = runner.invoke(app, [*args, "--json"])
    try:
        return result.exit_code, json.loads(result.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"{result.output} {result.exception!r}") from None


def _revenue_by_customer() -> dict[str, Decimal]:
    rows = (
        Order.objects.filter(status__in=["completed", "open", "refunded", "returned"])
        .values("customer__external_id")
        .annotate(total=Sum("amount"))
    )
    return {r["customer__external_id"]: r["total"] for r in rows}


def test_taobao_export_is_recognised_and_statuses_and_refunds_are_right(tmp_path: Path) -> None:
    path = tmp_path / "ExportOrderList.csv"
    path.write_bytes(TAOBAO.encode("gbk"))

    code, report = invoke("import", "transactions", str(path))

    assert code == 0, report
    assert report["preset"] == "taobao_orders" and report["rejected"] == 0
    statuses = dict(Order.objects.filter(source="taobao").values_list("external_id", "status"))
    assert statuses == {
        "1001": "completed",
        "1002": "completed",  # partly refunded: the order stands, a return takes 178.80 off
        "1002-refund": "returned",
        "1003": "refunded",  # closed after payment: refunded in full
        "1003-refund": "returned",
        "1004": "cancelled",  # closed before payment
        "1005": "unpaid",
        "1006": "open",
    }
    partial = Order.objects.get(external_id="1002")
    assert partial.amount == Decimal("327.70")
    assert Order.objects.get(external_id="1002-refund").original_order == partial
    assert Order.objects.get(external_id="1005").raw_status == "等待买家付款"
    assert _revenue_by_customer() == {
        "tb_alice": Decimal("248.90"),  # 100 + 148.90 kept
        "tb_bob": Decimal("0.00"),  # refunded in full; the cancelled order never counted
        "tb_carol": Decimal("60.00"),  # the open order; unpaid is not revenue
    }
    assert net_revenue() == Decimal("308.90")

    code, again = invoke("import", "transactions", str(path))
    assert (again["inserted"], again["unchanged"]) == (0, 8)


def test_wechat_bill_with_refund_rows_and_trailer(tmp_path: Path) -> None:
    path = tmp_path / "wechat.csv"
    path.write_text(WECHAT, encoding="utf-8")

    code, report = invoke("import", "transactions", str(path))

    assert code == 0, report
    assert report["preset"] == "wechat_pay_merchant"
    assert report["skipped"] == 2 and report["rejected"] == 0  # the trailer, not errors
    assert _revenue_by_customer() == {"oUser1": Decimal("20.00"), "oUser2": Decimal("50.00")}
    refund = Order.objects.get(source="wechat_pay", external_id="M1-refund-5000001")
    assert refund.amount == Decimal("-10.00") and refund.original_order.external_id == "M1"


def test_preset_generic_turns_recognition_off_and_the_closest_preset_is_named(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ExportOrderList.csv"
    path.write_bytes(TAOBAO.encode("gbk"))
    generic = runner.invoke(app, ["import", "transactions", str(path), "--preset", "generic"])
    # Without the preset there is no date column Patron knows by name: it says which to try.
    assert generic.exit_code == 1
    assert "ordered_at" in generic.output and "--preset taobao_orders" in generic.output

    broken = tmp_path / "broken.csv"
    broken.write_text("订单编号,订单状态,订单创建时间,总金额\n1,交易成功,2024-01-01,1\n")
    result = runner.invoke(app, ["import", "transactions", str(broken)])
    assert result.exit_code == 1
    assert "--preset taobao_orders" in result.output and "customer_id" in result.output


def test_formats_lists_every_preset_in_both_languages() -> None:
    result = runner.invoke(app, ["import", "formats", "--json"])
    listed = json.loads(result.stdout)
    assert {p["name"] for p in listed} == {p.name for p in load_presets()}
    assert all(p["label"]["en"] and p["label"]["zh-hans"] for p in listed)


# Shopify: line rows repeat only the order name; the order's cells are on its first row.
# Quoted values, an apostrophe wrapper on an id, offsets in dates, a partial refund.
SHOPIFY = (
    "Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Accepts Marketing,"
    "Currency,Subtotal,Shipping,Taxes,Total,Discount Code,Discount Amount,Shipping Method,"
    "Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem compare at price,"
    "Lineitem sku,Billing Name,Refunded Amount,Payment Method,Source,Id\n"
    "#1001,ann@example.com,paid,2026-05-14 11:24:00 +0100,fulfilled,,yes,EUR,30.00,5.00,0,35.00,"
    ",0,Standard,2026-05-14 11:23:45 +0100,2,Green tea,10.00,,'TEA-1,Ann,0.00,Card,web,1\n"
    "#1001,,,,,,,,,,,,,,,,1,Cup,10.00,,CUP-1,,,,,\n"
    "#1002,bo@example.com,partially_refunded,2026-05-15 09:00:00 +0100,fulfilled,,no,EUR,"
    '"1,200.00",0,0,"1,200.00",,0,Standard,2026-05-15 09:00:00 +0100,1,Teapot,1200.00,,POT-1,'
    "Bo,200.00,Card,web,2\n"
    "#1003,cy@example.com,pending,,unfulfilled,,no,EUR,10.00,0,0,10.00,,0,Standard,"
    "2026-05-16 10:00:00 +0100,1,Cup,10.00,,CUP-1,Cy,0.00,,web,3\n"
)

# JD: one row per SKU, the order total (应付金额) repeated on each; (删除) before a status.
JD = (
    "订单号,下单帐号,商品ID,商品名称,订购数量,支付方式,下单时间,京东价,订单金额,应付金额,订单状态,"
    "订单类型,客户姓名,联系电话\n"
    "8001,jd_user1,100,茶叶,2,在线支付,2024-06-01 10:00:00,50.00,130.00,130.00,完成,普通订单,"
    "张三,1******6198\n"
    "8001,jd_user1,200,茶杯,1,在线支付,2024-06-01 10:00:00,30.00,130.00,130.00,完成,普通订单,"
    "张三,1******6198\n"
    "8002,jd_user2,100,茶叶,1,在线支付,2024-06-02 10:00:00,50.00,50.00,50.00,(删除)完成,"
    "普通订单,李四,1******0001\n"
    "8003,jd_user2,200,茶杯,1,在线支付,2024-06-03 10:00:00,30.00,30.00,30.00,已取消,普通订单,"
    "李四,1******0001\n"
)


def test_shopify_line_rows_fill_down_and_the_total_is_taken_once(tmp_path: Path) -> None:
    path = tmp_path / "orders_export.csv"
    path.write_text(SHOPIFY, encoding="utf-8")

    code, report = invoke("import", "transactions", str(path))

    assert code == 0, report
    assert report["preset"] == "shopify_orders" and report["reading"] == "order lines"
    first = Order.objects.get(source="shopify", external_id="#1001")
    assert first.amount == Decimal("35.00")  # Total once, not once per line
    assert sorted(first.lines.values_list("product__sku", "amount")) == [
        ("CUP-1", Decimal("10.00")),
        ("TEA-1", Decimal("20.00")),
    ]
    assert first.customer.external_id == "ann@example.com"
    assert Order.objects.get(source="shopify", external_id="#1003").status == "unpaid"
    assert _revenue_by_customer() == {
        "ann@example.com": Decimal("35.00"),
        "bo@example.com": Decimal("1000.00"),  # 1,200.00 less the 200.00 refunded
    }
    code, again = invoke("import", "transactions", str(path))
    assert again["inserted"] == 0 and again["rejected"] == 0


def test_jd_repeated_order_totals_and_deleted_statuses(tmp_path: Path) -> None:
    path = tmp_path / "jd.csv"
    path.write_bytes(JD.encode("gbk"))

    code, report = invoke("import", "transactions", str(path))

    assert code == 0, report
    assert report["preset"] == "jd_orders"
    order = Order.objects.get(source="jd", external_id="8001")
    assert order.amount == Decimal("130.00") and order.lines.count() == 2
    assert sorted(order.lines.values_list("amount", flat=True)) == [
        Decimal("30.00"),
        Decimal("100.00"),
    ]
    deleted = Order.objects.get(source="jd", external_id="8002")
    assert (deleted.status, deleted.raw_status) == ("completed", "(删除)完成")
    assert _revenue_by_customer() == {
        "jd_user1": Decimal("130.00"),
        "jd_user2": Decimal("50.00"),  # the cancelled order does not count
    }


@pytest.mark.django_db(transaction=True)
def test_value_analytics_on_a_taobao_export_count_only_paid_unrefunded_spend(
    tmp_path: Path,
) -> None:
    from patron.analytics.report import analyze_transactions
    from patron.insights.selectors import store_transactions

    # given a Taobao export with partial and full refunds, an unpaid and a cancelled order
    path = tmp_path / "ExportOrderList.csv"
    path.write_bytes(TAOBAO.encode("gbk"))
    code, _ = invoke("import", "transactions", str(path))
    assert code == 0

    # when the value analysis runs on the store
    analysis = analyze_transactions(store_transactions(), as_of=date(2024, 4, 1))

    # then monetary is what each customer paid and kept, and frequency counts paid orders
    customers = analysis.customers.set_index("customer_id")
    assert customers.loc["tb_alice", "monetary"] == pytest.approx(248.90)
    assert customers.loc["tb_alice", "frequency"] == 2
    assert "tb_bob" not in customers.index  # refunded in full: no purchase left
    assert customers.loc["tb_carol", "monetary"] == pytest.approx(60.00)  # the unpaid order is out
    assert customers.loc["tb_carol", "frequency"] == 1


def test_a_shopify_order_with_a_cancellation_time_is_cancelled(tmp_path: Path) -> None:
    # given a paid order that was cancelled (its refund not yet made) and a guest's order
    path = tmp_path / "orders_export.csv"
    path.write_text(
        "Name,Email,Financial Status,Paid at,Created at,Cancelled at,Total,Refunded Amount,"
        "Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku\n"
        "#2001,ann@example.com,paid,2026-05-14 11:24:00 +0100,2026-05-14 11:23:45 +0100,"
        "2026-05-15 09:00:00 +0100,35.00,0.00,1,Green tea,35.00,TEA-1\n"
        "#2001,,,,,,,,1,Cup,0.00,CUP-1\n"
        "#2002,ann@example.com,paid,2026-05-16 11:24:00 +0100,2026-05-16 11:23:45 +0100,,"
        "12.00,0.00,1,Cup,12.00,CUP-1\n",
        encoding="utf-8",
    )
    code, report = invoke("import", "transactions", str(path))
    assert code == 0, report
    assert dict(Order.objects.values_list("external_id", "status")) == {
        "#2001": "cancelled",
        "#2002": "completed",
    }
    assert _revenue_by_customer() == {"ann@example.com": Decimal("12.00")}  # 35.00 never counts
