"""GET /api/v1/customers/{id}/recommendations answers within the role rules."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from patron.core.services import token_create
from patron.demo.recommend import AS_OF
from patron.recommend.services import recommendation_run_create

pytestmark = pytest.mark.django_db


def _client(make_user: Any, name: str, role: str | None) -> Client:
    make_user(name, role)
    _, token = token_create(username=name)
    return Client(headers={"Authorization": f"Bearer {token}"})


def test_recommendations_api_by_role(shop: dict[str, object], make_user: Any) -> None:
    run = recommendation_run_create(as_of=AS_OF, per_list=4, evaluate_days=None, tune=False)
    url = "/api/v1/customers/C01/recommendations"
    for role in ("admin", "marketing", "service", "analyst"):
        response = _client(make_user, f"u-{role}", role).get(url, {"list": "try_new", "n": 3})
        assert response.status_code == 200, (role, response.content)
        body = response.json()
        assert body["customer_id"] == "C01" and body["list"] == "try_new"
        assert body["as_of"] == str(run.as_of)
        assert 1 <= len(body["items"]) <= 3
        assert [i["rank"] for i in body["items"]] == list(range(1, len(body["items"]) + 1))
        assert body["items"][0]["reason_zh"]
    buy = _client(make_user, "u-buy", "analyst").get(url, {"list": "buy_again"})
    assert buy.status_code == 200 and buy.json()["items"][0]["sku"].startswith("TEA")
    # a user without a role, no token, an unknown list, an unknown customer
    assert _client(make_user, "u-none", None).get(url).status_code == 403
    assert Client().get(url).status_code == 401
    admin = _client(make_user, "u-admin2", "admin")
    assert admin.get(url, {"list": "everything"}).status_code == 422
    assert admin.get(url, {"n": 0}).status_code == 422
    missing = admin.get("/api/v1/customers/nobody/recommendations")
    assert missing.status_code == 404 and missing.json()["code"] == "customer_not_found"
