"""Customer exports (Youzan, Shopify) as downloaded: recognised by `patron import customers`,
imported as customer records, linked to the same platform's orders; masked phones never
name or merge anyone."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from patron.customers.models import Consent, Customer
from patron.sales.models import Order

pytestmark = pytest.mark.django_db

# Youzan: the header row ends with a comma (and so does every row), "——" for empty cells,
# 客户性别 男/女/其他, 成为客户时间 with a time of day, a masked phone on the last row.
YZ_CUSTOMERS = (
    "客户姓名,客户昵称,客户手机号,客户性别,客户生日,成为客户时间,成为会员时间,是否会员,来源渠道,"
    "累计消费金额,累计消费次数,\n"
    "王小明,小明,13700000001,男,1990-01-01,2023-05-06 10:00:00,2023-06-01 09:00:00,是,微商城,"
    "170.00,2,\n"
    "李华,华,13700000002,女,——,2023-07-08 11:30:00,——,否,线下门店,0.00,0,\n"
    "周七,阿七,13700000009,其他,1985-12-31,2024-01-02 08:00:00,——,否,小程序,0.00,0,\n"
    "赵六,六六,186******05,女,1988-08-08,2024-02-03 08:00:00,——,否,小程序,1088.00,1,\n"
)
YZ_ORDERS = (
    "订单号,订单状态,订单创建时间,买家付款时间,买家昵称,买家手机号,订单实付金额,订单已退款金额,"
    "归属店铺,销售渠道\n"
    "E001,交易成功,2024-07-01 10:00:00,2024-07-01 10:05:00,小明,13700000001,120.00,0.00,"
    "旗舰店,微商城\n"
    "E002,交易成功,2024-07-02 10:00:00,2024-07-02 10:01:00,小明,13700000001,80.00,30.00,"
    "旗舰店,微商城\n"
)


def test_youzan_customers_import_and_link_to_youzan_orders(tmp_path: Path, cli, tel) -> None:
    # given Youzan orders imported first (their customers are known by phone only)
    orders = tmp_path / "有赞订单.csv"
    orders.write_text(YZ_ORDERS, encoding="utf-8")
    assert cli("import", "transactions", str(orders))[0] == 0
    path = tmp_path / "有赞客户.csv"
    path.write_text(YZ_CUSTOMERS, encoding="utf-8-sig")

    # when the customer export is imported: the masked row stops it, naming its line
    code, report = cli("import", "customers", str(path))
    assert code == 1 and report["preset"] == "youzan_customers" and not report["committed"]
    assert [(e["line"], e["column"], e["code"]) for e in report["errors"]] == [
        (5, "客户手机号", "row.no_customer")
    ]
    assert "masked" in report["errors"][0]["message"]

    # and with --skip-bad the others go in, updating the customer the orders created
    code, report = cli("import", "customers", str(path), "--skip-bad")
    assert code == 0, report
    # 13700000001 came with the orders: updated; the two others are new
    assert (report["inserted"], report["updated"], report["rejected"]) == (2, 1, 1)
    ming = Customer.objects.get(external_id=tel("13700000001"))
    assert (ming.name, ming.phone, ming.gender, ming.birth_date) == (
        "王小明",
        "13700000001",
        "m",
        date(1990, 1, 1),
    )
    assert (ming.acquired_on, ming.acquisition_channel) == (date(2023, 5, 6), "微商城")
    assert ming.attributes["客户昵称"] == "小明"  # columns no field takes are kept
    assert ming.orders.filter(status="completed").count() == 2  # E001 and E002 are hers
    hua = Customer.objects.get(external_id=tel("13700000002"))
    assert (hua.gender, hua.birth_date) == ("f", None)
    assert Customer.objects.get(external_id=tel("13700000009")).gender == "u"  # 其他
    # the masked customer was never created, nor matched to anyone
    assert not Customer.objects.filter(phone__contains="*").exists()
    assert Customer.objects.count() == 3


# Shopify: First Name + Last Name read as one name, phones with an apostrophe, consent
# columns, tags; a customer known by phone only; a row with neither e-mail nor phone.
SH_CUSTOMERS = (
    "Customer ID,First Name,Last Name,Email,Accepts Email Marketing,Default Address Company,"
    "Default Address Address1,Default Address Address2,Default Address City,"
    "Default Address Province Code,Default Address Country Code,Default Address Zip,"
    "Default Address Phone,Phone,Accepts SMS Marketing,Total Spent,Total Orders,Note,"
    "Tax Exempt,Tags\n"
    "'7001,Ann,Lee,ann@example.com,yes,Tea Co,1 Main St,,Utrecht,UT,NL,3511,'+31612345678,"
    '\'+31612345678,no,35.00,1,,no,"vip, tea"\n'
    "7002,Bo,,bo@example.com,no,,,,,,,,,,no,1000.00,1,,no,\n"
    "7003,Cy,Wu,,no,,,,Shanghai,SH,CN,,,+86 139 0000 0009,yes,0.00,0,,no,\n"
    "7004,Di,,,no,,,,,,,,,,no,0.00,0,,no,\n"
)
SH_ORDERS = (
    "Name,Email,Financial Status,Paid at,Created at,Total,Refunded Amount,Lineitem quantity,"
    "Lineitem name,Lineitem price,Lineitem sku,Billing Name,Payment Method,Phone\n"
    "#1001,ann@example.com,paid,2026-05-14 11:24:00 +0100,2026-05-14 11:23:45 +0100,35.00,"
    "0.00,2,Green tea,10.00,TEA-1,Ann Lee,Card,\n"
    "#1001,,,,,,,1,Cup,15.00,CUP-1,,,\n"
    "#1002,,paid,2026-05-15 09:00:00 +0100,2026-05-15 09:00:00 +0100,12.00,0.00,1,Cup,12.00,"
    "CUP-1,Cy Wu,Cash,+8613900000009\n"
    "#1003,,paid,2026-05-16 09:00:00 +0100,2026-05-16 09:00:00 +0100,8.00,0.00,1,Cup,8.00,"
    "CUP-1,,Cash,\n"
)


def test_shopify_customers_import_and_link_to_shopify_orders(tmp_path: Path, cli, tel) -> None:
    # given a Shopify customer export
    path = tmp_path / "customers_export.csv"
    path.write_text(SH_CUSTOMERS, encoding="utf-8")

    # when it is imported, skipping the row that names no one
    code, report = cli("import", "customers", str(path), "--skip-bad")

    # then three customers are records with their name, phone, consent and tags
    assert code == 0, report
    assert report["preset"] == "shopify_customers"
    assert [(e["line"], e["code"]) for e in report["errors"]] == [(5, "row.no_customer")]
    ann = Customer.objects.get(external_id="ann@example.com")
    assert (ann.name, ann.phone, ann.email, ann.city, ann.company) == (
        "Ann Lee",
        "+31612345678",
        "ann@example.com",
        "Utrecht",
        "Tea Co",
    )
    assert ann.tags == ["vip", "tea"]
    assert Consent.objects.get(customer=ann, channel="email").granted is True
    assert Customer.objects.get(external_id="bo@example.com").name == "Bo"
    cy = Customer.objects.get(external_id=tel("13900000009"))  # no e-mail: known by phone
    assert (cy.name, cy.phone, cy.region) == ("Cy Wu", "13900000009", "SH")
    assert Consent.objects.get(customer=cy, channel="sms").granted is True
    assert "First Name" not in ann.attributes  # read into the name, not kept aside

    # and the order export links to the same records: by e-mail, else by phone; an order
    # with neither is its own guest buyer
    orders = tmp_path / "orders_export.csv"
    orders.write_text(SH_ORDERS, encoding="utf-8")
    code, report = cli("import", "transactions", str(orders))
    assert code == 0, report
    assert report["customers_created"] == 1  # only the guest
    assert Order.objects.get(external_id="#1001").customer == ann
    assert Order.objects.get(external_id="#1002").customer == cy
    guest = Order.objects.get(external_id="#1003").customer
    assert guest.external_id == "shopify-order-#1003"


def test_generic_files_with_common_names_are_not_taken_for_a_platform_export(
    tmp_path: Path, cli
) -> None:
    # a member list with its own member numbers, in the column names Youzan uses too
    members = tmp_path / "会员.csv"
    members.write_text(
        "会员号,客户姓名,客户手机号,客户性别,客户生日\nV1,张三,13800000001,男,1990-01-01\n",
        encoding="utf-8",
    )
    code, report = cli("import", "customers", str(members))
    assert code == 0 and report["preset"] == "generic", report
    assert Customer.objects.get(external_id="V1").phone == "13800000001"
    # an order list in snake_case, as WooCommerce's is
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "order_id,customer_id,order_date,status,amount\nO1,V1,2024-01-01,completed,9.50\n",
        encoding="utf-8",
    )
    code, report = cli("import", "transactions", str(orders))
    assert code == 0 and report["preset"] == "generic", report
    assert Order.objects.get(external_id="O1").customer.external_id == "V1"
