"""Scores written around dropped and rebuilt indexes are the scores written without."""

from __future__ import annotations

import pytest
from django.db import connection

from patron.demo.loader import demo_load
from patron.insights.models import CustomerScore, RunDiagnosis
from patron.insights.services import analysis_run_create

FIELDS = tuple(f.name for f in CustomerScore._meta.concrete_fields if f.name not in ("id", "run"))


def _scores(run_id: int) -> list[tuple[object, ...]]:
    return sorted(CustomerScore.objects.filter(run_id=run_id).values_list(*FIELDS))


def _diagnoses(run_id: int) -> dict[tuple[str, str], object]:
    return {(d.kind, d.code): d.data for d in RunDiagnosis.objects.filter(run_id=run_id)}


def _constraints() -> set[str]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, CustomerScore._meta.db_table)
    return set(found)


@pytest.mark.django_db(transaction=True)
def test_a_first_run_rebuilds_the_score_indexes_and_writes_the_same_scores(monkeypatch) -> None:
    # given a demo business and a threshold that makes any first run rebuild the indexes
    demo_load(customers=300, seed=5, runs=False)
    monkeypatch.setattr("patron.ingest.indexes.MIN_ROWS", 1)
    from patron.ingest import indexes

    dropped: list[str] = []
    drop = indexes.indexes_drop

    def counted(model: type, **kwargs: bool) -> indexes.DroppedIndexes:
        dropped.append(model.__name__)
        return drop(model, **kwargs)

    monkeypatch.setattr(indexes, "indexes_drop", counted)
    before = _constraints()
    assert {index.name for index in CustomerScore._meta.indexes} <= before

    # when the first run writes into an empty score table and the second into a table as
    # large (each doubles it: indexes dropped and rebuilt), then a third run into a table
    # twice as large (indexes kept)
    rebuilt, _ = analysis_run_create()
    analysis_run_create()
    assert dropped == ["CustomerScore", "CustomerScore"]
    kept, _ = analysis_run_create()
    assert dropped == ["CustomerScore", "CustomerScore"]

    # then both runs stored the same scores and diagnoses, and every index and constraint
    # (foreign keys on PostgreSQL) is back
    assert rebuilt.customers == kept.customers > 250
    assert _scores(rebuilt.pk) == _scores(kept.pk)
    assert _diagnoses(rebuilt.pk) == _diagnoses(kept.pk) != {}
    assert _constraints() == before
    if connection.vendor == "postgresql":
        # and the planner's statistics know every run, the last one too (written with the
        # indexes kept): three run ids, and the table's row count
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT n_distinct FROM pg_stats WHERE tablename = %s AND attname = 'run_id'",
                [CustomerScore._meta.db_table],
            )
            assert cursor.fetchone()[0] == 3
            cursor.execute(
                "SELECT reltuples FROM pg_class WHERE relname = %s",
                [CustomerScore._meta.db_table],
            )
            assert cursor.fetchone()[0] == CustomerScore.objects.count()
