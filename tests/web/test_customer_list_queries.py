"""Query counts of the customer list and the customer 360 page: a fixed number of queries
whatever the number of rows shown, so an N+1 regression (a query per customer, order, line,
interaction or audit entry) fails here before it is slow on a million customers.

Each test first requests a page once, untimed and uncounted, so that the per-process caches
(the list's filter choices, content types) are warm; the counted request is the steady state.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from patron.customers.models import Consent, Customer, Interaction
from patron.sales.models import Order, OrderLine, Product

pytestmark = pytest.mark.django_db

# Session, user, the user's permissions (two queries, cached for the request); the page of
# rows and its capped count; the user's roles for the header. Filter choices are cached.
# The latest analysis run (its figures of the page's rows: one more query when there is one)
# and the user's saved views. A search first asks whether it is a whole id or phone (one probe).
LIST_QUERIES = 9
SEARCH_QUERIES = 1
# Session, user, permissions (2); the customer; key figures (one aggregate); consents;
# orders: count, page, lines, products; timeline: count, page (authors joined); audit:
# consent ids, entries (actors and content types joined; content types cached); the roles.
# The value panel looks up the latest two analysis runs and reads the purchases after the
# latest live; the churn warnings panel, its list. The panels of the acting apps add one
# fixed set each: the membership (loyalty), what the customer received (campaigns), tickets
# and survey answers (service), the two recommendation lists (recommend), and the member
# portal's use and notification log (members: profile, messages, their count and last send).
DETAIL_QUERIES = 27


def _customers(count: int, prefix: str) -> list[Customer]:
    customers = []
    for i in range(count):
        customer = Customer.objects.create(
            external_id=f"{prefix}{i:03d}",
            name=f"张{prefix}{i}",
            phone=f"138{i:08d}",
            email=f"{prefix.lower()}{i}@example.com",
            region="广东",
            acquisition_channel="门店",
            tags=["vip", "老客户"],
        )
        Consent.objects.create(
            customer=customer,
            channel="sms",
            granted=True,
            recorded_at=datetime(2024, 1, 1, tzinfo=UTC),
        )
        customers.append(customer)
    return customers


def _signed_in(make_user: Callable[..., Any], role: str = "admin") -> Client:
    client = Client()
    client.force_login(make_user(f"{role}-user", role=role))
    return client


def _count(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


LIST_URLS = [
    "/customers/",
    "/customers/?q=张",
    "/customers/?q=13800000001",
    "/customers/?region=广东&acquisition_channel=门店&tag=vip&consent=sms&sort=name",
    "/customers/?sort=-name",
    "/customers/?sort=newest",
]


@pytest.mark.parametrize("url", LIST_URLS)
def test_list_page_queries_do_not_grow_with_rows(
    url: str, make_user: Callable[..., Any], django_assert_num_queries: Any
) -> None:
    # given: one customer, then a full page and more (the page shows 25)
    client = _signed_in(make_user)
    _customers(1, "A")
    client.get(url)  # warm the caches
    few = _count(client, url)
    _customers(30, "B")
    # when / then
    expected = LIST_QUERIES + (SEARCH_QUERIES if "q=" in url else 0)
    with django_assert_num_queries(expected):
        response = client.get(url)
    assert response.status_code == 200
    assert few == expected
    assert b"B0" in response.content or "q=" in url  # the new rows are on the page


def test_list_next_page_keeps_the_same_count(
    make_user: Callable[..., Any], django_assert_num_queries: Any
) -> None:
    client = _signed_in(make_user)
    _customers(60, "C")
    first = client.get("/customers/")
    cursor = first.context["page"].next_cursor
    assert cursor
    with django_assert_num_queries(LIST_QUERIES):
        response = client.get(f"/customers/?after={cursor}")
    assert response.context["page"].customers[0].external_id == "C025"


def _busy_customer(prefix: str, orders: int, interactions: int, author: Any) -> Customer:
    customer = _customers(1, prefix)[0]
    Consent.objects.create(
        customer=customer,
        channel="email",
        granted=False,
        recorded_at=datetime(2024, 1, 2, tzinfo=UTC),
    )
    products = [Product.objects.create(sku=f"{prefix}-SKU{i}", name=f"茶{i}") for i in range(3)]
    for i in range(orders):
        day = date(2024, 1, 1) + timedelta(days=i)
        order = Order.objects.create(
            customer=customer,
            external_id=f"{prefix}-O{i}",
            ordered_on=day,
            ordered_at=datetime(day.year, day.month, day.day, 12, tzinfo=UTC),
            amount=Decimal("30.00"),
        )
        for line_no, product in enumerate(products, 1):
            OrderLine.objects.create(
                order=order, line_no=line_no, product=product, amount=Decimal("10.00")
            )
    for i in range(interactions):
        Interaction.objects.create(
            customer=customer,
            kind="note",
            text=f"note {i}",
            occurred_at=datetime(2024, 2, 1, tzinfo=UTC) + timedelta(hours=i),
            created_by=author,
        )
    customer.name = f"{customer.name} (edited)"  # one more audit entry
    customer.save()
    return customer


@pytest.mark.parametrize("role", ["admin", "service"])
def test_360_page_queries_do_not_grow_with_orders_lines_or_notes(
    role: str, make_user: Callable[..., Any], django_assert_num_queries: Any
) -> None:
    # given: a customer with one order and one note, and one with a page of each and more
    client = _signed_in(make_user, role)
    author = make_user("author", role="service")
    small = _busy_customer("S", orders=1, interactions=1, author=author)
    big = _busy_customer("L", orders=25, interactions=30, author=author)
    client.get(f"/customers/{small.external_id}/")  # warm the caches
    expected = _count(client, f"/customers/{small.external_id}/")
    # when / then
    with django_assert_num_queries(expected):
        response = client.get(f"/customers/{big.external_id}/")
    assert response.status_code == 200
    if role == "admin":  # sees every panel, the audit trail included
        assert expected == DETAIL_QUERIES
        assert "L-O24" in response.content.decode()  # the newest order, with its lines
        assert response.content.decode().count("茶0") >= 10


def test_360_page_later_pages_of_orders_and_timeline(
    make_user: Callable[..., Any], django_assert_num_queries: Any
) -> None:
    client = _signed_in(make_user)
    author = make_user("author", role="service")
    big = _busy_customer("P", orders=25, interactions=30, author=author)
    url = f"/customers/{big.external_id}/"
    client.get(url)
    with django_assert_num_queries(DETAIL_QUERIES):
        response = client.get(url + "?orders_page=3&timeline_page=2")
    assert "P-O0" in response.content.decode()  # the oldest order is on the last page
