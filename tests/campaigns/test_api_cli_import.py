"""The API with the issue's exact shapes, coupons redeemed once, the signed click redirect,
the CLI (segments count, campaigns list/launch/status) and `patron import campaign-contacts`
with Chinese headers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from typer.testing import CliRunner

from patron.accounts.services import user_role_set
from patron.campaigns.content import click_url
from patron.campaigns.models import Campaign, Response, Target
from patron.cli.app import app
from patron.core.services import token_create
from patron.customers.models import Consent, Customer

pytestmark = pytest.mark.django_db


def _client(role: str) -> Client:
    user = get_user_model().objects.create_user(f"{role}-api", password="x-long-password-1")
    user_role_set(user=user, role=role)
    _, token = token_create(username=user.username)
    return Client(headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def shop() -> list[Customer]:
    customers = [
        Customer.objects.create(
            external_id=f"K{i}", email=f"k{i}@x.test", region="上海" if i % 2 else "北京"
        )
        for i in range(20)
    ]
    for c in customers:
        Consent.objects.create(
            customer=c, channel="email", granted=True, recorded_at=timezone.now()
        )
    return customers


def test_api_shapes_from_segment_to_status(
    shop: list[Customer], django_capture_on_commit_callbacks: Any
) -> None:
    api = _client("marketing")
    rules = {"all": [{"field": "region", "op": "=", "value": "上海"}]}
    # segments: create and count
    created = api.post(
        "/api/v1/segments", {"name": "上海", "rules": rules}, content_type="application/json"
    )
    assert created.status_code == 201
    assert set(created.json()) == {"id", "count"} and created.json()["count"] == 10
    counted = api.post(
        "/api/v1/segments/count", {"rules": {"all": []}}, content_type="application/json"
    )
    assert counted.status_code == 200 and counted.json() == {"count": 20}
    # bad rules: 400 naming the valid fields
    bad = api.post(
        "/api/v1/segments/count",
        {"rules": {"all": [{"field": "x", "op": "=", "value": 1}]}},
        content_type="application/json",
    )
    assert bad.status_code == 400 and "valid fields" in bad.json()["message"]
    # campaigns: create, launch (202), status
    payload = {
        "name": "spring",
        "segment_id": created.json()["id"],
        "channel": "email",
        "subject": "Hi",
        "body_text": "Hello {{ name }}",
        "body_html": "<p>Hi</p>",
        "control_share": 0.2,
        "attribution_days": 14,
    }
    campaign = api.post("/api/v1/campaigns", payload, content_type="application/json")
    assert campaign.status_code == 201 and set(campaign.json()) == {"id"}
    campaign_id = campaign.json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        launched = api.post(f"/api/v1/campaigns/{campaign_id}/launch")
    assert launched.status_code == 202
    status = api.get(f"/api/v1/campaigns/{campaign_id}")
    assert status.status_code == 200
    body = status.json()
    assert set(body) == {"status", "targeted", "sent", "held_out", "skipped", "failed"}
    assert body["targeted"] == 10 and isinstance(body["skipped"], dict)
    assert (
        body["targeted"]
        == body["held_out"]
        + body["sent"]
        + sum(body["skipped"].values())
        + (body["failed"])
        + Target.objects.filter(campaign_id=campaign_id, message__status="queued").count()
    )
    # an analyst reads but does not launch
    analyst = _client("analyst")
    assert analyst.get(f"/api/v1/campaigns/{campaign_id}").status_code == 200
    assert analyst.post(f"/api/v1/campaigns/{campaign_id}/launch").status_code == 403
    assert api.get("/api/v1/campaigns/999999").status_code == 404


def test_a_coupon_is_redeemed_once_and_a_click_is_recorded(shop: list[Customer]) -> None:
    # given an exported campaign with coupons
    from patron.campaigns.audience import audience_freeze
    from patron.campaigns.services import campaign_create, segment_create

    segment = segment_create(name="all", rules={"all": []})
    campaign = campaign_create(
        name="codes",
        segment_id=segment.pk,
        channel="export",
        control_share=0.0,
        offer="coupon",
        link_url="https://shop.example/spring",
    )
    audience_freeze(campaign=campaign, occurrence=1)
    target = Target.objects.filter(campaign=campaign).exclude(coupon_code=None).first()
    api = _client("admin")
    # when it is redeemed twice
    first = api.post(
        f"/api/v1/coupons/{target.coupon_code.lower()}/redeem",
        {"order_id": "A-1"},
        content_type="application/json",
    )
    second = api.post(
        f"/api/v1/coupons/{target.coupon_code}/redeem",
        {"order_id": "A-2"},
        content_type="application/json",
    )
    # then once only
    assert first.status_code == 200 and first.json()["customer_id"] == target.customer.external_id
    assert second.status_code == 409 and second.json()["code"] == "campaigns.coupon_used"
    assert Response.objects.filter(kind="redeem").count() == 1
    assert (
        api.post(
            "/api/v1/coupons/NOPE/redeem", {"order_id": "x"}, content_type="application/json"
        ).status_code
        == 404
    )
    # and a signed link redirects and is recorded; a forged one is refused
    url = click_url(campaign_id=campaign.pk, occurrence=1, customer_id=target.customer_id)
    path = url.split("://", 1)[1].split("/", 1)[1]
    answer = Client().get("/" + path)
    assert answer.status_code == 302 and answer["Location"] == "https://shop.example/spring"
    assert Client().get("/campaigns/c/forged/").status_code == 404
    assert Response.objects.filter(kind="click", customer=target.customer).count() == 1


def test_cli_segments_and_campaigns(shop: list[Customer], tmp_path: Path) -> None:
    runner = CliRunner()
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps({"any": [{"field": "region", "op": "=", "value": "北京"}]}))
    result = runner.invoke(app, ["segments", "count", str(rules), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"count": 10}
    rules.write_text('{"all": [{"field": "nope", "op": "=", "value": 1}]}')
    bad = runner.invoke(app, ["segments", "count", str(rules)])
    assert bad.exit_code == 1 and "valid fields" in bad.output
    from patron.campaigns.services import campaign_create, segment_create

    segment = segment_create(name="all", rules={"all": []})
    campaign = campaign_create(
        name="cli", segment_id=segment.pk, channel="email", subject="s", body_text="t"
    )
    listed = runner.invoke(app, ["campaigns", "list", "--json"])
    assert json.loads(listed.output)[0]["name"] == "cli"
    launched = runner.invoke(app, ["campaigns", "launch", str(campaign.pk), "--json"])
    assert launched.exit_code == 0, launched.output
    status = runner.invoke(app, ["campaigns", "status", str(campaign.pk), "--json"])
    assert status.exit_code == 0 and "targeted" in json.loads(status.output)
    assert runner.invoke(app, ["campaigns", "status", "99999"]).exit_code == 1


def test_import_campaign_contacts_with_chinese_headers(
    shop: list[Customer], tmp_path: Path
) -> None:
    runner = CliRunner()
    good = tmp_path / "contacts.csv"
    good.write_text(
        "客户编号,活动,分组,触达时间\nK1,春节活动,实验组,2024-02-01 10:00\n"
        "K2,春节活动,对照组,2024-02-01 10:00\nK3,春节活动,treatment,2024/02/01\n",
        encoding="gbk",
    )
    result = runner.invoke(app, ["import", "campaign-contacts", str(good), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["added"] == 3
    campaign = Campaign.objects.get(name="春节活动")
    groups = dict(
        Target.objects.filter(campaign=campaign).values_list("customer__external_id", "group")
    )
    assert groups == {"K1": "treatment", "K2": "control", "K3": "treatment"}
    # a bad file: every bad line named, nothing written
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "customer_id,campaign,group,contacted_at\nK4,x,treatment,2024-01-01\n"
        "NOBODY,x,maybe,yesterday\n",
        encoding="utf-8",
    )
    failed = runner.invoke(app, ["import", "campaign-contacts", str(bad)])
    assert failed.exit_code == 1
    assert "line 3 group 'maybe'" in failed.output and "line 3 contacted_at" in failed.output
    assert "group must be treatment or control" in " ".join(failed.output.split())
    # well-formed rows of a customer the store does not know: named too, nothing written
    unknown = tmp_path / "unknown.csv"
    unknown.write_text(
        "customer_id,campaign,group,contacted_at\nK4,x,treatment,2024-01-01\n"
        "NOBODY,x,control,2024-01-01\n",
        encoding="utf-8",
    )
    failed = runner.invoke(app, ["import", "campaign-contacts", str(unknown)])
    assert failed.exit_code == 1
    assert "line 3: no customer NOBODY" in failed.output
    assert not Campaign.objects.filter(name="x").exists()
