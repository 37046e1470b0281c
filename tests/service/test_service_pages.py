"""The service pages answer in both languages with the figures of the store (the browser test
covers the queue, a ticket and the answer page)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from patron.service.models import SurveyResponse, SurveySettings
from patron.service.services import ticket_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(make_user: Any) -> Client:
    client = Client()
    client.force_login(make_user("sam", "service"))
    return client


def test_results_report_settings_and_360_panel(client: Client, make_customer: Any) -> None:
    customer = make_customer("C1", tier="very_high")
    ticket_create(customer=customer, kind="complaint", category="delivery", channel="phone",
                  subject="快递丢件")  # fmt: skip
    for i, score in enumerate([10, 9, 3, 7]):
        SurveyResponse.objects.create(
            customer=customer, nps=score, source="import", comment="物流太慢",
            answered_at=timezone.now() - dt.timedelta(days=i + 1),
        )  # fmt: skip
    zh = {"accept-language": "zh-hans"}
    results = client.get("/service/surveys/", headers=zh).content.decode()
    assert "问卷结果" in results and 'id="nps-tier-chart"' in results
    assert 'data-group="tier" data-key="very_high"' in results and "很高" in results
    assert "25.0" in results  # NPS: 2 promoters, 1 detractor of 4
    report = client.get("/service/report/", headers={"accept-language": "en"}).content.decode()
    assert "Service report" in report and 'data-category="delivery"' in report
    assert "<td>Delivery</td>" in report
    page = client.get("/customers/C1/", headers=zh).content.decode()
    assert "工单与问卷" in page and "快递丢件" in page and "NPS 10/10" in page
    settings = client.post("/service/surveys/settings/", {
        "kind": "nps", "nps-active": "on", "nps-every_days": "60", "nps-after_order_days": "5",
        "nps-link_valid_days": "14", "nps-drivers": ["delivery", "store"],
    })  # fmt: skip
    assert settings.status_code == 302
    saved = SurveySettings.objects.get(kind="nps")
    assert (saved.every_days, saved.drivers, saved.ask_comment) == (
        60,
        ["delivery", "store"],
        False,
    )


def test_new_ticket_form_names_bad_fields(client: Client, make_customer: Any) -> None:
    make_customer("C1")
    page = client.post("/service/tickets/new/", {
        "customer": "C404", "kind": "complaint", "category": "delivery", "channel": "phone",
        "subject": "x",
    }, headers={"accept-language": "zh-hans"})  # fmt: skip
    assert page.status_code == 400 and "没有此编号的客户" in page.content.decode()
    page = client.post("/service/tickets/new/", {
        "customer": "C1", "kind": "complaint", "category": "delivery", "channel": "phone",
        "subject": "包裹破损", "order": "",
    })  # fmt: skip
    assert page.status_code == 302 and "/service/tickets/" in page["Location"]
