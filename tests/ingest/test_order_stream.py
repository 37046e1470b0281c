"""A first load into an empty store streams orders as it reads (PostgreSQL): its failures
leave nothing behind, and its results equal the staged merge's.

On SQLite the same tests run the staged path, whose results they also check."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from test_import_transactions import _index_names, _orders_csv, invoke

from patron.customers.models import Customer
from patron.sales.models import Order, OrderStatus

pytestmark = pytest.mark.django_db(transaction=True)


def _column_defaults() -> dict[str, object]:
    with connection.cursor() as cursor:
        columns = connection.introspection.get_table_description(cursor, Order._meta.db_table)
    return {c.name: c.default for c in columns}


def _amount(i: int) -> Decimal:
    return Decimal(f"{i % 97}.5")


def test_a_bad_row_in_a_later_batch_leaves_nothing_streamed(tmp_path: Path) -> None:
    # given 60,000 orders whose row 55,000 (the second batch) has no valid amount
    before = _index_names()
    path = _orders_csv(tmp_path / "orders.csv", 60_000)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[55_000] = lines[55_000].rsplit(",", 1)[0] + ",abc"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    # when it is imported all-or-nothing
    code, report = invoke("import", "transactions", str(path))

    # then the row is named, and no order or customer of the first batch stayed
    assert code != 0 and report["rejected"] == 1
    assert report["errors"][0]["line"] == 55_001
    assert Order.objects.count() == 0 and Customer.objects.count() == 0
    assert _index_names() == before


def test_a_failed_write_stops_the_import_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from patron.ingest import order_stream

    # given a stream whose second write fails on the database thread
    written = []
    real_write = order_stream.OrderStream._write

    def failing_write(self, table):  # type: ignore[no-untyped-def]
        if written:
            raise RuntimeError("disk full (simulated)")
        written.append(table.num_rows)
        real_write(self, table)

    monkeypatch.setattr(order_stream.OrderStream, "_write", failing_write)
    before = _index_names()
    path = _orders_csv(tmp_path / "orders.csv", 60_000)

    # when the file is imported
    code, output = invoke_error("import", "transactions", str(path))

    # then on PostgreSQL (which streams) the error stops the import and nothing stays;
    # SQLite stages and merges, and never calls the stream
    if connection.vendor == "postgresql":
        assert code != 0 and "disk full (simulated)" in output, output
        assert Order.objects.count() == 0 and Customer.objects.count() == 0
        assert _index_names() == before
    else:
        assert code == 0 and Order.objects.count() == 60_000


def invoke_error(*args: str) -> tuple[int, str]:
    from typer.testing import CliRunner

    from patron.cli import app

    result = CliRunner().invoke(app, [*args, "--json"])
    return result.exit_code, f"{result.output} {result.exception!r}"


def test_customers_already_in_the_store_keep_their_records(tmp_path: Path) -> None:
    # given three of the file's 6,000 customers already in the store, with names
    for i in (0, 1, 5999):
        Customer.objects.create(external_id=f"C{i:05d}", name=f"Known {i}")
    path = _orders_csv(tmp_path / "orders.csv", 60_000)

    # when the orders are imported
    code, report = invoke("import", "transactions", str(path))

    # then 5,997 customers are new and the known ones hold their orders
    assert code == 0, report
    assert report["customers_created"] == 5_997
    assert Customer.objects.count() == 6_000
    known = Customer.objects.get(external_id="C05999")
    assert known.name == "Known 5999"
    expected = [_amount(i) for i in range(60_000) if i % 6000 == 5999]
    assert sorted(known.orders.values_list("amount", flat=True)) == sorted(expected)


def test_streamed_orders_equal_the_file(tmp_path: Path) -> None:
    # given 120,000 orders (three batches) with negative amounts (returns) and costs
    path = tmp_path / "orders.csv"
    with path.open("w", encoding="utf-8") as f:
        f.write("order_id,customer_id,date,amount,cost,store\n")
        for i in range(120_000):
            amount = f"-{i % 50}.25" if i % 1000 == 0 else f"{i % 97}.05"
            cost = "" if i % 3 else f"{i % 11}.10"
            day = f"2024-03-0{1 + i % 9} 09:30:00"
            f.write(f"O{i:06d},C{i % 9000:05d},{day},{amount},{cost},S{i % 4}\n")
    defaults = _column_defaults()

    code, report = invoke("import", "transactions", str(path))

    assert code == 0, report
    assert report["inserted"] == Order.objects.count() == 120_000
    sample = Order.objects.get(external_id="O001000")
    assert (sample.amount, sample.status, sample.store) == (
        Decimal("-0.25"),
        OrderStatus.RETURNED,
        "S0",
    )
    assert Order.objects.get(external_id="O000003").cost == Decimal("3.10")
    assert Order.objects.get(external_id="O000004").cost is None
    # and the columns the file lacks hold one value each (on PostgreSQL from defaults set
    # for the stream), and the table's defaults are as they were
    assert set(Order.objects.values_list("source", "channel", "raw_status").distinct()) == {
        ("default", "", "")
    }
    assert Order.objects.values("created_at").distinct().count() == 1
    assert _column_defaults() == defaults
    expected = sum(
        Decimal(f"-{i % 50}.25") if i % 1000 == 0 else Decimal(f"{i % 97}.05")
        for i in range(120_000)
    )
    assert sum(Order.objects.values_list("amount", flat=True)) == expected
    # and ids keep file order, and new orders after the load still get fresh keys
    first, last = Order.objects.get(external_id="O000000"), Order.objects.get(external_id="O119999")
    assert last.pk - first.pk == 119_999
    later = Order.objects.create(
        external_id="after",
        customer=first.customer,
        ordered_at=first.ordered_at,
        ordered_on=first.ordered_on,
        amount=Decimal("1.00"),
    )
    assert later.pk > last.pk
    # and a second import of the file changes nothing
    code, again = invoke("import", "transactions", str(path))
    assert (code, again["inserted"], again["unchanged"]) == (0, 0, 120_000)
