"""Pinduoduo, Douyin and Youzan order exports as downloaded: recognised, statuses, refunds,
customers without a buyer id, to the cent. Each fixture is written by hand from the header
strings in IMPORT-FORMATS.md; every expected figure is worked out in a comment."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook

from patron.customers.models import Customer
from patron.sales.models import Order

pytestmark = pytest.mark.django_db


def _statuses(source: str) -> dict[str, str]:
    return dict(Order.objects.filter(source=source).values_list("external_id", "status"))


# Pinduoduo: .xlsx; units in half-width (元) and, on one header, full-width （元）; one row per
# order; no buyer id (a customer is the receiver's 手机 when shown in full); 售后状态 退款成功;
# a blank 支付时间 on a cancelled order; one amount typed as a number cell, not text.
PDD_HEADER = [
    "商品", "订单号", "订单状态", "商品总价（元）", "店铺优惠折扣(元)", "平台优惠折扣(元)",
    "用户实付金额(元)", "商家实收金额(元)", "商品数量(件)", "收货人", "手机", "支付时间",
    "拼单成功时间", "订单成交时间", "商品id", "商品规格", "样式ID", "商家编码-SKU维度", "售后状态",
]  # fmt: skip
PDD_ROWS = [
    # 商品, 订单号, 订单状态, 总价, 店铺优惠, 平台优惠, 实付, 实收, 数量, 收货人, 手机, 支付时间,
    # 拼单成功, 成交时间, 商品id, 规格, 样式ID, 商家编码, 售后状态
    ["南瓜子", "240501-001", "已收货", "59.90", "0", "0", "59.90", "59.90", "1", "张**",
     "13800000001", "2024-05-01 10:00:05", "2024-05-01 10:00:05", "2024-05-01 10:00:05",
     "9001", "300g", "S-300", "", "无售后或售后取消"],
    ["南瓜子", "240502-002", "已收货", "25.00", "0", "0", "25.00", "25.00", "1", "张**",
     "13800000001", "2024-05-02 11:00:00", "2024-05-02 11:00:00", "2024-05-02 11:00:00",
     "9001", "100g", "S-100", "", "退款成功"],
    ["瓜子礼盒", "240503-003", "待发货", "88.00", "0", "0", "88.00", "86.00", "1", "李*",
     "138****0002", "2024-05-03 12:00:00", "2024-05-03 12:00:00", "2024-05-03 12:00:00",
     "9002", "礼盒", "S-BOX", "", "无售后或售后取消"],
    ["南瓜子", "240504-004", "未发货，退款成功", "40.00", "0", "0", "40.00", "40.00", "2", "王*",
     "+86 138-0000-0003", "2024-05-04 09:00:00", "2024-05-04 09:00:00", "2024-05-04 09:00:00",
     "9001", "100g", "S-100", "", "退款成功"],
    ["南瓜子", "240505-005", "已取消", "30.00", "0", "0", "30.00", "0", "1", "王*",
     "13800000003", "", "", "2024-05-05 09:00:00", "9001", "300g", "S-300", "", "无售后或售后取消"],
    ["瓜子礼盒", "240506-006", "已发货，待收货", "1299.00", "0", "0", 1299, "1299.00", "1", "张**",
     "13800000001", "2024-05-06 08:00:00", "2024-05-06 08:00:00", "2024-05-06 08:00:00",
     "9002", "礼盒", "S-BOX", "", "无售后或售后取消"],
    ["南瓜子", "240507-007", "已收货", "12.00", "0", "0", "12.00", "12.00", "1", "李*",
     "138****0002", "2024-05-07 08:00:00", "2024-05-07 08:00:00", "2024-05-07 08:00:00",
     "9001", "100g", "S-100", "", "无售后或售后取消"],
]  # fmt: skip


def test_pinduoduo_export(tmp_path: Path, cli, net_revenue_by_customer, tel) -> None:
    # given the workbook as Pinduoduo's backend writes it
    book = Workbook()
    sheet = book.active
    sheet.append(PDD_HEADER)
    for row in PDD_ROWS:
        sheet.append(row)
    path = tmp_path / "orders_export.xlsx"
    book.save(path)

    # when it is imported
    code, report = cli("import", "transactions", str(path))

    # then the export is recognised and every order kept with its status
    assert code == 0, report
    assert report["preset"] == "pinduoduo_orders" and report["rejected"] == 0
    assert _statuses("pdd") == {
        "240501-001": "completed",
        "240502-002": "refunded",  # received, then 售后 退款成功: refunded in full
        "240502-002-refund": "returned",
        "240503-003": "open",
        "240504-004": "refunded",  # 未发货，退款成功
        "240504-004-refund": "returned",
        "240505-005": "cancelled",  # never paid: no 支付时间
        "240506-006": "open",
        "240507-007": "completed",
    }
    assert Order.objects.get(external_id="240502-002-refund").amount == Decimal("-25.00")
    # and a masked phone never names a customer: the two orders to 138****0002 stay apart
    assert net_revenue_by_customer() == {
        tel("13800000001"): Decimal("1358.90"),  # 59.90 + (25.00 - 25.00) + 1299.00
        "pdd-order-240503-003": Decimal("88.00"),
        tel("13800000003"): Decimal("0.00"),  # 40.00 - 40.00; the cancelled 30.00 never counts
        "pdd-order-240507-007": Decimal("12.00"),
    }
    # the phone that named the customer is on the record, normalised
    assert Customer.objects.get(external_id=tel("13800000003")).phone == "13800000003"
    assert not Customer.objects.filter(phone__contains="*").exists()
    # each order has its product line (样式ID)
    line = Order.objects.get(external_id="240506-006").lines.get()
    assert (line.product.sku, line.amount) == ("S-BOX", Decimal("1299.00"))

    # importing the same file again changes nothing
    code, again = cli("import", "transactions", str(path))
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, 9)


# Douyin (抖店): UTF-8 with BOM, ids as "\t6917…", "-" for empty cells, one row per
# sub-order, encrypted phones (##…, $$…), 售后状态 per sub-order, and a status the preset
# does not know (kept as unknown, never revenue).
DY = (
    "\ufeff主订单编号,子订单编号,选购商品,商品规格,商品数量,商家编码,商品ID,订单应付金额,运费,"
    "收件人,收件人手机号,详细地址,订单提交时间,支付完成时间,订单完成时间,订单状态,售后状态,"
    "支付方式,快递信息\n"
    '"\t6917000000000000001","\t6917000000000000011","\t辣条","\t1袋",2,"\tLT-1","\t3001",'
    "19.80,0.00,##密文,13900000001,##密文,2024-06-01 09:00:00,2024-06-01 09:01:00,"
    "2024-06-05 10:00:00,已完成,-,抖音支付,SF123-顺丰速运\n"
    '"\t6917000000000000001","\t6917000000000000012","\t瓜子","\t1袋",1,"\tGZ-1","\t3002",'
    "10.00,0.00,##密文,13900000001,##密文,2024-06-01 09:00:00,2024-06-01 09:01:00,"
    "2024-06-05 10:00:00,已完成,退款成功,抖音支付,SF123-顺丰速运\n"
    '"\t6917000000000000002","\t6917000000000000002","\t辣条","\t1袋",1,"\tLT-1","\t3001",'
    "9.90,0.00,##密文,##密文,##密文,2024-06-02 09:00:00,2024-06-02 09:00:30,-,已发货,-,"
    "抖音支付,YT456-圆通速递\n"
    '"\t6917000000000000003","\t6917000000000000003","\t瓜子","\t1袋",1,"\tGZ-1","\t3002",'
    "10.00,0.00,##密文,13900000001,##密文,2024-06-03 09:00:00,-,-,已关闭,-,-,-\n"
    '"\t6917000000000000004","\t6917000000000000041","\t辣条","\t1袋",1,"\tLT-1","\t3001",'
    "5.00,0.00,$$密文,$$密文,$$密文,2024-06-04 09:00:00,2024-06-04 09:00:10,-,已关闭,"
    "退款成功,抖音支付,-\n"
    '"\t6917000000000000004","\t6917000000000000042","\t瓜子","\t1袋",1,"\tGZ-1","\t3002",'
    "6.00,0.00,$$密文,$$密文,$$密文,2024-06-04 09:00:00,2024-06-04 09:00:10,-,已关闭,"
    "退款成功,抖音支付,-\n"
    '"\t6917000000000000005","\t6917000000000000005","\t瓜子","\t1袋",1,"\tGZ-1","\t3002",'
    "15.50,0.00,##密文,+86 139-0000-0001,##密文,2024-06-05 09:00:00,2024-06-05 09:00:10,"
    "2024-06-09 09:00:00,已完成,-,抖音支付,SF124-顺丰速运\n"
    '"\t6917000000000000006","\t6917000000000000006","\t瓜子","\t1袋",1,"\tGZ-1","\t3002",'
    "8.00,0.00,##密文,13900000001,##密文,2024-06-06 09:00:00,2024-06-06 09:00:10,-,"
    "状态待定,-,抖音支付,-\n"
)


def test_douyin_export(tmp_path: Path, cli, net_revenue_by_customer, tel) -> None:
    path = tmp_path / "抖店订单.csv"
    path.write_text(DY, encoding="utf-8")

    code, report = cli("import", "transactions", str(path))

    assert code == 0, report
    assert report["preset"] == "douyin_orders" and report["reading"] == "order lines"
    main = "6917000000000000"
    assert _statuses("douyin") == {
        f"{main}001": "completed",  # one of its two sub-orders refunded: a partial refund
        f"{main}001-refund": "returned",
        f"{main}002": "open",
        f"{main}003": "cancelled",  # closed, never paid (支付完成时间 "-")
        f"{main}004": "refunded",  # both sub-orders refunded
        f"{main}004-refund": "returned",
        f"{main}005": "completed",
        f"{main}006": "unknown",  # 状态待定: kept with its text, not revenue
    }
    assert report["unknown_statuses"] == {"状态待定": 1}
    first = Order.objects.get(source="douyin", external_id=f"{main}001")
    assert first.amount == Decimal("29.80")  # 19.80 + 10.00: the sub-orders add up
    assert Order.objects.get(external_id=f"{main}001-refund").amount == Decimal("-10.00")
    assert Order.objects.get(external_id=f"{main}004-refund").amount == Decimal("-11.00")
    assert sorted(first.lines.values_list("product__sku", "quantity", "amount")) == [
        ("3001", Decimal("2.000"), Decimal("19.80")),
        ("3002", Decimal("1.000"), Decimal("10.00")),
    ]
    assert Order.objects.get(external_id=f"{main}006").raw_status == "状态待定"
    assert net_revenue_by_customer() == {
        # 29.80 - 10.00 + 15.50 (the same phone written +86 139-0000-0001); the closed
        # unpaid order and the unknown one never count
        tel("13900000001"): Decimal("35.30"),
        f"douyin-order-{main}002": Decimal("9.90"),  # encrypted phone: its own buyer
        f"douyin-order-{main}004": Decimal("0.00"),  # 5.00 + 6.00 - 11.00
    }


# Youzan: "——" for empty cells, a partial refund (0 < 订单已退款金额 < 订单实付金额), a closed
# order refunded in full after payment, a closed order never paid, a masked 买家手机号, an
# amount with ¥ and a thousands separator, a date range in 同城送达时间, trailing blank lines.
YZ = (
    "订单号,订单状态,订单退款状态,订单创建时间,买家付款时间,交易成功时间,买家昵称,买家手机号,"
    "收货人/提货人,收货人手机号/提货人手机号,商品金额合计,店铺优惠合计,订单实付金额,订单已退款金额,"
    "全部商品名称,商品种类数,归属店铺,销售渠道,付款方式,同城送达时间\n"
    "E001,交易成功,——,2024-07-01 10:00:00,2024-07-01 10:05:00,2024-07-05 10:00:00,小明,"
    '13700000001,王小明,13700000001,120.00,0.00,120.00,——,"面包;牛奶",2,旗舰店,微商城,微信支付,——\n'
    "E002,交易成功,退款成功（部分退款）,2024-07-02 10:00:00,2024-07-02 10:01:00,"
    "2024-07-06 10:00:00,小明,13700000001,王小明,13700000001,80.00,0.00,80.00,30.00,蛋糕,1,"
    "旗舰店,微商城,微信支付,——\n"
    "E003,交易关闭,退款成功（全额退款）,2024-07-03 10:00:00,2024-07-03 10:02:00,——,华,"
    "13700000002,李华,13700000002,45.00,0.00,45.00,45.00,牛奶,1,旗舰店,小程序,微信支付,——\n"
    "E004,待付款,——,2024-07-04 10:00:00,——,——,华,13700000002,李华,13700000002,60.00,0.00,"
    "60.00,——,面包,1,旗舰店,小程序,——,——\n"
    "E005,已发货,——,2024-07-05 10:00:00,2024-07-05 10:03:00,——,六六,186******05,赵六,"
    '186******05,"1,088.00",0.00,"¥1,088.00",0.00,礼盒,1,二号店,微商城,微信支付,——\n'
    "E006,交易关闭,——,2024-07-06 10:00:00,——,——,阿七,13700000003,周七,13700000003,20.00,0.00,"
    "20.00,——,面包,1,旗舰店,微商城,——,——\n"
    "E007,待发货,——,2024-07-07 10:00:00,2024-07-07 10:00:30,——,阿七,13700000003,周七,"
    "13700000003,15.00,0.00,15.00,——,面包,1,旗舰店,微商城,微信支付,"
    "2024-07-08 11:00 - 2024-07-08 12:00\n"
    "\n\n"
)


def test_youzan_export(tmp_path: Path, cli, net_revenue_by_customer, tel) -> None:
    path = tmp_path / "有赞订单.csv"
    path.write_text(YZ, encoding="utf-8-sig")

    code, report = cli("import", "transactions", str(path))

    assert code == 0, report
    assert report["preset"] == "youzan_orders" and report["reading"] == "orders"
    assert report["skipped_lines"] == {"preamble": 0, "blank": 2, "trailer": 0}
    assert _statuses("youzan") == {
        "E001": "completed",
        "E002": "completed",  # partly refunded: the order stands, a return takes 30.00 off
        "E002-refund": "returned",
        "E003": "refunded",  # closed after payment, 45.00 of 45.00 refunded
        "E003-refund": "returned",
        "E004": "unpaid",
        "E005": "open",
        "E006": "cancelled",  # closed before payment
        "E007": "open",
    }
    assert Order.objects.get(external_id="E002-refund").amount == Decimal("-30.00")
    assert Order.objects.get(external_id="E001").channel == "微商城"
    assert net_revenue_by_customer() == {
        tel("13700000001"): Decimal("170.00"),  # 120.00 + 80.00 - 30.00
        tel("13700000002"): Decimal("0.00"),  # 45.00 - 45.00; the unpaid 60.00 never counts
        "youzan-order-E005": Decimal("1088.00"),  # masked phone: its own buyer
        tel("13700000003"): Decimal("15.00"),  # the closed, unpaid 20.00 never counts
    }
