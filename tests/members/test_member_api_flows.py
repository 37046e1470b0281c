"""The member API's answers: /me figures, redemption and its statement line, refusals in the
member's language with nothing written, preferences and consents, bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from patron.loyalty.models import LedgerEntry, Redemption, Reward
from patron.messaging.models import Unsubscribe

pytestmark = pytest.mark.django_db
JSON = "application/json"


def test_redeem_then_the_statement_and_balance_change(
    bearer: Any, member_with: Any, sign_in: Any, reward: Reward
) -> None:
    # given a member with 300 points
    member_with("F1", points=300)
    token = sign_in("f1@example.com")
    client = Client()
    me = client.get("/api/v1/member/me", headers=bearer(token)).json()
    assert me["points_balance"] == 300 and me["points_pending"] == 0
    lines = len(client.get("/api/v1/member/me/statement", headers=bearer(token)).json()["entries"])
    offer = client.get("/api/v1/member/me/rewards", headers=bearer(token)).json()
    assert [r["reward_id"] for r in offer["rewards"] if r["can_redeem"]] == [reward.pk]
    # when the member redeems the reward twice with the same key
    body = {"reward_id": reward.pk, "idempotency_key": "phone-1"}
    first = client.post(
        "/api/v1/member/me/redemptions", body, content_type=JSON, headers=bearer(token)
    )
    again = client.post(
        "/api/v1/member/me/redemptions", body, content_type=JSON, headers=bearer(token)
    )
    # then one redemption, a code, and the statement shows the spend
    assert first.status_code == 201 and again.status_code == 200
    assert first.json() == again.json() and first.json()["points_balance"] == 200
    assert len(first.json()["codes"]) == 1
    statement = client.get("/api/v1/member/me/statement", headers=bearer(token)).json()
    assert statement["points_balance"] == 200 and len(statement["entries"]) == lines + 1
    assert statement["entries"][0]["points"] == -100
    codes = client.get("/api/v1/member/me/rewards", headers=bearer(token)).json()["codes"]
    assert [c["code"] for c in codes] == first.json()["codes"]


def test_refusals_are_clear_in_the_members_language_and_write_nothing(
    bearer: Any, member_with: Any, sign_in: Any
) -> None:
    # given a member who reads Chinese, a dear reward and one out of stock
    member_with("F2", points=50)
    token = sign_in("f2@example.com")
    client = Client()
    put = client.put("/api/v1/member/me/preferences", {"language": "zh-hans"}, content_type=JSON,
                     headers=bearer(token))  # fmt: skip
    assert put.status_code == 200 and put.json()["language"] == "zh-hans"
    dear = Reward.objects.create(code="tv", name_en="TV", name_zh="电视", points_cost=5000)
    gone = Reward.objects.create(code="pen", name_en="Pen", name_zh="笔", points_cost=10, stock=0)
    entries = LedgerEntry.objects.count()
    # when they try to redeem them, or a reward that does not exist
    answers = [
        client.post(
            "/api/v1/member/me/redemptions",
            {"reward_id": rid, "idempotency_key": f"k{rid}"},
            content_type=JSON,
            headers=bearer(token),
        )
        for rid in (dear.pk, gone.pk, 999999, "abc")
    ]
    # then clear refusals in Chinese, no stack trace, nothing written
    assert [a.status_code for a in answers] == [409, 409, 404, 404]
    assert [a.json()["code"] for a in answers] == [
        "loyalty.insufficient_points", "loyalty.reward_out_of_stock",
        "loyalty.reward_unknown", "loyalty.reward_unknown",
    ]  # fmt: skip
    for answer in answers:
        assert answer.json()["message"] and "Traceback" not in answer.content.decode()
    assert "积分不足" in answers[0].json()["message"] or "不足" in answers[0].json()["message"]
    assert LedgerEntry.objects.count() == entries and not Redemption.objects.exists()
    assert Reward.objects.get(pk=gone.pk).stock == 0


def test_preferences_and_consents_round_trip_and_refuse_bad_values(
    bearer: Any, member_with: Any, sign_in: Any
) -> None:
    member = member_with("F3")
    token = sign_in("f3@example.com")
    client = Client()
    # when the member turns tier messages off, and offers off, and e-mail consent on
    prefs = client.put("/api/v1/member/me/preferences",
                       {"notifications": {"member.tier": False}}, content_type=JSON,
                       headers=bearer(token)).json()  # fmt: skip
    consents = client.put("/api/v1/member/me/consents",
                          {"channels": {"email": True}, "topics": {"offers": False}},
                          content_type=JSON, headers=bearer(token)).json()  # fmt: skip
    # then both read back, and the outbox's opt-outs hold them
    assert prefs["notifications"]["member.tier"] is False
    assert prefs["notifications"]["member.expiring"] is True
    assert consents["channels"]["email"] is True and consents["topics"]["offers"] is False
    opted_out = Unsubscribe.objects.filter(customer=member.customer)
    assert set(opted_out.values_list("topic", flat=True)) == {"member.tier", "offers"}
    # and turning one back on removes its opt-out
    client.put("/api/v1/member/me/preferences", {"notifications": {"member.tier": True}},
               content_type=JSON, headers=bearer(token))  # fmt: skip
    assert not Unsubscribe.objects.filter(customer=member.customer, topic="member.tier").exists()
    # bad values: named, refused, nothing written
    for url, body, field in (
        ("/api/v1/member/me/preferences", {"language": "fr"}, "language"),
        ("/api/v1/member/me/preferences", {"notifications": {"spam": False}}, "notifications.spam"),
        ("/api/v1/member/me/consents", {"channels": {"fax": True}}, "channels.fax"),
        ("/api/v1/member/me/consents", {"channels": {"email": "yes"}}, "channels.email"),
    ):
        answer = client.put(url, json.dumps(body), content_type=JSON, headers=bearer(token))
        assert answer.status_code == 400, (body, answer.content)
        assert answer.json()["field"] == field
    assert (
        client.get("/api/v1/member/me/preferences", headers=bearer(token)).json()["language"]
        == "en"
    )


def test_sign_in_errors_in_chinese(member_with: Any) -> None:
    client = Client()
    answer = client.post("/api/v1/member/session", {"email": "x@example.com", "code": "1"},
                         content_type=JSON, headers={"Accept-Language": "zh-hans"})  # fmt: skip
    assert answer.status_code == 401
    assert "验证码" in answer.json()["message"]


def test_questionnaire_answers_through_preferences(
    bearer: Any, member_with: Any, sign_in: Any
) -> None:
    from patron.loyalty.models import Question

    Question.objects.create(key="pet", text_en="Pet?", text_zh="宠物？", kind="single",
                            choices=["cat", "dog"])  # fmt: skip
    member = member_with("F4")
    token = sign_in("f4@example.com")
    client = Client()
    # a valid answer is kept as the customer's attribute
    ok = client.put("/api/v1/member/me/preferences", {"answers": {"pet": "cat"}},
                    content_type=JSON, headers=bearer(token))  # fmt: skip
    assert ok.status_code == 200 and ok.json()["answers"] == {"pet": "cat"}
    member.customer.refresh_from_db()
    assert member.customer.attributes["pet"] == "cat"
    # an answer outside the choices is refused, naming the field; nothing changes
    bad = client.put("/api/v1/member/me/preferences", {"answers": {"pet": "fish"}},
                     content_type=JSON, headers=bearer(token))  # fmt: skip
    assert bad.status_code == 400 and bad.json()["field"] == "answers.pet"
    member.customer.refresh_from_db()
    assert member.customer.attributes["pet"] == "cat"
