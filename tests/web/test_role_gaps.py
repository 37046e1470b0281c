"""The access gaps of issue 25: an account without a role sees only a page saying so; the
service role starts at the customers, not at the dashboard's figures; the API never hands out
all customers at once, nor full phones to the service role."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from patron.core.services import token_create
from patron.customers.models import Customer

pytestmark = pytest.mark.django_db


def _as(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_account_without_a_role_sees_only_that_it_has_none(make_user: Any) -> None:
    Customer.objects.create(external_id="C1", name="张三", phone="13812345678")
    client = _as(make_user("newcomer"))
    home = client.get("/", headers={"Accept-Language": "en"})
    assert home.status_code == 200
    text = home.content.decode()
    assert 'id="no-role"' in text and "has no role yet" in text
    assert "张三" not in text and "Revenue" not in text
    zh = client.get("/", headers={"Accept-Language": "zh-hans"}).content.decode()
    assert 'id="no-role"' in zh and "has no role yet" not in zh  # translated
    for path in ("/customers/", "/customers/C1/", "/warnings/", "/reports/", "/api/v1/customers"):
        assert client.get(path).status_code in (401, 403), path


def test_the_service_role_starts_at_the_customers_not_the_figures(make_user: Any) -> None:
    response = _as(make_user("sam", "service")).get("/")
    assert response.status_code == 302 and response["Location"].endswith("/customers/")


def test_the_api_pages_and_masks_for_a_service_token(make_user: Any) -> None:
    Customer.objects.bulk_create(
        Customer(external_id=f"C{i:04d}", phone=f"1381234{i:04d}") for i in range(250)
    )
    make_user("api-sam", "service")
    _, token = token_create(username="api-sam")
    client = Client(headers={"Authorization": f"Bearer {token}"})
    assert client.get("/api/v1/customers?limit=100000000").status_code == 422
    page = client.get(f"/api/v1/customers?limit={settings.PATRON_API_MAX_PAGE}").json()
    assert len(page["items"]) == settings.PATRON_API_MAX_PAGE < 250
    assert all("****" in item["phone"] for item in page["items"])
