"""Importing transaction files end to end, through the `patron` command, on a real database."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from patron.cli import app
from patron.sales.models import Order, OrderLine, Product

CDNOW = Path(pd.__file__).parent.parent / "lifetimes" / "datasets" / "CDNOW_master.txt"

pytestmark = pytest.mark.django_db
runner = CliRunner()


def invoke(*args: str) -> tuple[int, dict]:
    result = runner.invoke(app, [*args, "--json"])
    try:
        return result.exit_code, json.loads(result.stdout)
    except json.JSONDecodeError:
        raise AssertionError(
            f"not JSON (exit {result.exit_code}): {result.output} {result.exception!r}"
        ) from None


@pytest.fixture(scope="module")
def cdnow_gbk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real CDNOW log (69,659 rows with duplicate rows and zero amounts) as a GBK CSV
    with Chinese headers, the way a Chinese POS exports it."""
    frame = pd.read_csv(
        CDNOW,
        sep=r"\s+",
        header=None,
        skiprows=1,
        dtype=str,
        names=["客户编号", "交易日期", "数量", "金额"],
    )
    path = tmp_path_factory.mktemp("cdnow") / "交易记录.csv"
    frame[["客户编号", "交易日期", "金额"]].to_csv(path, index=False, encoding="gbk")
    return path


def test_gbk_cdnow_imports_every_row_once_and_revenue_matches_pandas(cdnow_gbk: Path) -> None:
    # given the file's own total, computed independently
    frame = pd.read_csv(cdnow_gbk, encoding="gbk", dtype={"客户编号": str, "金额": str})
    expected_total = sum((Decimal(v) for v in frame["金额"]), Decimal("0"))
    assert frame.duplicated().sum() > 100 and (frame["金额"].astype(float) == 0).sum() > 50

    # when it is imported
    code, report = invoke("import", "transactions", str(cdnow_gbk))

    # then every row is one order
    assert code == 0, report
    assert report["encoding"] in {"gb18030", "gbk"}
    assert report["date_format"] == "%Y%m%d"
    assert (report["read"], report["inserted"], report["rejected"]) == (len(frame), len(frame), 0)
    code, stats = invoke("stats")
    assert stats["orders"] == len(frame) == 69_659
    assert stats["customers"] == frame["客户编号"].nunique()
    assert Decimal(stats["revenue"]) == expected_total

    # and a second import adds nothing
    code, again = invoke("import", "transactions", str(cdnow_gbk))
    assert code == 0
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, len(frame))
    code, stats_again = invoke("stats")
    assert stats_again == stats


def test_identical_rows_are_separate_purchases_and_not_doubled(tmp_path: Path) -> None:
    path = tmp_path / "visits.csv"
    path.write_text(
        "customer_id,date,amount\nA,2024-03-01,10.00\nA,2024-03-01,10.00\nA,2024-03-01,10.00\n"
        "B,2024-03-02,0\n",
        encoding="utf-8",
    )
    code, first = invoke("import", "transactions", str(path))
    assert code == 0 and first["inserted"] == 4
    code, second = invoke("import", "transactions", str(path))
    assert (second["inserted"], second["unchanged"]) == (0, 4)
    # one more identical row in a later export is one more purchase, the others match
    path.write_text(path.read_text() + "A,2024-03-01,10.00\n", encoding="utf-8")
    code, third = invoke("import", "transactions", str(path))
    assert (third["inserted"], third["unchanged"]) == (1, 4)
    assert Order.objects.filter(customer__external_id="A").count() == 4


BAD_FILE = (
    "客户编号,交易日期,金额\n"
    "C1,20240101,12.50\n"
    "C2,2024013X,8.00\n"  # line 3: bad date
    "C3,20240103,abc\n"  # line 4: not a number
    ",20240104,5.00\n"  # line 5: no customer
    "C4,20240105,7.25\n"
)


def test_bad_rows_are_named_and_nothing_is_imported(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(BAD_FILE, encoding="utf-8")
    code, report = invoke("import", "transactions", str(path))
    assert code == 1
    assert report["rejected"] == 3 and report["committed"] is False
    assert [(e["line"], e["column"]) for e in report["errors"]] == [
        (3, "交易日期"),
        (4, "金额"),
        (5, "客户编号"),
    ]
    assert report["errors"][0]["value"] == "2024013X"
    assert Order.objects.count() == 0


def test_skip_bad_imports_good_rows_and_writes_rejects(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(BAD_FILE, encoding="utf-8")
    rejects = tmp_path / "rejects.csv"
    code, report = invoke(
        "import", "transactions", str(path), "--skip-bad", "--rejects", str(rejects)
    )
    assert code == 0 and report["inserted"] == 2 and report["rejected"] == 3
    assert sorted(Order.objects.values_list("customer__external_id", flat=True)) == ["C1", "C4"]
    with rejects.open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["line"]) for r in rows] == [3, 4, 5]
    assert rows[1]["金额"] == "abc" and "amount" in rows[1]["reason"]


