"""Alipay merchant bills and WooCommerce order exports as downloaded: recognised, refunds
as returns, customers never named by masked values, to the cent (worked out in comments)."""

from __future__ import annotations

import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from patron.ingest.archives import entry_name
from patron.sales.models import Order

pytestmark = pytest.mark.django_db

AM_HEADER = (
    "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,"
    "对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,"
    "券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,"
    "分润（元）,备注\n"
)


def _am_row(trade: str, kind: str, when: str, account: str, amount: str, batch: str = "") -> str:
    # Ids are followed by a tab, as Alipay writes them so that Excel keeps their digits.
    return (
        f"{trade}\t,M-{trade[-4:]}\t,{kind},咖啡,{when},{when},S01,一号店,,,{account},"
        f"{amount},{amount},0.00,0.00,0.00,0.00,0.00,,0.00,0.00,{batch},-0.18,0.00,\n"
    )


# The detail file: four "#" preamble lines, payments (交易) and refunds (退款, negative, same
# 支付宝交易号, each with its 退款批次号), a masked 对方账户, and the "#" trailer.
AM_DETAIL = (
    "#支付宝业务明细查询\n"
    "#账号：[20880000000000000156]\n"
    "#起始日期：[2024年08月01日 00:00:00]   终止日期：[2024年09月01日 00:00:00]\n"
    "#" + "-" * 41 + "业务明细列表" + "-" * 40 + "\n"
    + AM_HEADER
    + _am_row("2024080122001400000001", "交易", "2024-08-01 10:00:00", "**博(156******89)", "30.00")
    + _am_row("2024080222001400000002", "交易", "2024-08-02 10:00:00", "alice@example.com", "50.00")
    + _am_row(
        "2024080222001400000002", "退款", "2024-08-03 10:00:00", "alice@example.com", "-20.00",
        "R-2-1",
    )
    + _am_row("2024080422001400000003", "交易", "2024-08-04 10:00:00", "alice@example.com", "40.00")
    + _am_row(
        "2024080422001400000003", "退款", "2024-08-05 10:00:00", "alice@example.com", "-40.00",
        "R-3-1",
    )
    + "#" + "-" * 41 + "业务明细列表结束" + "-" * 36 + "\n"
    "#交易合计：3笔，商家实收共120.00元，商家优惠共0.00元\n"
    "#退款合计：2笔，商家实收共-60.00元，商家优惠共0.00元\n"
    "#导出时间：[2024年09月01日 09:33:11]\n"
)  # fmt: skip
# The summary file beside it in the zip, which is not what Patron imports.
AM_SUMMARY = (
    "#支付宝业务汇总查询\n"
    "#账号：[20880000000000000156]\n"
    "门店编号,门店名称,交易订单总笔数,退款订单总笔数,订单金额（元）,商家实收（元）,支付宝优惠（元）,"
    "商家优惠（元）,卡消费金额（元）,服务费（元）,分润（元）,实收净额（元）\n"
    "S01,一号店,3,2,120.00,60.00,0.00,0.00,0.00,-0.90,0.00,59.10\n"
    "#导出时间：[2024年09月01日 09:33:11]\n"
)


class _GbkName(zipfile.ZipInfo):
    """A zip entry named in GBK without the UTF-8 flag, as Alipay's zips are."""

    def _encodeFilenameFlags(self):  # zipfile's own method name
        return self.filename.encode("cp437"), self.flag_bits


def _gbk_entry(name: str) -> zipfile.ZipInfo:
    return _GbkName(name.encode("gbk").decode("cp437"), date_time=(2024, 9, 1, 9, 33, 11))


def test_alipay_merchant_zip(tmp_path: Path, cli, net_revenue_by_customer) -> None:
    # given the zip as Alipay hands it out: two GBK files with GBK names
    path = tmp_path / "20880000000000000156_20240901.csv.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            _gbk_entry("20880000000000000156_业务明细(汇总).csv"), AM_SUMMARY.encode("gbk")
        )
        archive.writestr(_gbk_entry("20880000000000000156_业务明细.csv"), AM_DETAIL.encode("gbk"))

    with zipfile.ZipFile(path) as archive:  # the names read back as Alipay wrote them
        assert [entry_name(i) for i in archive.infolist()] == [
            "20880000000000000156_业务明细(汇总).csv",
            "20880000000000000156_业务明细.csv",
        ]

    # when it is imported
    code, report = cli("import", "transactions", str(path))

    # then the detail file is read: preamble and trailer skipped, not errors
    assert code == 0, report
    assert report["preset"] == "alipay_merchant" and report["rejected"] == 0
    assert report["encoding"] in {"gb18030", "gbk"}
    assert report["skipped_lines"] == {"preamble": 4, "blank": 0, "trailer": 4}
    trade = "20240801220014000000"
    assert dict(Order.objects.values_list("external_id", "amount")) == {
        f"{trade}01": Decimal("30.00"),
        # refund rows are returns of their payment, never part of it
        "2024080222001400000002": Decimal("50.00"),
        "2024080222001400000002-refund-R-2-1": Decimal("-20.00"),
        "2024080422001400000003": Decimal("40.00"),
        "2024080422001400000003-refund-R-3-1": Decimal("-40.00"),
    }
    refund = Order.objects.get(external_id="2024080222001400000002-refund-R-2-1")
    assert refund.status == "returned"
    assert refund.original_order.external_id == "2024080222001400000002"
    assert Order.objects.get(external_id=f"{trade}01").store == "一号店"
    assert net_revenue_by_customer() == {
        f"alipay-order-{trade}01": Decimal("30.00"),  # masked 对方账户: its own buyer
        "alice@example.com": Decimal("30.00"),  # 50.00 - 20.00 + 40.00 - 40.00
    }


