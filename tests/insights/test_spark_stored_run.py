"""A stored run on Spark (``PATRON_ANALYSIS_ENGINE=spark``) equals the stored run on DuckDB.

One store (the demo business, plus refunded, partly returned, unpaid, cancelled and
return-only orders, a one-order customer and ties) is analysed twice by
:func:`patron.insights.services.analysis_run_create`: with the DuckDB engine, then with the
Spark engine (the orders copied to Parquet in small row groups, the scores read back and
staged in small batches, so every batch loop runs more than once). Every stored score of
every customer must agree (money to the cent, scores and codes exactly, the model's
predictions to 1e-7 as in ``test_spark_engine.py``), and so must the run's fields, figures
and diagnoses. Service contacts, messages and the other costs to serve are on, so the
contacts reach Spark's profit too.

One local Spark session (``local[2]``, two shuffle partitions) serves the module.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import os
from decimal import Decimal
from typing import Any

import pandas as pd
import pytest

if os.environ.get("CI", "").lower() != "true":
    pytest.importorskip("pyspark", reason="the spark extra is not installed")

from engine_checks import figure_differences, odd_orders

from patron.analytics.profitability import ProfitSettings
from patron.analytics.report import AnalysisSettings
from patron.customers.models import Customer
from patron.demo.loader import demo_load
from patron.insights.models import AnalysisRun, CustomerScore, RunDiagnosis, RunStatus
from patron.insights.services import AnalysisError, analysis_run_create
from patron.sales.models import Order

pytestmark = [pytest.mark.spark, pytest.mark.django_db(transaction=True)]

SCORE_FIELDS = tuple(
    f.name for f in CustomerScore._meta.concrete_fields if f.name not in ("id", "run", "customer")
)
MODEL = ("p_alive", "expected_purchases", "risk_score")
COSTS = AnalysisSettings(
    profit=ProfitSettings(
        per_order=1.25,
        per_service_contact=3.5,
        per_message=0.05,
        per_account_per_year=6.0,
        acquisition=2.0,
    )
)


def _scores(run: AnalysisRun) -> dict[str, tuple[Any, ...]]:
    rows = CustomerScore.objects.filter(run=run).values_list("customer__external_id", *SCORE_FIELDS)
    return {row[0]: row[1:] for row in rows}


def _same_score(name: str, a: Any, b: Any) -> bool:
    if name in MODEL and a is not None and b is not None:
        return math.isclose(a, b, rel_tol=1e-7, abs_tol=1e-9)
    return bool(a == b)  # money as Decimal (to the cent), scores, codes and reasons exactly


def test_a_stored_run_on_spark_equals_the_run_on_duckdb(
    spark: Any, settings: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a demo business with odd orders, and costs to serve that read the contacts
    demo_load(customers=250, seed=5, runs=False)
    odd_orders("SPARK", "S", tie=True)
    settings.PATRON_ANALYSIS_ENGINE = "duckdb"
    duck, duck_analysis = analysis_run_create(settings=COSTS)

    # when the same store is analysed on Spark, its orders copied in row groups of 500 and
    # its scores staged 100 at a time
    from patron.insights import spark_store
    from patron.insights.run_writes import stage_table as staged_table

    monkeypatch.setattr(spark_store, "ROW_GROUP_ROWS", 500)
    monkeypatch.setattr(spark_store, "BATCH_ROWS", 100)
    staged: list[int] = []

    def stage_table(customers: pd.DataFrame) -> Any:
        staged.append(len(customers))
        return staged_table(customers)

    monkeypatch.setattr(spark_store, "stage_table", stage_table)
    settings.PATRON_ANALYSIS_ENGINE = "spark"
    settings.PATRON_SPARK_TEMP_DIR = str(tmp_path)
    steps: list[str] = []
    sparked, spark_analysis = analysis_run_create(settings=COSTS, step=steps.append)

    # then the run is complete, like DuckDB's, and its temporary files are gone
    assert sparked.status == duck.status == RunStatus.COMPLETED
    assert "Starting Spark" in steps and "Storing scores" in steps
    assert list(tmp_path.iterdir()) == []
    for field in ("as_of", "customers", "settings", "code_version"):
        assert getattr(sparked, field) == getattr(duck, field), field
    assert sparked.customers > 250
    assert max(staged) <= 100 and sum(staged) == sparked.customers  # staged in batches
    # every customer's stored scores, predictions and reasons agree
    duck_scores, spark_scores = _scores(duck), _scores(sparked)
    assert spark_scores.keys() == duck_scores.keys()
    assert len(spark_scores) == sparked.customers
    for customer, row in duck_scores.items():
        for name, a, b in zip(SCORE_FIELDS, row, spark_scores[customer], strict=True):
            assert _same_score(name, a, b), (customer, name, a, b)
    # the odd orders counted as on DuckDB, and the contacts cost on both
    revenue, cts = SCORE_FIELDS.index("revenue"), SCORE_FIELDS.index("cost_to_serve")
    assert spark_scores["SPARK-1"][revenue] == Decimal("40.30")
    assert spark_scores["SPARK-2 只有退货"][revenue] == Decimal("-5.00")
    contacted = Customer.objects.filter(interactions__kind="complaint").values_list(
        "external_id", flat=True
    )[0]
    uncontacted = CustomerScore.objects.filter(run=duck, customer__interactions__isnull=True)
    assert spark_scores[contacted][cts] == duck_scores[contacted][cts]
    assert uncontacted.exists()
    # the figures (concentration, tables, KPIs, cohorts, CLV totals, model choice) agree
    assert duck.figures["predictive"]["skipped"] is False
    assert figure_differences(duck.figures, sparked.figures) == []
    for key in ("predicted_value", "value_at_risk", "value_at_risk_total"):
        assert sparked.figures["predictive"][key] == duck.figures["predictive"][key], key
    assert spark_analysis.kpis is not None and duck_analysis.kpis is not None
    pd.testing.assert_frame_equal(
        spark_analysis.kpis.reset_index(drop=True),
        duck_analysis.kpis.reset_index(drop=True),
        check_dtype=False,
    )

    # and so do the diagnoses stored from the scores
    def diagnoses(run: AnalysisRun) -> dict[tuple[str, str], Any]:
        return {(d.kind, d.code): d.data for d in RunDiagnosis.objects.filter(run=run)}

    assert diagnoses(sparked).keys() == diagnoses(duck).keys() != set()
    assert figure_differences(diagnoses(duck), diagnoses(sparked)) == []


def test_a_stored_run_that_fails_on_spark_is_marked_failed(
    spark: Any, settings: Any, tmp_path: Any
) -> None:
    # given a store and settings Spark does not run (the B2B RFM variant)
    demo_load(customers=30, seed=2, runs=False)
    settings.PATRON_ANALYSIS_ENGINE = "spark"
    settings.PATRON_SPARK_TEMP_DIR = str(tmp_path)
    b2b = dataclasses.replace(AnalysisSettings(), rfm_variant="b2b")

    # when a run is made, it fails with the reason
    with pytest.raises(AnalysisError, match="B2B"):
        analysis_run_create(settings=b2b)

    # then the run is kept as failed, with no scores, and no temporary file is left
    run = AnalysisRun.objects.get()
    assert run.status == RunStatus.FAILED and "B2B" in run.error
    assert not CustomerScore.objects.filter(run=run).exists()
    assert list(tmp_path.iterdir()) == []


def test_a_store_without_orders_has_no_run_on_spark(settings: Any, tmp_path: Any) -> None:
    settings.PATRON_ANALYSIS_ENGINE = "spark"
    settings.PATRON_SPARK_TEMP_DIR = str(tmp_path)
    with pytest.raises(AnalysisError, match="no orders"):
        analysis_run_create()
    assert not AnalysisRun.objects.exists()
    assert list(tmp_path.iterdir()) == []


def test_the_orders_are_copied_in_row_groups_as_duckdb_copies_them(
    settings: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyarrow.parquet as pq

    from patron.insights import spark_store
    from patron.insights.engine import store_transactions_in_duckdb

    # given a store with odd orders
    demo_load(customers=60, seed=4, runs=False)
    odd_orders("SPARK", "S", tie=True)
    cutoff = Order.objects.order_by("-ordered_on").values_list("ordered_on", flat=True)[0]
    cutoff -= dt.timedelta(days=30)
    monkeypatch.setattr(spark_store, "ROW_GROUP_ROWS", 100)

    # when its orders up to a day are copied to Parquet, a row group of 100 at a time
    copy = spark_store.orders_to_parquet(tmp_path / "orders", as_of=cutoff)

    # then the rows are DuckDB's copy of the same orders, the customers by external id
    written = pq.read_table(copy.path)
    assert pq.ParquetFile(copy.path / "part-00000.parquet").metadata.num_row_groups >= 2
    duck = store_transactions_in_duckdb(as_of=cutoff).to_pyarrow().to_pandas()
    assert copy.rows == written.num_rows == len(duck) > 100
    assert copy.last_day == max(duck["order_date"]) <= cutoff

    def rows(frame: pd.DataFrame, cents: bool) -> list[tuple[Any, ...]]:
        amount, cost = (
            (frame["amount_cents"], frame["cost_cents"])
            if cents
            else (
                (frame["amount"] * 100).round(),
                (frame["cost"] * 100).round(),
            )
        )
        return sorted(
            (
                str(c),
                pd.Timestamp(d).date(),
                int(a),
                None if pd.isna(k) else int(k),
                bool(r),
            )
            for c, d, a, k, r in zip(
                frame["customer_id"],
                frame["order_date"],
                amount,
                cost,
                frame["is_return"],
                strict=True,
            )
        )

    assert rows(written.to_pandas(), cents=True) == rows(duck, cents=False)


def test_the_cli_writes_no_files_from_a_stored_run_on_spark(tmp_path: Any) -> None:
    from typer.testing import CliRunner

    from patron.cli import app

    # when a stored run on Spark is asked for files, then it is refused before it starts
    args = ["analyze", "--engine", "spark", "--out", str(tmp_path / "o")]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "300"})
    assert result.exit_code == 2
    assert "writes no files" in " ".join(result.output.split())
    assert not AnalysisRun.objects.exists()
