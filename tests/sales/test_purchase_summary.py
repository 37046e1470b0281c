"""The maintained purchase summary (sales.PurchaseSummary) equals a fresh aggregate of the
orders after every kind of write: file imports, the orders API (new orders, a status change,
a refund and a return), a re-import that changes statuses, amounts and a customer, orders
saved and deleted one by one (the admin's paths), a customer merge; and ``patron segments
rebuild-purchases`` restores it when it was damaged."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.utils import timezone
from typer.testing import CliRunner

from patron.accounts.services import user_role_set
from patron.cli.app import app as cli
from patron.core.services import token_create
from patron.customers.models import Customer
from patron.customers.services import customer_merge
from patron.ingest.importer import ImportOptions, import_file
from patron.ingest.mapping import EntityKind
from patron.sales.models import Order, PurchaseSummary

PAID = ("completed", "open", "refunded")


def _fresh() -> dict[str, tuple[Any, ...]]:
    """The summary computed here from the orders, row by row (the independent reference)."""
    rows: dict[str, list[Any]] = {}
    for o in Order.objects.select_related("customer"):
        if o.status not in PAID or o.amount <= 0:
            continue
        row = rows.setdefault(o.customer.external_id, [o.ordered_on, o.ordered_on, 0, Decimal(0)])
        row[0], row[1] = min(row[0], o.ordered_on), max(row[1], o.ordered_on)
        row[2] += 1
        row[3] += o.amount
    return {k: tuple(v) for k, v in rows.items()}


def _kept() -> dict[str, tuple[Any, ...]]:
    return {
        s.customer.external_id: (
            s.first_purchase_on,
            s.last_purchase_on,
            s.orders,
            Decimal(str(s.spend)).quantize(Decimal("0.01")),
        )
        for s in PurchaseSummary.objects.select_related("customer")
    }


def _check() -> None:
    assert _kept() == _fresh()


def _import(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    report = import_file(path, kind=EntityKind.TRANSACTIONS, options=ImportOptions())
    assert report.committed and not report.errors, report.errors


@pytest.fixture
def api() -> Client:
    user = get_user_model().objects.create_user("orders-api", password="x-long-password-1")
    user_role_set(user=user, role="admin")
    _, token = token_create(username="orders-api")
    return Client(headers={"Authorization": f"Bearer {token}"})


def _post(api: Client, orders: list[dict[str, Any]], source: str = "pos") -> None:
    response = api.post(
        "/api/v1/orders/batch",
        {"source": source, "orders": orders},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content


@pytest.mark.django_db(transaction=True)
def test_the_summary_equals_the_orders_after_every_kind_of_write(
    tmp_path: Path, api: Client
) -> None:
    # given a file import of orders for four customers (two with cancelled orders only)
    _import(
        tmp_path,
        "orders.csv",
        "order_id,customer_id,ordered_at,amount,status\n"
        "1,c1,2024-01-02,10.10,completed\n2,c1,2024-03-05,20.20,completed\n"
        "3,c2,2024-02-01,99.99,completed\n4,c3,2024-02-02,5,cancelled\n"
        "5,c4,2024-04-01,7.50,cancelled\n6,c2,2023-12-24,0.01,completed\n",
    )
    _check()
    assert set(_kept()) == {"c1", "c2"}
    # when the API adds orders (a new customer, one with lines) ...
    _post(
        api,
        [
            {"order_id": "P1", "customer_id": "c3", "ordered_at": "2024-05-01T10:00:00+08:00",
             "amount": "30.00"},
            {"order_id": "P2", "customer_id": "c5", "ordered_at": "2024-05-02T10:00:00+08:00",
             "lines": [{"sku": "S1", "quantity": 2, "amount": "12.00"},
                       {"sku": "S2", "amount": "3.30"}]},
        ],
    )  # fmt: skip
    _check()
    # ... changes an order's status (paid -> cancelled), refunds one and records a return
    _post(
        api,
        [
            {"order_id": "P1", "customer_id": "c3", "ordered_at": "2024-05-01T10:00:00+08:00",
             "amount": "30.00", "status": "cancelled"},
            {"order_id": "R1", "customer_id": "c5", "ordered_at": "2024-05-09T10:00:00+08:00",
             "amount": "-3.30", "status": "returned", "original_order_id": "P2"},
        ],
    )  # fmt: skip
    _check()
    assert "c3" not in _kept()
    # ... moves orders between customers (one with lines) and changes a status, in one batch
    _post(
        api,
        [
            {"order_id": "P1", "customer_id": "c1", "ordered_at": "2024-05-01T10:00:00+08:00",
             "amount": "30.00", "status": "completed"},
            {"order_id": "P2", "customer_id": "c3", "ordered_at": "2024-05-02T10:00:00+08:00",
             "lines": [{"sku": "S1", "quantity": 2, "amount": "12.00"}]},
        ],
    )  # fmt: skip
    _check()
    assert _kept()["c1"][2] == 3 and "c5" not in _kept() and _kept()["c3"][3] == Decimal("12")
    _post(
        api,
        [
            {"order_id": "P1", "customer_id": "c3", "ordered_at": "2024-05-01T10:00:00+08:00",
             "amount": "30.00", "status": "refunded"},
            {"order_id": "P2", "customer_id": "c5", "ordered_at": "2024-05-02T10:00:00+08:00",
             "lines": [{"sku": "S1", "quantity": 2, "amount": "12.00"},
                       {"sku": "S2", "amount": "3.30"}]},
        ],
    )  # fmt: skip
    _check()
    # and a file re-import changes statuses, an amount and the customer of an order
    _import(
        tmp_path,
        "again.csv",
        "order_id,customer_id,ordered_at,amount,status\n"
        "1,c1,2024-01-02,10.10,cancelled\n2,c4,2024-03-05,20.20,completed\n"
        "3,c2,2024-02-01,50.00,completed\n4,c3,2024-02-02,5,completed\n"
        "5,c4,2024-04-01,7.50,completed\n6,c2,2023-12-24,0.01,cancelled\n",
    )
    _check()
    assert Order.objects.get(external_id="2").customer.external_id == "c4"
    assert "c1" not in _kept() and _kept()["c4"][2] == 2
    # when single orders are saved, moved and deleted through the ORM and the admin
    c1 = Customer.objects.get(external_id="c1")
    c5 = Customer.objects.get(external_id="c5")
    now = timezone.now()
    lone = Order.objects.create(
        external_id="M1", customer=c1, ordered_at=now, ordered_on=now.date(), amount=Decimal("4")
    )
    _check()
    lone.customer = c5
    lone.save()
    _check()
    order_admin = admin.site._registry[Order]
    order_admin.delete_model(None, lone)
    _check()
    order_admin.delete_queryset(None, Order.objects.filter(external_id__in=["3", "4"]))
    _check()
    # and two customers are merged
    customer_merge(keep="c4", other="c2")
    _check()


def _damage(external_id: str) -> None:
    """A wrong summary row no refresh of this customer would leave standing."""
    PurchaseSummary.objects.filter(customer__external_id=external_id).update(orders=99)


@pytest.mark.django_db(transaction=True)
def test_an_update_refreshes_only_the_customers_of_its_orders(tmp_path: Path, api: Client) -> None:
    # given orders of five customers, and the summary of a bystander damaged by hand
    _post(
        api,
        [
            {"order_id": f"U{n}", "customer_id": f"u{n}", "amount": "10.00",
             "ordered_at": f"2024-06-0{n}T10:00:00+08:00"}
            for n in range(1, 6)
        ],
    )  # fmt: skip
    _check()
    _damage("u5")
    # when one order is updated through the API: it moves from u1 to u2 and is cancelled
    _post(
        api,
        [{"order_id": "U1", "customer_id": "u2", "amount": "10.00", "status": "cancelled",
          "ordered_at": "2024-06-01T10:00:00+08:00"}],
    )  # fmt: skip
    # then its customers, the one it left and the one it joined, are refreshed ...
    kept, fresh = _kept(), _fresh()
    assert "u1" not in kept and kept["u2"] == fresh["u2"]
    assert {k: v for k, v in kept.items() if k != "u5"} == {
        k: v for k, v in fresh.items() if k != "u5"
    }
    # ... and nobody else: the bystander's damage stands
    assert kept["u5"][2] == 99
    # when a file re-import moves an order from u3 to u4 and restates one of u4's
    _damage("u2")
    path = tmp_path / "moved.csv"
    path.write_text(
        "order_id,customer_id,ordered_at,amount\n"
        "U3,u4,2024-06-03T10:00:00+08:00,10.00\nU4,u4,2024-06-04T10:00:00+08:00,10.00\n",
        encoding="utf-8",
    )
    report = import_file(path, kind=EntityKind.TRANSACTIONS, options=ImportOptions(source="pos"))
    assert report.committed and not report.errors and report.updated >= 1
    # then u3 and u4 are refreshed and the two damaged rows are left alone
    kept, fresh = _kept(), _fresh()
    assert "u3" not in kept and kept["u4"] == fresh["u4"] and kept["u4"][2] == 2
    assert kept["u2"][2] == 99 and kept["u5"][2] == 99


@pytest.mark.django_db(transaction=True)
def test_the_rebuild_command_restores_a_damaged_summary(tmp_path: Path) -> None:
    # given orders imported and a summary damaged by hand
    _import(
        tmp_path,
        "orders.csv",
        "order_id,customer_id,ordered_at,amount\n1,d1,2024-01-02,10\n2,d2,2024-01-03,5\n",
    )
    PurchaseSummary.objects.filter(customer__external_id="d1").update(orders=9)
    PurchaseSummary.objects.filter(customer__external_id="d2").delete()
    assert _kept() != _fresh()
    # when the rebuild runs
    result = CliRunner().invoke(cli, ["segments", "rebuild-purchases"])
    # then the summary is the orders' again
    assert result.exit_code == 0, result.output
    _check()


@pytest.mark.django_db(transaction=True)
def test_a_first_import_rebuilds_the_summary_with_its_index_and_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given an empty order table, a customer known without orders whose summary row is
    # stale, and a threshold that makes any first import rebuild the summary's indexes
    monkeypatch.setattr("patron.ingest.indexes.MIN_ROWS", 1)
    stale = Customer.objects.create(external_id="s0")
    PurchaseSummary.objects.create(
        customer=stale,
        first_purchase_on=timezone.localdate(),
        last_purchase_on=timezone.localdate(),
        orders=3,
        spend=Decimal("9.99"),
    )
    table = PurchaseSummary._meta.db_table
    with connection.cursor() as cursor:
        before = connection.introspection.get_constraints(cursor, table)
    # when a file of whole orders is imported (streamed on PostgreSQL)
    status = ("cancelled", "completed", "completed", "completed", "completed")
    rows = "".join(
        f"{i},f{i % 7},2024-0{1 + i % 9}-1{i % 10},{i}.25,{status[i % 5]}\n" for i in range(1, 60)
    )
    _import(tmp_path, "orders.csv", "order_id,customer_id,ordered_at,amount,status\n" + rows)
    # then the summary is the orders' (the stale row gone), and its index and foreign key
    # are back
    _check()
    assert "s0" not in _kept()
    with connection.cursor() as cursor:
        after = connection.introspection.get_constraints(cursor, table)
    assert {k: (v["columns"], v["index"], v["foreign_key"]) for k, v in after.items()} == {
        k: (v["columns"], v["index"], v["foreign_key"]) for k, v in before.items()
    }
