"""A store holding a row dated 9999-12-31 (stored before the importer's date window) still
analyses: the row is left out, never an OverflowError for the whole run."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from patron.cli import app
from patron.customers.models import Customer
from patron.sales.models import Order

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_analysis_leaves_out_a_poisoned_row(tmp_path: Path) -> None:
    rows = [f"O{i},C{i % 20},2024-{1 + i % 12:02d}-{1 + i % 28:02d},{10 + i}" for i in range(200)]
    path = tmp_path / "orders.csv"
    path.write_text("order_id,customer_id,ordered_at,amount\n" + "\n".join(rows) + "\n")
    runner = CliRunner()
    assert runner.invoke(app, ["import", "transactions", str(path)]).exit_code == 0
    clean = json.loads(runner.invoke(app, ["analyze", "--no-kpis", "--json"]).stdout)
    # given a poisoned order written straight into the store
    customer = Customer.objects.get(external_id="C1")
    Order.objects.create(
        source="legacy",
        external_id="X",
        customer=customer,
        ordered_at=dt.datetime(9999, 12, 31, tzinfo=dt.UTC),
        ordered_on=dt.date(9999, 12, 31),
        amount=Decimal("5.00"),
    )
    # when the store is analysed again
    result = runner.invoke(app, ["analyze", "--no-kpis", "--json"])
    # then it runs, as of the same day, without the poisoned row
    assert result.exit_code == 0, result.output
    again = json.loads(result.stdout)
    assert again["summary"]["as_of"] == clean["summary"]["as_of"]
    assert again["summary"]["revenue"] == clean["summary"]["revenue"]
