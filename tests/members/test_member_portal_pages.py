"""The portal's forms without a browser: sign-in by code, a wrong code's message, the data
download (JSON and CSV, formula-like text neutralised), preferences and consent forms."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from patron.customers.models import Consent
from patron.members.errors import CODE_INVALID
from patron.messaging.models import Unsubscribe

pytestmark = pytest.mark.django_db


def _signed_in(client: Client, email: str, code_of: Any) -> None:
    page = client.post("/member/login/", {"email": email})
    assert page.status_code == 200 and b'name="code"' in page.content
    wrong = client.post("/member/login/code/", {"email": email, "code": "000000"})
    if code_of(email) != "000000":
        assert wrong.status_code == 401 and str(CODE_INVALID) in wrong.content.decode()
    client.post("/member/login/", {"email": email})
    answer = client.post("/member/login/code/", {"email": email, "code": code_of(email)})
    assert answer.status_code == 302 and answer["Location"] == "/member/"


def test_sign_in_download_and_forms(member_with: Any, code_of: Any) -> None:
    # given a signed-in member whose name looks like a spreadsheet formula
    member = member_with("W1", points=120)
    member.customer.name = "=HYPERLINK(1)"
    member.customer.save()
    client = Client()
    _signed_in(client, "w1@example.com", code_of)
    assert member.card_number in client.get("/member/").content.decode()
    # the data download holds the member's data, the CSV neutralised
    data = json.loads(client.get("/member/data/my-data.json").content)
    assert data["membership"]["card_number"] == member.card_number
    assert data["statement"][0]["points"] == 120
    csv_text = client.get("/member/data/my-data.csv").content.decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in csv_text and member.card_number in csv_text
    # preferences: Chinese messages, no tier messages; the language cookie follows
    answer = client.post("/member/preferences/", {"language": "zh-hans", "n_member.expiring": "on",
                         "n_member.redeemed": "on", "n_member.order": "on",
                         "n_member.welcome": "on"})  # fmt: skip
    assert answer.status_code == 302 and answer.cookies["django_language"].value == "zh-hans"
    assert set(Unsubscribe.objects.values_list("topic", flat=True)) == {"member.tier"}
    # consent: e-mail and SMS on, offers off
    client.post("/member/consents/", {"c_email": "on", "c_sms": "on", "t_news": "on"})
    assert dict(Consent.objects.values_list("channel", "granted")) == {
        "email": True, "sms": True, "phone": False, "wechat": False
    }  # fmt: skip
    assert set(Unsubscribe.objects.values_list("topic", flat=True)) == {"member.tier", "offers"}
    # signing out ends the portal session
    client.post("/member/logout/")
    assert client.get("/member/").status_code == 302
