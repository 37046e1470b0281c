"""A stored run computed in DuckDB (the store's orders copied through Arrow) equals the same
run computed in the app database itself, customer by customer and figure by figure."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pandas as pd
import pytest
from engine_checks import odd_orders

from patron.customers.models import Customer
from patron.demo.loader import demo_load
from patron.insights.engine import analysis_engine, postgres_uri
from patron.insights.models import CustomerScore
from patron.insights.services import analysis_run_create
from patron.sales.models import Order

# Every stored score column: the scores, the predictions and the churn reasons.
SCORE_FIELDS = tuple(
    f.name for f in CustomerScore._meta.concrete_fields if f.name not in ("id", "run", "customer")
)


def _scores(run_id: int) -> dict[str, tuple[object, ...]]:
    rows = CustomerScore.objects.filter(run_id=run_id).values_list(
        "customer__external_id", *SCORE_FIELDS
    )
    return {row[0]: row[1:] for row in rows}


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) or (math.isnan(a) and math.isnan(b))
    return a == b


@pytest.mark.django_db(transaction=True)
def test_a_run_in_duckdb_equals_the_run_in_the_app_database(settings) -> None:
    # given a demo business, plus refunded, cancelled, unpaid and return-only orders
    demo_load(customers=400, seed=11, runs=False)
    odd_orders("ENGINE", "E")

    # when the store is analysed in the app database, then in DuckDB from a copy
    settings.PATRON_ANALYSIS_ENGINE = "database"
    in_database, analysis_db = analysis_run_create()
    settings.PATRON_ANALYSIS_ENGINE = "duckdb"
    assert analysis_engine() == "duckdb"
    in_duckdb, analysis_duck = analysis_run_create()

    # then every customer has the same scores, predictions and reasons
    db_scores, duck_scores = _scores(in_database.pk), _scores(in_duckdb.pk)
    assert in_database.as_of == in_duckdb.as_of
    assert in_database.customers == in_duckdb.customers == len(db_scores) > 300
    assert db_scores.keys() == duck_scores.keys()
    for customer, row in db_scores.items():
        other = duck_scores[customer]
        for name, a, b in zip(SCORE_FIELDS, row, other, strict=True):
            assert _same(a, b), (customer, name, a, b)
    # the refunded order and its refund are gone; the partial return stays
    assert db_scores["ENGINE-1"][SCORE_FIELDS.index("revenue")] == Decimal("40.30")
    assert db_scores["ENGINE-1"][SCORE_FIELDS.index("frequency")] == 3
    # and the run's figures (KPIs, cohorts, concentration) are the same
    for key in ("customers", "revenue", "kpis", "cohorts", "tiers", "gini"):
        assert in_database.figures.get(key) == in_duckdb.figures.get(key), key
    assert analysis_db.kpis is not None and analysis_duck.kpis is not None
    assert analysis_db.kpis.equals(analysis_duck.kpis)

    # and the app database is still usable by Django afterwards (SQLite: the copy ran in a
    # child process, so its own SQLite library never touched this process's file locks)
    Customer.objects.create(external_id="after-the-copy")
    assert Customer.objects.filter(external_id="after-the-copy").exists()


@pytest.mark.django_db(transaction=True)
def test_the_copy_leaves_out_orders_after_the_as_of_date(settings) -> None:
    from patron.insights.engine import store_transactions_in_duckdb

    demo_load(customers=150, seed=3, runs=False)
    last = Order.objects.order_by("-ordered_on").values_list("ordered_on", flat=True)[0]
    cutoff = last - dt.timedelta(days=60)
    copied = store_transactions_in_duckdb(as_of=cutoff)
    assert pd.Timestamp(copied.order_date.max().execute()).date() == cutoff
    assert "order_id" not in copied.columns


def test_postgres_uri_quotes_what_libpq_would_misread() -> None:
    assert (
        postgres_uri({"NAME": "patron", "USER": "app", "PASSWORD": "p@ss:/w", "HOST": "db"})
        == "postgresql://app:p%40ss%3A%2Fw@db/patron"
    )
    assert (
        postgres_uri({"NAME": "patron", "USER": "", "HOST": "/var/run/postgresql", "PORT": 5433})
        == "postgresql:///patron?host=%2Fvar%2Frun%2Fpostgresql&port=5433"
    )
    assert postgres_uri({"NAME": "p", "HOST": "::1", "PORT": "5432"}) == "postgresql://[::1]:5432/p"


def test_an_unknown_engine_is_refused(settings) -> None:
    from django.core.exceptions import ImproperlyConfigured

    settings.PATRON_ANALYSIS_ENGINE = "sparkle"
    with pytest.raises(ImproperlyConfigured, match="duckdb, database, spark"):
        analysis_engine()
    settings.PATRON_ANALYSIS_ENGINE = "spark"  # stored runs on Spark: test_spark_stored_run.py
    assert analysis_engine() == "spark"
