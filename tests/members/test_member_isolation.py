"""Member A's session or token asks for member B's card, statement, redemption and
preferences by every id a URL or a body takes: every answer is A's own or a refusal, and
nothing of B's changes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from patron.loyalty import services as loyalty
from patron.loyalty.models import LedgerEntry, Redemption
from patron.messaging.models import Unsubscribe

pytestmark = pytest.mark.django_db
JSON = "application/json"


# What an attacker may put in a query string or a body to point at another member.
def _pointers(b: Any, b_redemption: Redemption) -> dict[str, Any]:
    return {
        "card_number": b.card_number,
        "customer_id": b.customer.external_id,
        "member_id": b.pk,
        "member": b.pk,
        "id": b.pk,
        "redemption_id": b_redemption.pk,
        "idempotency_key": "b-key",
    }


@pytest.fixture
def two(member_with: Any, sign_in: Any, reward: Any) -> dict[str, Any]:
    a = member_with("MA", points=300)
    b = member_with("MB", points=500)
    b_redemption, _ = loyalty.points_redeem(
        member=b, idempotency_key="b-key", rewards=[loyalty.RewardLine(reward.pk, 1)]
    )
    return {"a": a, "b": b, "token": sign_in("ma@example.com"), "b_redemption": b_redemption,
            "reward": reward}  # fmt: skip


def _b_state(b: Any) -> tuple[Any, ...]:
    b.customer.refresh_from_db()
    return (
        list(LedgerEntry.objects.filter(member=b).values_list("pk", "points")),
        list(Redemption.objects.filter(member=b).values_list("pk", "points")),
        list(Unsubscribe.objects.filter(customer=b.customer).values_list("topic", flat=True)),
        list(b.customer.consents.values_list("channel", "granted")),
        b.customer.attributes,
    )


def test_the_api_answers_only_with_the_callers_own_data(bearer: Any, two: dict[str, Any]) -> None:
    a, b, token = two["a"], two["b"], two["token"]
    before = _b_state(b)
    pointers = _pointers(b, two["b_redemption"])
    client = Client()
    reads = ("/api/v1/member/me", "/api/v1/member/me/statement", "/api/v1/member/me/rewards",
             "/api/v1/member/me/preferences", "/api/v1/member/me/consents")  # fmt: skip
    for url in reads:
        # when A asks with B's ids in the query string
        answer = client.get(url, pointers, headers=bearer(token))
        # then the answer is A's (or has no member data at all), never B's
        assert answer.status_code == 200, url
        text = answer.content.decode()
        assert b.card_number not in text
        assert two["b_redemption"].response["codes"][0] not in text
        if "card_number" in answer.json():
            assert answer.json()["card_number"] == a.card_number
    # writes with B's ids in the body change A only
    for url, body in (
        (
            "/api/v1/member/me/preferences",
            {"language": "zh-hans", "notifications": {"member.tier": False}},
        ),
        ("/api/v1/member/me/consents", {"channels": {"email": True}, "topics": {"offers": False}}),
    ):
        answer = client.put(url, json.dumps({**pointers, **body}), content_type=JSON,
                            headers=bearer(token))  # fmt: skip
        assert answer.status_code == 200, (url, answer.content)
    # B's redemption key, replayed by A: a redemption of A's own, never B's answer
    answer = client.post(
        "/api/v1/member/me/redemptions",
        {**pointers, "reward_id": two["reward"].pk, "idempotency_key": "b-key"},
        content_type=JSON,
        headers=bearer(token),
    )
    assert answer.status_code == 201, answer.content
    assert answer.json()["redemption_id"] != two["b_redemption"].pk
    assert answer.json()["codes"] != two["b_redemption"].response["codes"]
    assert Redemption.objects.get(pk=answer.json()["redemption_id"]).member_id == a.pk
    # staff endpoints that take B's card or code refuse A's token
    for url in (f"/api/v1/loyalty/members/{b.card_number}",
                f"/api/v1/loyalty/members/{b.card_number}/statement",
                f"/api/v1/loyalty/codes/{two['b_redemption'].response['codes'][0]}",
                f"/api/v1/customers/{b.customer.external_id}"):  # fmt: skip
        assert client.get(url, headers=bearer(token)).status_code == 401, url
    assert client.post("/api/v1/loyalty/redemptions", {"card_number": b.card_number,
                       "reward_id": two["reward"].pk, "idempotency_key": "x"},
                       content_type=JSON, headers=bearer(token)).status_code == 401  # fmt: skip
    # and nothing of B's changed
    assert _b_state(b) == before


def test_the_portal_pages_answer_only_with_the_callers_own_data(
    bearer: Any, code_of: Any, two: dict[str, Any]
) -> None:
    a, b, token = two["a"], two["b"], two["token"]
    before = _b_state(b)
    pointers = _pointers(b, two["b_redemption"])
    client = Client()
    # A signed in to the portal (the API token is not a portal cookie: sign in anew)
    from patron.members.services import code_request, session_create

    code_request(email="ma@example.com")
    cookie, _session = session_create(email="ma@example.com", code=code_of("ma@example.com"),
                                      kind="portal")  # fmt: skip
    client.cookies["patron_member"] = cookie
    pages = ["/member/", "/member/statement/", "/member/rewards/", "/member/friends/",
             "/member/orders/", "/member/preferences/", "/member/consents/", "/member/data/",
             "/member/data/my-data.json", "/member/data/my-data.csv",
             f"/member/rewards/{two['reward'].pk}/"]  # fmt: skip
    for url in pages:
        answer = client.get(url, pointers)
        assert answer.status_code == 200, (url, answer.status_code)
        text = answer.content.decode()
        assert b.card_number not in text, url
        assert b.customer.email not in text, url
        assert two["b_redemption"].response["codes"][0] not in text, url
    assert a.card_number in client.get("/member/").content.decode()
    # form posts carrying B's ids change A only
    client.post("/member/preferences/", {**pointers, "language": "en", "n_member.order": "on"})
    client.post("/member/consents/", {**pointers, "c_sms": "on"})
    client.post(f"/member/rewards/{two['reward'].pk}/", {**pointers, "key": "b-key"})
    client.post("/member/data/", pointers)
    # staff pages about B stay closed to a member cookie
    for url in (f"/loyalty/members/{b.card_number}/", f"/customers/{b.customer.external_id}/",
                "/member/staff/"):  # fmt: skip
        answer = client.get(url)
        assert answer.status_code == 302 and "/login/" in answer["Location"], url
    # an API token is not a portal session, and a portal cookie is not an API token
    api_only = Client()
    api_only.cookies["patron_member"] = token
    assert api_only.get("/member/").status_code == 302
    assert Client().get("/api/v1/member/me", headers=bearer(cookie)).status_code == 200
    assert _b_state(b) == before
    from patron.members.models import ErasureRequest

    assert list(ErasureRequest.objects.values_list("card_number", flat=True)) == [a.card_number]
