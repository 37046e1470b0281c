"""Staff pages by role: marketing enrols (with the questionnaire), service adjusts with a
reason, analysts read; the statement CSV opens in Excel (BOM) in the user's language."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from patron.customers.models import Customer
from patron.loyalty import services
from patron.loyalty.models import LedgerEntry, Member, Question

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_roles_enrol_adjust_and_read(make_user: Any) -> None:
    Customer.objects.create(external_id="C1", name="张三")
    Question.objects.create(
        key="diet", text_en="Diet", text_zh="饮食", kind="single", choices=["vegetarian", "any"]
    )
    marketing = _client(make_user("m", "marketing"))
    service = _client(make_user("s", "service"))
    analyst = _client(make_user("a", "analyst"))
    form = {"customer_id": "C1", "answer_diet": "vegetarian", "id_document_number": "A1234567"}
    assert service.post("/loyalty/enrol/", form).status_code == 403
    response = marketing.post("/loyalty/enrol/", form)
    member = Member.objects.get()
    assert response.status_code == 302 and member.card_number in response["Location"]
    assert Customer.objects.get().attributes["diet"] == "vegetarian"
    assert member.id_document_masked == "****4567"
    # service adjusts with a reason; without one nothing is written; analysts cannot
    url = f"/loyalty/members/{member.card_number}/adjust/"
    service.post(url, {"points": "50", "reason": ""})
    assert not LedgerEntry.objects.filter(kind="adjust").exists()
    service.post(url, {"points": "50", "reason": "late delivery"})
    assert services.balance_of(member_id=member.pk).available == 50
    assert analyst.post(url, {"points": "50", "reason": "x"}).status_code == 403
    # everyone reads the page and the CSV; the CSV in Chinese for a Chinese browser
    page = analyst.get(f"/loyalty/members/{member.card_number}/")
    assert page.status_code == 200 and "late delivery" in page.content.decode()
    csv = analyst.get(
        f"/loyalty/members/{member.card_number}/statement.csv",
        headers={"Accept-Language": "zh-hans"},
    )
    text = csv.content.decode("utf-8")
    assert text.startswith("\ufeff") and "积分" in text.splitlines()[0] and "late delivery" in text
    for path in ("/loyalty/", "/loyalty/rewards/", "/loyalty/settings/", "/loyalty/analytics/"):
        assert analyst.get(path).status_code == 200, path
    # analysts see the settings but cannot change them
    assert analyst.post("/loyalty/settings/", {"name_en": "X"}).status_code == 403
