"""The rules page: marketing sets the shop's rules; analysts and service may not."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from patron.recommend.models import ProductRule
from patron.recommend.services import recommend_settings_get

pytestmark = pytest.mark.django_db


def test_marketing_sets_rules_and_bad_input_is_named(
    shop: dict[str, object], make_user: Any
) -> None:
    client = Client()
    client.force_login(make_user("mia", "marketing"))
    saved = client.post(
        "/recommendations/rules/",
        {
            "action": "settings",
            "excluded_categories": "gift card，services",
            "margin_floor": "0.10",
        },
    )
    assert saved.status_code == 302
    settings = recommend_settings_get()
    assert settings.excluded_categories == ["gift card", "services"]
    assert str(settings.margin_floor) == "0.100" and settings.max_per_category is None
    pinned = client.post(
        "/recommendations/rules/",
        {"action": "rule", "sku": "TEA-GREEN", "kind": "pinned", "starts_on": "2024-06-01"},
    )
    assert pinned.status_code == 302
    assert ProductRule.objects.get(product__sku="TEA-GREEN").kind == "pinned"
    unknown = client.post(
        "/recommendations/rules/",
        {"action": "rule", "sku": "NOPE", "kind": "never"},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert unknown.status_code == 400
    assert "没有商品编码为 NOPE 的商品" in unknown.content.decode()
    backwards = client.post(
        "/recommendations/rules/",
        {
            "action": "rule",
            "sku": "CUP",
            "kind": "pinned",
            "starts_on": "2024-06-02",
            "ends_on": "2024-06-01",
        },
    )
    assert (
        backwards.status_code == 400
        and b"The end date is before the start date." in backwards.content
    )
    rule = ProductRule.objects.get()
    assert (
        client.post("/recommendations/rules/", {"action": "delete", "rule": rule.pk}).status_code
        == 302
    )
    assert not ProductRule.objects.exists()
    for role in ("analyst", "service"):
        other = Client()
        other.force_login(make_user(f"u-{role}", role))
        assert other.get("/recommendations/rules/").status_code == 403
