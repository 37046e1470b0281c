"""Cells longer than the store keeps reject their row with a clear error, on every database
(PostgreSQL would otherwise fail the whole import; SQLite would keep them whole)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.apps import apps

from patron.ingest.mapping import FIELDS, MAX_LENGTHS, EntityKind
from patron.sales.models import Order

pytestmark = pytest.mark.django_db

# Where each limited field is kept: (app label, model, field).
STORED_IN = {
    EntityKind.TRANSACTIONS: {
        "customer_id": ("customers", "Customer", "external_id"),
        "order_id": ("sales", "Order", "external_id"),
        "original_order_id": ("sales", "Order", "external_id"),
        "store": ("sales", "Order", "store"),
        "channel": ("sales", "Order", "channel"),
        "status": ("sales", "Order", "raw_status"),
        "sku": ("sales", "Product", "sku"),
        "product_name": ("sales", "Product", "name"),
        "category": ("sales", "Product", "category"),
    },
    EntityKind.CUSTOMERS: {
        name: ("customers", "Customer", name)
        for name in MAX_LENGTHS[EntityKind.CUSTOMERS]
        if name != "external_id"
    }
    | {"external_id": ("customers", "Customer", "external_id")},
    EntityKind.PRODUCTS: {name: ("sales", "Product", name) for name in ("sku", "name", "category")},
}


def test_the_limits_are_the_models_max_lengths() -> None:
    for kind, limits in MAX_LENGTHS.items():
        assert limits.keys() == STORED_IN[kind].keys(), kind
        for name, limit in limits.items():
            label, model, field = STORED_IN[kind][name]
            stored = apps.get_model(label, model)._meta.get_field(field).max_length
            assert limit == stored, (kind, name, limit, stored)
        assert {f.name: f.max_length for f in FIELDS[kind] if f.max_length} == limits


def test_too_long_cells_are_named_and_nothing_is_imported(cli, tmp_path: Path) -> None:
    # given a file whose rows 3-5 carry a 65-character order id, customer id and store
    path = tmp_path / "orders.csv"
    path.write_text(
        "order_id,customer_id,date,amount,store\n"
        f"O1,C1,2024-01-01,10.00,{'S' * 100}\n"
        f"{'O' * 65},C2,2024-01-02,11.00,Main\n"
        f"O3,{'客' * 65},2024-01-03,12.00,Main\n"
        f"O4,C4,2024-01-04,13.00,{'店' * 101}\n"
        f"{'O' * 64},C5,2024-01-05,14.00,Main\n",
        encoding="utf-8",
    )

    # when it is imported all-or-nothing
    code, report = cli("import", "transactions", str(path))

    # then the three rows are named with what was expected, and nothing is in
    assert code != 0
    assert [(e["line"], e["column"], e["code"]) for e in report["errors"]] == [
        (3, "order_id", "row.too_long"),
        (4, "customer_id", "row.too_long"),
        (5, "store", "row.too_long"),
    ]
    assert report["errors"][0]["message"] == "too long: expected at most 64 characters"
    assert report["errors"][2]["message"] == "too long: expected at most 100 characters"
    assert Order.objects.count() == 0

    # and with --skip-bad the two rows within the limits (at them, exactly) are in
    code, report = cli("import", "transactions", str(path), "--skip-bad")
    assert code == 0 and report["inserted"] == 2 and report["rejected"] == 3
    assert Order.objects.get(external_id="O" * 64).amount == 14
    assert Order.objects.get(external_id="O1").store == "S" * 100


def test_a_too_long_customer_name_is_rejected(cli, tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(
        f"customer_id,name,credit_rating\nC1,{'名' * 201},A\nC2,Li,{'A' * 17}\n", encoding="utf-8"
    )
    code, report = cli("import", "customers", str(path))
    assert code != 0
    assert [(e["line"], e["column"]) for e in report["errors"]] == [
        (2, "name"),
        (3, "credit_rating"),
    ]


def test_a_database_refusal_is_one_clear_message_and_nothing_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import DataError
    from typer.testing import CliRunner

    from patron.cli import app
    from patron.customers.models import Customer
    from patron.ingest import writers

    # given a database that refuses the merge (validation leaves it nothing it knows of)
    def refuse(self, **kwargs):  # type: ignore[no-untyped-def]
        raise DataError('value too long for type character varying(64)\nCONTEXT:  COPY "x"')

    monkeypatch.setattr(writers.TransactionStage, "merge", refuse)
    path = tmp_path / "orders.csv"
    path.write_text("order_id,customer_id,date,amount\nO1,C1,2024-01-01,10.00\n", encoding="utf-8")

    # when the file is imported
    result = CliRunner().invoke(app, ["import", "transactions", str(path)])

    # then the command says so in one line and exits 1, with nothing imported
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "The database refused the import, so nothing of the file was imported: value too " \
           "long for type character varying(64)" in " ".join(result.output.split())  # fmt: skip
    assert "Traceback" not in result.output
    assert Order.objects.count() == 0 and Customer.objects.count() == 0
