from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from patron.cli import app
from patron.customers.models import Consent, Customer
from patron.sales.models import Product

pytestmark = pytest.mark.django_db
runner = CliRunner()


def invoke(*args: str) -> tuple[int, dict]:
    result = runner.invoke(app, [*args, "--json"])
    return result.exit_code, json.loads(result.stdout)


def test_customer_file_in_gbk_with_chinese_headers(tmp_path: Path) -> None:
    path = tmp_path / "会员.csv"
    path.write_text(
        "会员号,姓名,手机号,性别,生日,省份,城市,职业,注册日期,接收短信,爱吃辣\n"
        "V1,张三,+86 138-1234-5678,男,1990-05-01,广东省,深圳市,学生,2023-01-02,是,是\n"
        "V2,李四,13900000000,女,,广东省,广州市,教师,2023-02-03,否,否\n",
        encoding="gbk",
    )
    code, report = invoke("import", "customers", str(path))
    assert code == 0, report
    assert report["inserted"] == 2
    v1 = Customer.objects.get(external_id="V1")
    assert (v1.name, v1.phone, v1.gender, v1.birth_date) == (
        "张三",
        "13812345678",
        "m",
        date(1990, 5, 1),
    )
    assert (v1.region, v1.city, v1.occupation) == ("广东省", "深圳市", "学生")
    assert Consent.objects.get(customer=v1, channel="sms").granted is True
    assert v1.attributes == {"爱吃辣": "是"}  # an unknown column is kept as an answer
    assert Consent.objects.get(customer__external_id="V2", channel="sms").granted is False
    # the same file again changes nothing; a changed city is one update
    code, again = invoke("import", "customers", str(path))
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, 2)
    path.write_text(path.read_text(encoding="gbk").replace("广州市", "佛山市"), encoding="gbk")
    code, changed = invoke("import", "customers", str(path))
    assert (changed["inserted"], changed["updated"], changed["unchanged"]) == (0, 1, 1)


def test_customer_file_with_a_bad_phone_imports_nothing(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("customer_id,name,phone\nA,Ann,13812345678\nB,Bob,not-a-phone\n")
    code, report = invoke("import", "customers", str(path))
    assert code == 1
    assert [(e["line"], e["column"]) for e in report["errors"]] == [(3, "phone")]
    assert Customer.objects.count() == 0


def test_birthdays_typed_in_another_format_are_read_in_theirs(tmp_path: Path) -> None:
    # given a member list whose birthdays were typed two ways, and one that is no date
    path = tmp_path / "会员.csv"
    path.write_text(
        "会员号,姓名,生日,注册日期\n"
        "V1,张三,1990-01-02,2023-01-02\n"
        "V2,李四,1985/3/4,2023年2月3日\n"
        "V3,王五,1979-12-30,2023-03-04\n"
        "V4,赵六,不详,2023-03-05\n",
        encoding="utf-8",
    )

    # when
    code, report = invoke("import", "customers", str(path))

    # then only the cell that is no date is an error, and nothing is imported
    assert code == 1
    assert [(e["line"], e["column"], e["value"]) for e in report["errors"]] == [(5, "生日", "不详")]
    assert Customer.objects.count() == 0
    # and without it every date is read as written
    path.write_text(path.read_text(encoding="utf-8").replace("不详", ""), encoding="utf-8")
    code, report = invoke("import", "customers", str(path))
    assert code == 0, report["errors"]
    dates = dict(Customer.objects.values_list("external_id", "birth_date"))
    assert dates == {
        "V1": date(1990, 1, 2),
        "V2": date(1985, 3, 4),
        "V3": date(1979, 12, 30),
        "V4": None,
    }
    assert Customer.objects.get(external_id="V2").acquired_on == date(2023, 2, 3)


def test_products_from_excel(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["商品编码", "商品名称", "分类", "单价", "成本"])
    sheet.append(["S1", "宫保鸡丁", "肉类菜品", 38, 15.5])
    sheet.append(["S2", "米饭", "主食", "2.00", "0.40"])
    path = tmp_path / "products.xlsx"
    book.save(path)
    code, report = invoke("import", "products", str(path))
    assert code == 0 and report["inserted"] == 2
    s1 = Product.objects.get(sku="S1")
    assert (s1.name, s1.category, s1.unit_price, s1.unit_cost) == (
        "宫保鸡丁",
        "肉类菜品",
        Decimal("38.00"),
        Decimal("15.50"),
    )
