"""Stored analysis runs: import a file, analyse the store, compare with the file analysis."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from patron.cli import app
from patron.insights.models import AnalysisRun, CustomerScore, RunStatus
from patron.insights.selectors import analysis_run_migration, store_transactions

# The analysis reads the store on its own connection, so the data must be committed.
pytestmark = pytest.mark.django_db(transaction=True)
runner = CliRunner()


def invoke(*args: str) -> dict:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, f"{result.output} {result.exception!r}"
    return json.loads(result.stdout)


@pytest.fixture
def shop_file(tmp_path: Path) -> Path:
    """Orders of 14 customers over a year, with costs, a return and a cancelled order."""
    rows = ["order_id,customer_id,date,amount,cost,status"]
    day = dt.date(2024, 1, 3)
    for i in range(60):
        customer = f"C{(i * 5) % 14:03d}"
        amount = f"{(i * 37) % 200 + 5.25:.2f}"
        cost = f"{(i * 37) % 200 * 0.6:.2f}" if i % 3 else ""
        status = "completed"
        if i == 17:
            status = "returned"  # positive in the file, stored negative
        if i == 23:
            status = "cancelled"  # left out of the analysis
        rows.append(
            f"O{i:04d},{customer},{day + dt.timedelta(days=6 * i)},{amount},{cost},{status}"
        )
    path = tmp_path / "orders.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_store_run_is_kept_and_equals_the_file_analysis(shop_file: Path, tmp_path: Path) -> None:
    # given the file imported into the store
    report = invoke("import", "transactions", str(shop_file))
    assert report["inserted"] == 60

    # when the store is analysed, and the same file is analysed without the database
    stored = invoke(
        "analyze", "--margin-rate", "0.3", "--cost-per-order", "1.5", "--out", str(tmp_path / "db")
    )
    from_file = invoke(
        "analyze",
        "--source",
        str(shop_file),
        "--margin-rate",
        "0.3",
        "--cost-per-order",
        "1.5",
        "--out",
        str(tmp_path / "file"),
    )

    # then a completed run with a score per customer is kept
    run = AnalysisRun.objects.get(pk=stored["run"])
    assert run.status == RunStatus.COMPLETED
    assert run.customers == 14 == CustomerScore.objects.filter(run=run).count()
    assert run.as_of == dt.date(2024, 1, 3) + dt.timedelta(days=6 * 59 + 1)
    assert run.code_version and run.settings["profit"]["per_order"] == 1.5
    assert run.figures["customers"] == 14 and run.figures["kpis"]
    # and the stored scores, the store's CSV and the file's CSV are the same numbers
    db_csv = pd.read_csv(tmp_path / "db" / "customers.csv", dtype={"customer_id": str})
    file_csv = pd.read_csv(tmp_path / "file" / "customers.csv", dtype={"customer_id": str})
    pd.testing.assert_frame_equal(db_csv, file_csv)
    db_summary = json.loads((tmp_path / "db" / "summary.json").read_text())
    file_summary = json.loads((tmp_path / "file" / "summary.json").read_text())
    for key in ("customers", "revenue", "top20_revenue_share", "gini", "tiers", "segments"):
        assert db_summary[key] == file_summary[key], key
    assert from_file["summary"]["value_basis"] == "profit"
    scores = {
        s.customer.external_id: s
        for s in CustomerScore.objects.filter(run=run).select_related("customer")
    }
    for row in file_csv.itertuples():
        score = scores[row.customer_id]
        assert (score.frequency, score.segment, score.value_tier) == (
            row.frequency,
            row.segment,
            row.value_tier,
        )
        assert float(score.monetary) == row.monetary and float(score.profit) == row.profit
    # the return reduced revenue, the cancelled order is not there
    frame = pd.read_csv(shop_file, dtype=str)
    amounts = frame["amount"].astype(float)
    expected = (
        amounts[frame["status"] == "completed"].sum() - amounts[frame["status"] == "returned"].sum()
    )
    assert db_summary["revenue"] == pytest.approx(expected, abs=0.001)


def test_two_runs_give_a_migration_matrix(shop_file: Path) -> None:
    # given two runs: half a year in, and at the end
    invoke("import", "transactions", str(shop_file))
    first = AnalysisRun.objects.get(pk=invoke("analyze", "--as-of", "2024-07-01")["run"])
    second = AnalysisRun.objects.get(pk=invoke("analyze")["run"])

    # when the tiers and segments are compared
    tiers = analysis_run_migration(before=first, after=second)
    segments = analysis_run_migration(before=first, after=second, column="segment")

    # then every customer of either run is counted once
    for migration in (tiers, segments):
        counts = migration.counts
        assert int(counts.drop(index="(new)").to_numpy().sum()) == first.customers
        assert int(counts.drop(columns="(lost)").to_numpy().sum()) == second.customers
        assert migration.new == second.customers - first.customers  # nobody is lost here
        assert migration.upgrades + migration.downgrades + migration.same == first.customers
    assert tiers.counts.loc["(new)"].sum() == tiers.new


def test_store_table_reads_the_same_on_sqlite_and_duckdb(shop_file: Path) -> None:
    import ibis

    from patron.analytics.summary import customer_summary

    invoke("import", "transactions", str(shop_file))
    as_of = dt.date(2025, 1, 1)
    store = customer_summary(store_transactions(), as_of=as_of).execute()
    rows = store_transactions().execute()
    rows[["amount", "cost"]] = rows[["amount", "cost"]].astype(float)  # Decimal on PostgreSQL
    schema = {
        "customer_id": "string",
        "order_date": "date",
        "order_id": "string",
        "amount": "float64",
        "cost": "float64",
        "is_return": "boolean",
    }
    copy = ibis.duckdb.connect().create_table("orders", ibis.memtable(rows, schema=schema))
    duck = customer_summary(copy, as_of=as_of).execute()
    key = ["customer_id"]
    pd.testing.assert_frame_equal(
        store.sort_values(key).reset_index(drop=True),
        duck.sort_values(key).reset_index(drop=True),
        check_dtype=False,
    )
