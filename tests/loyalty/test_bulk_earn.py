"""The big import's earning path on PostgreSQL (``orders._earn_bulk``: the ledger's indexes and
constraints dropped, one insert, all rebuilt), made to run on a few orders by lowering the
size from which it applies: into an empty ledger (no anti-join, no pending points to carry),
and into one that holds a till's accrual of an order the import brings again."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from patron.loyalty import services
from patron.loyalty.models import EntryKind, LedgerEntry

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture(autouse=True)
def _bulk_from_one_order(monkeypatch: pytest.MonkeyPatch) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the bulk path is PostgreSQL's (PATRON_DATABASE_URL=postgresql://...)")
    monkeypatch.setattr("patron.ingest.indexes.MIN_ROWS", 1)


def _constraints() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = 'loyalty_ledgerentry'::regclass"
        )
        return {row[0] for row in cursor.fetchall()}


def _earned() -> dict[str, int]:
    return dict(LedgerEntry.objects.filter(kind=EntryKind.EARN).values_list("source", "points"))


def test_the_first_import_into_an_empty_ledger(member_of: Any, send_orders: Any) -> None:
    # given: two members, no points yet
    m1, m2 = member_of("C1"), member_of("C2")
    before = _constraints()
    assert "ledger_kind_source_unique" in before
    # when: an import of their orders, one of nothing, and a non-member's
    send_orders(
        ("A1", "C1", "10.50", "completed"),
        ("A2", "C2", "20", "completed"),
        ("A3", "C1", "0.50", "completed"),
        ("A4", "C9", "30", "completed"),
    )
    # then: each member's order earns once, as the rule says; the constraints are back
    assert _earned() == {f"order:{m1.customer_id}:A1": 10, f"order:{m2.customer_id}:A2": 20}
    assert _constraints() == before


def test_an_import_after_a_till_accrual_of_the_same_order(member_of: Any, send_orders: Any) -> None:
    m1 = member_of("C1")
    services.points_accrue(member=m1, order_id="A1", amount="99")
    send_orders(("A1", "C1", "10", "completed"), ("A2", "C1", "20", "completed"))
    assert _earned() == {f"order:{m1.customer_id}:A1": 99, f"order:{m1.customer_id}:A2": 20}
    assert "ledger_kind_source_unique" in _constraints()


def test_the_cap_holds_on_the_bulk_path(member_of: Any, send_orders: Any) -> None:
    p = services.programme_get()
    p.cap_points, p.cap_period = 100, "month"
    p.save()
    m1 = member_of("C1")
    send_orders(("A1", "C1", "60", "completed"), ("A2", "C1", "60", "completed"), day="2024-03-05")
    send_orders(("A3", "C1", "60", "completed"), day="2024-04-05")
    key = f"order:{m1.customer_id}"
    assert _earned() == {f"{key}:A1": 60, f"{key}:A2": 40, f"{key}:A3": 60}
