"""Concurrency on PostgreSQL: 50 clients spend against one balance at once, through the API.

Never overdrawn; the balance equals the ledger's sum and its lots' remainder; each accepted
redemption (or committed hold) has exactly one spend entry; retried requests with the same
key never double. SQLite serialises writers, so this runs on PostgreSQL only (make
test-postgres).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection, connections
from django.db.models import Sum
from django.test import Client

from patron.core.services import token_create
from patron.loyalty import services
from patron.loyalty.models import EntryKind, Hold, LedgerEntry, LotUse, Redemption

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

CLIENTS = 50
START = 1000
EACH = 30  # 50 x 30 = 1500 asked of 1000: 33 can be accepted


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrency needs PostgreSQL (PATRON_DATABASE_URL=postgresql://...)")


@pytest.fixture
def till(member_of: Callable[..., Any], make_user: Callable[..., Any]) -> dict[str, Any]:
    member = member_of("C1")
    services.points_grant(customer_id=member.customer_id, points=START, reason="start", source="s")
    make_user("till", "marketing")
    return {"member": member, "token": token_create(username="till")[1]}


def _post(token: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    client = Client()
    try:
        response = client.post(
            f"/api/v1/loyalty{path}",
            json.dumps(body or {}),
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        )
        return response.status_code, response.json()
    finally:
        connections.close_all()


def _at_once(work: Callable[[int], Any]) -> list[Any]:
    gate = threading.Barrier(CLIENTS)

    def run(i: int) -> Any:
        gate.wait()
        return work(i)

    with ThreadPoolExecutor(CLIENTS) as pool:
        return list(pool.map(run, range(CLIENTS)))


def _ledger_consistent(member_id: int) -> int:
    total = LedgerEntry.objects.filter(member_id=member_id, pending=False).aggregate(
        s=Sum("points")
    )["s"]
    lots = LedgerEntry.objects.filter(member_id=member_id, is_lot=True).aggregate(s=Sum("points"))[
        "s"
    ]
    used = LotUse.objects.filter(lot__member_id=member_id).aggregate(s=Sum("points"))["s"] or 0
    balance = services.balance_of(member_id=member_id).available
    assert balance == total == lots - used
    assert balance >= 0
    return balance


def test_fifty_redemptions_at_once_never_overdraw_and_retries_never_double(
    till: dict[str, Any],
) -> None:
    card, token = till["member"].card_number, till["token"]

    def redeem(i: int) -> tuple[tuple[int, dict[str, Any]], tuple[int, dict[str, Any]]]:
        body = {"card_number": card, "points": EACH, "idempotency_key": f"k-{i}"}
        first = _post(token, "/redemptions", body)
        retry = _post(token, "/redemptions", body)  # the till did not hear the answer
        return first, retry

    results = _at_once(redeem)
    accepted = [first for first, _ in results if first[0] == 201]
    refused = [first for first, _ in results if first[0] != 201]
    assert len(accepted) == START // EACH
    assert {status for status, _ in refused} == {409}
    assert all(body["code"] == "loyalty.insufficient_points" for _, body in refused)
    for first, retry in results:
        if first[0] == 201:
            assert retry == first  # the same answer, nothing more spent
    member_id = till["member"].pk
    assert _ledger_consistent(member_id) == START - len(accepted) * EACH
    spends = LedgerEntry.objects.filter(member_id=member_id, kind=EntryKind.SPEND)
    assert spends.count() == Redemption.objects.count() == len(accepted)
    assert sorted(e.source for e in spends) == sorted(
        f"redeem:{r.idempotency_key}" for r in Redemption.objects.all()
    )
    # the same key as an accepted redemption, with another body, is refused (a refused
    # request wrote nothing, so its key is still free)
    taken = Redemption.objects.order_by("pk").first().idempotency_key
    reused = {"card_number": card, "points": 1, "idempotency_key": taken}
    status, body = _post(token, "/redemptions", reused)
    assert status == 409 and body["field"] == "idempotency_key"


def test_fifty_holds_at_once_then_commits_and_retries(till: dict[str, Any]) -> None:
    card, token = till["member"].card_number, till["token"]

    def hold(i: int) -> tuple[int, dict[str, Any]]:
        body = {"card_number": card, "points": EACH, "idempotency_key": f"h-{i}"}
        first = _post(token, "/holds", body)
        again = _post(token, "/holds", body)
        assert again[0] == first[0]
        if first[0] == 201:
            assert again[1]["hold_id"] == first[1]["hold_id"]
        return first

    results = _at_once(hold)
    held = [body["hold_id"] for status, body in results if status == 201]
    assert len(held) == START // EACH
    assert {status for status, _ in results if status != 201} == {409}
    member_id = till["member"].pk
    assert _ledger_consistent(member_id) == START - len(held) * EACH

    # commit every hold twice at once (double confirm), void none
    def commit(i: int) -> tuple[int, dict[str, Any]]:
        return _post(token, f"/holds/{held[i % len(held)]}/commit")

    answers = _at_once(commit)
    assert all(status == 200 and body["status"] == "committed" for status, body in answers)
    assert Hold.objects.filter(status="committed").count() == len(held)
    spends = LedgerEntry.objects.filter(member_id=member_id, kind=EntryKind.SPEND)
    assert spends.count() == len(held)
    assert _ledger_consistent(member_id) == START - len(held) * EACH


@pytest.mark.parametrize("cap", [None, 1000])
def test_fifty_accruals_at_once_earn_once_per_order_and_never_pass_the_cap(
    till: dict[str, Any], cap: int | None
) -> None:
    # 25 orders of 58 points, each sent by two tills at once and retried: without a cap
    # (one statement writes, the unique index decides) and with a monthly cap of 1000
    # (the member's lock)
    programme = services.programme_get()
    programme.cap_points, programme.cap_period = cap, "month"
    programme.save()
    card, token = till["member"].card_number, till["token"]

    def accrue(i: int) -> tuple[str, list[tuple[int, dict[str, Any]]]]:
        body = {"card_number": card, "order_id": f"T{i % 25}", "amount": "58.60"}
        return body["order_id"], [_post(token, "/accruals", body) for _ in range(2)]

    answers: dict[str, set[int]] = {}
    created: dict[str, int] = {}
    for order_id, replies in _at_once(accrue):
        for status, body in replies:
            assert status in (200, 201)
            answers.setdefault(order_id, set()).add(body["points"])
            created[order_id] = created.get(order_id, 0) + (status == 201)
    assert all(len(points) == 1 for points in answers.values())  # one answer per order
    earned = sum(next(iter(points)) for points in answers.values())
    assert earned == (25 * 58 if cap is None else cap)
    earning = {o for o, points in answers.items() if points != {0}}
    assert all(created[o] == 1 for o in earning)  # one 201 per order that earned
    member_id = till["member"].pk
    earns = LedgerEntry.objects.filter(member_id=member_id, kind=EntryKind.EARN)
    assert earns.filter(source__startswith="order:").count() == len(earning)
    assert _ledger_consistent(member_id) == START + earned
