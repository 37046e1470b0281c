"""patron loyalty ...: enrol, adjust (reason required), statement, expire, reevaluate, report."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from patron.cli.app import app
from patron.customers.models import Customer
from patron.loyalty.models import Member

pytestmark = pytest.mark.django_db(transaction=True)
runner = CliRunner()


def test_enrol_adjust_statement_report() -> None:
    Customer.objects.create(external_id="C1", name="张三")
    r = runner.invoke(app, ["loyalty", "enrol", "--customer", "C1", "--json"])
    assert r.exit_code == 0, r.output
    card = json.loads(r.output)["card_number"]
    assert Member.objects.get().card_number == card
    again = runner.invoke(app, ["loyalty", "enrol", "--customer", "C1"])
    assert again.exit_code == 1 and card in again.output
    r = runner.invoke(app, ["loyalty", "adjust", card, "25", "--reason", "welcome gift", "--json"])
    assert r.exit_code == 0 and json.loads(r.output)["points_balance"] == 25
    r = runner.invoke(app, ["loyalty", "adjust", card, "-30", "--reason", "too much"])
    assert r.exit_code == 1 and "25" in r.output
    r = runner.invoke(app, ["loyalty", "statement", card, "--json"])
    assert [e["points"] for e in json.loads(r.output)["entries"]] == [25]
    bad = card[:-1] + str((int(card[-1]) + 1) % 10)
    r = runner.invoke(app, ["loyalty", "statement", bad])
    assert r.exit_code == 1 and "check digit" in r.output
    assert runner.invoke(app, ["loyalty", "expire", "--json"]).exit_code == 0
    assert runner.invoke(app, ["loyalty", "reevaluate", "--json"]).exit_code == 0
    r = runner.invoke(app, ["loyalty", "report", "--json"])
    assert r.exit_code == 0 and json.loads(r.output)["members"] == 1
