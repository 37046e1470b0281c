"""The demo business loads, and its printed login signs in."""

from __future__ import annotations

import pytest
from django.test import Client

from patron.core.errors import PatronError
from patron.customers.models import Customer
from patron.demo.loader import DEMO_PASSWORD, DEMO_USER, demo_load
from patron.sales.models import Order, OrderLine
from patron.sales.selectors import net_revenue

pytestmark = pytest.mark.django_db


def test_demo_loads_and_demo_login_works() -> None:
    state = demo_load(customers=300, seed=3)
    assert Customer.objects.count() == 300
    # (the generator's orders; the demo campaigns add their known extra orders beside them)
    assert Order.objects.exclude(source="demo-campaign").count() == state["orders"] > 300
    assert OrderLine.objects.exists()
    assert Order.objects.filter(status="returned", original_order__isnull=False).exists()
    assert net_revenue() > 0

    client = Client()
    assert client.get("/").status_code == 302  # signed out: to the sign-in page
    response = client.post("/accounts/login/", {"username": DEMO_USER, "password": DEMO_PASSWORD})
    assert response.status_code == 302
    home = client.get("/")
    assert home.status_code == 200 and "300" in home.content.decode()


def test_demo_refuses_a_database_with_real_customers() -> None:
    Customer.objects.create(external_id="REAL-1")
    with pytest.raises(PatronError, match="not a demo database"):
        demo_load(customers=50, seed=1)
    assert Customer.objects.count() == 1


def test_home_in_chinese() -> None:
    demo_load(customers=50, seed=1)
    client = Client()
    client.login(username=DEMO_USER, password=DEMO_PASSWORD)
    page = client.get("/", headers={"accept-language": "zh-hans"}).content.decode()
    assert "客户" in page and "退出" in page
