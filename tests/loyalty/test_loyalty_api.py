"""/api/v1/loyalty: the shapes fixed by the issue, and bad input answered with a 4xx naming
the field, in English or Chinese by Accept-Language, with nothing written."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from patron.core.services import token_create
from patron.customers.models import Customer
from patron.loyalty.cards import card_valid, luhn_digit
from patron.loyalty.models import LedgerEntry, Member, Redemption, Reward

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(make_user: Any) -> Any:
    make_user("till", "marketing")
    token = token_create(username="till")[1]
    client = Client()

    def call(method: str, path: str, body: dict[str, Any] | None = None, lang: str = "en") -> Any:
        headers = {"Authorization": f"Bearer {token}", "Accept-Language": lang}
        if method == "get":
            return client.get(f"/api/v1/loyalty{path}", headers=headers)
        return client.post(
            f"/api/v1/loyalty{path}",
            json.dumps(body or {}),
            content_type="application/json",
            headers=headers,
        )

    return call


def test_luhn_against_published_example() -> None:
    # the textbook example (ISO/IEC 7812 / Wikipedia): 7992739871 -> check digit 3
    assert luhn_digit("7992739871") == "3"
    assert card_valid("79927398713") and not card_valid("79927398710")


def test_enrol_get_accrue_redeem_statement(api: Any) -> None:
    Customer.objects.create(external_id="C1", name="张三")
    # enrol
    r = api("post", "/members", {"customer_id": "C1"})
    assert r.status_code == 201
    body = r.json()
    assert set(body) == {"card_number", "customer_id", "tier", "points_balance", "points_pending"}
    card = body["card_number"]
    assert card_valid(card) and body["customer_id"] == "C1" and body["points_balance"] == 0
    # enrol again: 409 with the existing card
    again = api("post", "/members", {"customer_id": "C1"})
    assert again.status_code == 409 and again.json()["card_number"] == card
    # accrue, twice for the same order id
    r1 = api("post", "/accruals", {"card_number": card, "order_id": "T-1", "amount": "88.80"})
    r2 = api("post", "/accruals", {"card_number": card, "order_id": "T-1", "amount": "88.80"})
    assert (r1.status_code, r2.status_code) == (201, 200)
    assert r1.json()["points"] == 88 and r2.json()["points_balance"] == 88
    # the same order arriving through the orders API earns nothing more
    from patron.sales.services import order_batch_import

    order_batch_import(
        orders=[
            {
                "order_id": "T-1",
                "customer_id": "C1",
                "ordered_at": "2030-01-01T10:00:00+00:00",
                "amount": "88.80",
                "status": "completed",
            }
        ],
        source="pos",
    )
    got = api("get", f"/members/{card}").json()
    assert got["points_balance"] == 88 and got["expiring"] == []
    assert set(got) == {
        "card_number",
        "customer_id",
        "tier",
        "points_balance",
        "points_pending",
        "expiring",
    }
    # redeem, and the same key again returns the first answer
    red = {"card_number": card, "points": 50, "idempotency_key": "pos-1"}
    first = api("post", "/redemptions", red)
    second = api("post", "/redemptions", red)
    assert first.status_code == 201 and set(first.json()) >= {"redemption_id", "points_balance"}
    assert first.json()["points_balance"] == 38 and second.json() == first.json()
    assert api("post", "/redemptions", {**red, "points": 5}).status_code == 409
    short = api("post", "/redemptions", {**red, "idempotency_key": "pos-2", "points": 39})
    assert short.status_code == 409 and short.json()["field"] == "points"
    # statement
    st = api("get", f"/members/{card}/statement").json()
    assert [e["points"] for e in st["entries"]] == [88, -50]
    assert st["entries"][-1]["balance"] == 38


def test_holds_commit_void_and_reward_codes(api: Any, member_of: Any) -> None:
    from patron.loyalty import services

    m = member_of("C1")
    services.points_grant(customer_id=m.customer_id, points=500, reason="r", source="g")
    card = m.card_number
    h = api("post", "/holds", {"card_number": card, "points": 100, "idempotency_key": "h1"})
    assert h.status_code == 201 and h.json()["points_balance"] == 400
    hold_id = h.json()["hold_id"]
    c = api("post", f"/holds/{hold_id}/commit")
    assert (
        c.status_code == 200
        and c.json()["status"] == "committed"
        and c.json()["points_balance"] == 400
    )
    assert api("post", f"/holds/{hold_id}/void").status_code == 409
    h2 = api("post", "/holds", {"card_number": card, "points": 100, "idempotency_key": "h2"}).json()
    v = api("post", f"/holds/{h2['hold_id']}/void")
    assert v.json()["status"] == "voided" and v.json()["points_balance"] == 400
    # a reward: a code a till checks and uses once
    reward = Reward.objects.create(
        code="mug", name_en="Mug", name_zh="杯子", points_cost=150, stock=1
    )
    red = api(
        "post",
        "/redemptions",
        {"card_number": card, "reward_id": reward.pk, "idempotency_key": "r1"},
    )
    assert red.status_code == 201
    code = red.json()["codes"][0]
    assert api("get", f"/codes/{code}").json()["used_at"] is None
    assert api("post", f"/codes/{code}").status_code == 200
    assert api("post", f"/codes/{code}").status_code == 409
    out = api(
        "post",
        "/redemptions",
        {"card_number": card, "reward_id": reward.pk, "idempotency_key": "r2"},
    )
    assert out.status_code == 409 and out.json()["code"] == "loyalty.reward_out_of_stock"


@pytest.mark.parametrize(
    ("path", "body", "status", "field"),
    [
        (
            "/accruals",
            {"card_number": "8600000000000001", "order_id": "X", "amount": "1"},
            400,
            "card_number",
        ),
        ("/accruals", {"card_number": "{card}", "order_id": "X", "amount": "-5"}, 400, "amount"),
        (
            "/redemptions",
            {"card_number": "{card}", "points": -3, "idempotency_key": "a"},
            400,
            "points",
        ),
        (
            "/redemptions",
            {"card_number": "{card}", "points": "2.5", "idempotency_key": "b"},
            400,
            "points",
        ),
        (
            "/redemptions",
            {"card_number": "{unknown}", "points": 1, "idempotency_key": "c"},
            404,
            "card_number",
        ),
        ("/holds", {"card_number": "{card}", "points": 0, "idempotency_key": "d"}, 400, "points"),
    ],
)
def test_bad_input_names_the_field_in_both_languages_and_writes_nothing(
    api: Any, member_of: Any, path: str, body: dict[str, Any], status: int, field: str
) -> None:
    from patron.loyalty.cards import luhn_digit

    m = member_of("C1")
    unknown = "860000000000000"
    unknown += luhn_digit(unknown)
    body = {
        k: (v.format(card=m.card_number, unknown=unknown) if isinstance(v, str) else v)
        for k, v in body.items()
    }
    before = (LedgerEntry.objects.count(), Redemption.objects.count(), Member.objects.count())
    en = api("post", path, body, lang="en")
    zh = api("post", path, body, lang="zh-hans")
    assert en.status_code == zh.status_code == status
    assert en.json()["field"] == zh.json()["field"] == field
    assert en.json()["message"] != zh.json()["message"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh.json()["message"])
    assert (
        LedgerEntry.objects.count(),
        Redemption.objects.count(),
        Member.objects.count(),
    ) == before


def test_redemption_retry_and_taken_key_answer_as_the_first_request(
    api: Any, member_of: Any
) -> None:
    from patron.loyalty import services

    # given a member with 100 points who spends 80
    m = member_of("C1")
    services.points_grant(customer_id=m.customer_id, points=100, reason="r", source="g")
    red = {"card_number": m.card_number, "points": 80, "idempotency_key": "k1"}
    first = api("post", "/redemptions", red)
    # when the till retries though the balance (20) no longer covers 80
    again = api("post", "/redemptions", red)
    # then it gets the first answer and nothing more is spent
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    assert services.balance_of(member_id=m.pk).available == 20
    # and a key a hold's commit took is another request's: 409, nothing written
    hold = api(
        "post", "/holds", {"card_number": m.card_number, "points": 10, "idempotency_key": "h"}
    )
    hold_id = hold.json()["hold_id"]
    assert api("post", f"/holds/{hold_id}/commit").status_code == 200
    taken = api(
        "post",
        "/redemptions",
        {"card_number": m.card_number, "points": 1, "idempotency_key": f"hold:{hold_id}"},
    )
    assert taken.status_code == 409 and taken.json()["field"] == "idempotency_key"
    assert services.balance_of(member_id=m.pk).available == 10
    assert LedgerEntry.objects.filter(member=m, source__startswith="redeem:").count() == 1