def test_a_refund_in_a_later_bill_adds_to_the_earlier_ones(
    tmp_path: Path, cli, net_revenue_by_customer
) -> None:
    # given August's bill (payment and a first refund) and September's (a second refund)
    august = tmp_path / "august.csv"
    august.write_bytes(
        (
            AM_HEADER
            + _am_row("2024081522001400000009", "交易", "2024-08-15 10:00:00", "bo@x.cn", "90.00")
            + _am_row(
                "2024081522001400000009", "退款", "2024-08-20 10:00:00", "bo@x.cn", "-10.00", "R1"
            )
        ).encode("gbk")
    )
    september = tmp_path / "september.csv"
    september.write_bytes(
        (
            AM_HEADER
            + _am_row(
                "2024081522001400000009", "退款", "2024-09-02 10:00:00", "bo@x.cn", "-15.00", "R2"
            )
        ).encode("gbk")
    )

    # when both are imported, in order
    assert cli("import", "transactions", str(august))[0] == 0
    code, report = cli("import", "transactions", str(september))

    # then the payment keeps its amount and both refunds stand, each in its own month
    assert code == 0, report
    payment = Order.objects.get(external_id="2024081522001400000009")
    assert payment.amount == Decimal("90.00")
    returns = Order.objects.filter(original_order=payment).order_by("ordered_on")
    assert [(r.amount, r.ordered_on) for r in returns] == [
        (Decimal("-10.00"), date(2024, 8, 20)),
        (Decimal("-15.00"), date(2024, 9, 2)),
    ]
    assert net_revenue_by_customer() == {"bo@x.cn": Decimal("65.00")}  # 90.00 - 10.00 - 15.00


# WooCommerce (order-export plugin, snake_case columns): the documented 5/31/2016 0:37 date,
# wc- status prefixes, a partial refund in refunded_total, a guest known only by phone, a
# guest with neither e-mail nor phone, a US phone Patron cannot read (left out, not an error),
# a cancelled order with a refund (no return: it never counted).
WC = (
    "order_id,order_number,order_date,status,shipping_total,order_total,refunded_total,"
    "order_currency,payment_method,customer_id,billing_first_name,billing_last_name,"
    "billing_email,billing_phone\n"
    "101,101,5/31/2016 0:37,wc-completed,5.00,55.00,0.00,USD,stripe,7,Ann,Lee,ann@example.com,"
    "(555) 123-4567\n"
    '102,102,6/1/2016 9:05,completed,0,"1,200.00",200.00,USD,paypal,7,Ann,Lee,ann@example.com,\n'
    "103,103,6/2/2016 10:00,processing,0,30.00,0,USD,cod,0,Bo,,,+8613812345678\n"
    "104,104,6/3/2016 11:00,refunded,0,40.00,40.00,USD,stripe,8,Cy,,cy@example.com,\n"
    "105,105,6/4/2016 12:00,pending,0,25.00,0,USD,bacs,0,Di,,,\n"
    "106,106,6/5/2016 13:00,cancelled,0,15.00,0,USD,stripe,9,Ed,,ed@example.com,\n"
    "107,107,6/6/2016 14:00,wc-on-hold,0,20.00,0,USD,bacs,9,Ed,,ed@example.com,\n"
    "108,108,6/7/2016 15:00,cancelled,0,18.00,18.00,USD,stripe,9,Ed,,ed@example.com,\n"
)


def test_woocommerce_export(tmp_path: Path, cli, net_revenue_by_customer, tel) -> None:
    path = tmp_path / "orders-2016-06.csv"
    path.write_text(WC, encoding="utf-8")

    code, report = cli("import", "transactions", str(path))

    assert code == 0, report
    assert report["preset"] == "woocommerce_orders" and report["rejected"] == 0
    assert dict(Order.objects.values_list("external_id", "status")) == {
        "101": "completed",
        "102": "completed",
        "102-refund": "returned",
        "103": "open",  # processing: paid, not yet shipped
        "104": "refunded",
        "104-refund": "returned",
        "105": "unpaid",
        "106": "cancelled",
        "107": "unpaid",  # on-hold: awaiting payment
        "108": "cancelled",  # its refund is no return: a cancelled order was never revenue
    }
    assert Order.objects.get(external_id="101").ordered_on == date(2016, 5, 31)
    assert net_revenue_by_customer() == {
        "ann@example.com": Decimal("1055.00"),  # 55.00 + 1,200.00 - 200.00
        tel("13812345678"): Decimal("30.00"),  # a guest known by phone
        "cy@example.com": Decimal("0.00"),  # 40.00 - 40.00
        # ed@example.com: 106 and 108 cancelled, 107 unpaid: no revenue, and no -18.00
    }
    assert Order.objects.get(external_id="105").customer.external_id == "woocommerce-order-105"


def test_woocommerce_dates_that_read_both_ways_are_month_first(tmp_path: Path, cli) -> None:
    # given dates whose day is never above 12: day first or month first, the file cannot say
    path = tmp_path / "orders.csv"
    path.write_text(
        "order_id,order_date,status,order_total,order_currency,billing_first_name,billing_email\n"
        "201,6/5/2016 13:00,completed,10.00,USD,Al,a@x.cn\n"
        "202,7/3/2016 9:00,completed,10.00,USD,Al,a@x.cn\n",
        encoding="utf-8",
    )
    code, report = cli("import", "transactions", str(path))
    # then WooCommerce's US order decides: June 5th and July 3rd
    assert code == 0, report
    assert report["date_format"] == "%m/%d/%Y %H:%M"
    assert sorted(Order.objects.values_list("ordered_on", flat=True)) == [
        date(2016, 6, 5),
        date(2016, 7, 3),
    ]
