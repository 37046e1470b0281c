"""Taobao's order report and its order details (宝贝明细), imported in either order, give the
same orders, lines and products; the order's total comes from the order report only."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from patron.ingest.models import PendingOrderLine
from patron.sales.models import Order, Product

pytestmark = pytest.mark.django_db

# The order report (ExportOrderList, GBK): 买家实际支付金额 is net of refunds; 宝贝种类 counts
# distinct items (not a quantity).
ORDERS = (
    "订单编号,买家会员名,买家支付宝账号,买家应付货款,总金额,买家实际支付金额,订单状态,订单创建时间,"
    "订单付款时间 ,宝贝标题 ,宝贝种类,宝贝总数量,退款金额,店铺名称\n"
    '="2001",tb_dan,d@x.cn,150.00,150.00,140.00,交易成功,2024-09-01 10:00:00,'
    '2024-09-01 10:01:00,"连衣裙，腰带",2,3,无退款申请,小店\n'
    '="2002",tb_eve,e@x.cn,80.00,80.00,50.00,交易成功,2024-09-02 11:00:00,'
    "2024-09-02 11:01:00,外套,1,1,30.00,小店\n"
)
# Its order details (ExportOrderDetailList, GBK): one row per item, 价格 the unit price, an
# item without 商家编码 (known by its title), and an item of an order not in the report.
ITEMS = (
    "订单编号,标题,价格,购买数量,外部系统编号,商品属性,套餐信息,备注,订单状态,商家编码\n"
    '="2001",连衣裙,60.00,2,,颜色分类：白色,,,交易成功,TB-DRESS\n'
    '="2001",腰带,30.00,1,,,,,交易成功,\n'
    '="2002",外套,80.00,1,,颜色分类：黑色,,,交易成功,TB-COAT\n'
    '="2003",袜子,5.00,2,,,,,交易成功,TB-SOCK\n'
)

EXPECTED_ORDERS = {
    # amount, status: from the order report, whatever the lines add up to (150.00 here)
    "2001": (Decimal("140.00"), "completed"),
    "2002": (Decimal("80.00"), "completed"),  # 50.00 kept + 30.00 refunded
    "2002-refund": (Decimal("-30.00"), "returned"),
}
EXPECTED_LINES = {
    "2001": [
        (1, "TB-DRESS", Decimal("2.000"), Decimal("120.00")),  # 60.00 x 2
        (2, "腰带", Decimal("1.000"), Decimal("30.00")),
    ],
    "2002": [(1, "TB-COAT", Decimal("1.000"), Decimal("80.00"))],
    "2002-refund": [],
}


def _snapshot() -> tuple[dict, dict, set, list]:
    orders = {o.external_id: (o.amount, o.status) for o in Order.objects.filter(source="taobao")}
    lines = {
        o.external_id: list(o.lines.values_list("line_no", "product__sku", "quantity", "amount"))
        for o in Order.objects.filter(source="taobao")
    }
    products = set(Product.objects.values_list("sku", flat=True))
    pending = list(PendingOrderLine.objects.values_list("source", "order_external_id", "amount"))
    return orders, lines, products, pending


@pytest.mark.parametrize("first", ["orders", "items"])
def test_orders_and_their_items_link_up_in_either_order(
    tmp_path: Path, cli, net_revenue_by_customer, first: str
) -> None:
    # given both files as downloaded
    orders = tmp_path / "ExportOrderList.csv"
    orders.write_bytes(ORDERS.encode("gbk"))
    items = tmp_path / "ExportOrderDetailList.csv"
    items.write_bytes(ITEMS.encode("gbk"))
    files = [orders, items] if first == "orders" else [items, orders]

    # when they are imported one after the other
    reports = []
    for path in files:
        code, report = cli("import", "transactions", str(path))
        assert code == 0, report
        reports.append(report)

    # then each file was recognised
    assert {r["preset"] for r in reports} == {"taobao_orders", "taobao_order_items"}
    items_report = next(r for r in reports if r["preset"] == "taobao_order_items")
    assert items_report["lines_pending"] == (1 if first == "orders" else 4)
    # and the store holds the same orders, lines and products either way
    orders_now, lines, products, pending = _snapshot()
    assert orders_now == EXPECTED_ORDERS
    assert lines == EXPECTED_LINES
    assert products == {"TB-DRESS", "腰带", "TB-COAT", "TB-SOCK"}
    assert pending == [("taobao", "2003", Decimal("10.00"))]  # its order is in neither file
    assert net_revenue_by_customer() == {
        "tb_dan": Decimal("140.00"),
        "tb_eve": Decimal("50.00"),  # 80.00 - 30.00
    }

    # and importing the details again changes nothing
    assert cli("import", "transactions", str(items))[0] == 0
    assert _snapshot() == (orders_now, lines, products, pending)