def test_item_lines_group_into_orders_with_products(tmp_path: Path) -> None:
    path = tmp_path / "lines.csv"
    path.write_text(
        "会员号,日期,商品编码,商品名称,数量,金额\n"
        "M1,2024-05-01 12:00:00,S1,宫保鸡丁,1,38.00\n"
        "M1,2024-05-01 12:00:00,S2,米饭,2,4.00\n"
        "M1,2024-05-03 18:30:00,S1,宫保鸡丁,1,38.00\n"
        "M2,2024-05-01 12:00:00,S2,米饭,1,2.00\n",
        encoding="utf-8",
    )
    code, report = invoke("import", "transactions", str(path))
    assert code == 0 and report["reading"] == "order lines"
    assert report["inserted"] == 3 and report["lines"] == 4
    first = Order.objects.get(customer__external_id="M1", ordered_on="2024-05-01")
    assert first.amount == Decimal("42.00") and first.lines.count() == 2
    assert Product.objects.get(sku="S1").name == "宫保鸡丁"
    code, again = invoke("import", "transactions", str(path))
    assert (again["inserted"], again["unchanged"]) == (0, 3)
    assert OrderLine.objects.count() == 4


def test_order_ids_group_lines_and_returns_are_negative(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(
        "order_id,customer_id,date,amount,status,original_order_id\n"
        "O1,A,2024-01-05,100.00,completed,\n"
        "O1,A,2024-01-05,20.00,completed,\n"
        "R1,A,2024-01-09,30.00,退货,O1\n"
        "O2,B,2024-01-06,50.00,已取消,\n",
        encoding="utf-8",
    )
    code, report = invoke("import", "transactions", str(path))
    assert code == 0 and report["inserted"] == 3
    o1 = Order.objects.get(external_id="O1")
    r1 = Order.objects.get(external_id="R1")
    assert o1.amount == Decimal("120.00")
    assert (r1.amount, r1.status, r1.original_order) == (Decimal("-30.00"), "returned", o1)
    code, stats = invoke("stats")
    assert Decimal(stats["revenue"]) == Decimal("90.00")  # cancelled O2 is not revenue


def test_changed_row_counts_as_updated(tmp_path: Path) -> None:
    path = tmp_path / "o.csv"
    path.write_text("order_id,customer_id,date,amount\nX1,A,2024-01-05,10.00\n")
    invoke("import", "transactions", str(path))
    path.write_text("order_id,customer_id,date,amount\nX1,A,2024-01-05,12.00\n")
    _, report = invoke("import", "transactions", str(path))
    assert (report["inserted"], report["updated"], report["unchanged"]) == (0, 1, 0)
    assert Order.objects.get(external_id="X1").amount == Decimal("12.00")


def test_missing_required_column_names_the_columns_and_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "o.csv"
    path.write_text("会员卡,日期,金额\nA,2024-01-05,10.00\n", encoding="utf-8")
    result = runner.invoke(app, ["import", "transactions", str(path)])
    assert result.exit_code == 1
    assert "customer_id" in result.output and "会员卡" in result.output
    assert "--map customer_id=" in result.output
    code, report = invoke("import", "transactions", str(path), "--map", "customer_id=会员卡")
    assert code == 0 and report["inserted"] == 1


def _orders_csv(path: Path, rows: int, *, duplicate_of: int | None = None) -> Path:
    """``rows`` orders of 6,000 customers; with ``duplicate_of``, the last row repeats that
    row's order id and customer (another item of the same order: rows of one order naming
    two customers are refused, issue 25)."""
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("order_id,customer_id,date,amount\n")
        for i in range(rows):
            last = duplicate_of is not None and i == rows - 1
            order = duplicate_of if last else i
            customer = (duplicate_of if last else i) % 6000
            f.write(
                f"O{order:06d},C{customer:05d},2024-0{1 + i % 9}-1{i % 10} 10:00:00,{i % 97}.5\n"
            )
    return path


def _index_names() -> set[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Order._meta.db_table)
    return {name for name, c in constraints.items() if c["index"] or c["unique"]}


@pytest.mark.django_db(transaction=True)
def test_a_large_first_import_rebuilds_indexes_and_keeps_orders_unique(tmp_path: Path) -> None:
    # given a first import large enough to drop and rebuild the order indexes
    before = _index_names()
    path = _orders_csv(tmp_path / "orders.csv", 60_000)
    code, report = invoke("import", "transactions", str(path))
    assert code == 0, report
    # then every order is in, once, and every index and unique constraint is back
    assert report["inserted"] == Order.objects.count() == 60_000
    assert _index_names() == before
    expected = sum(Decimal(f"{i % 97}.5") for i in range(60_000))
    assert sum(Order.objects.values_list("amount", flat=True)) == expected
    # and the same file again changes nothing
    code, again = invoke("import", "transactions", str(path))
    assert (code, again["inserted"], again["unchanged"]) == (0, 0, 60_000)


@pytest.mark.django_db(transaction=True)
def test_a_large_first_import_with_a_repeated_order_id_groups_it(tmp_path: Path) -> None:
    # given 60,000 rows whose last one is a second item of order O000007
    path = _orders_csv(tmp_path / "orders.csv", 60_000, duplicate_of=7)
    code, report = invoke("import", "transactions", str(path))
    # then the two rows are one order holding both amounts
    assert code == 0, report
    assert report["inserted"] == Order.objects.count() == 59_999
    order = Order.objects.get(external_id="O000007")
    assert order.amount == Decimal(f"{7 % 97}.5") + Decimal(f"{59_999 % 97}.5")
