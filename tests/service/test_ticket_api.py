"""POST /api/v1/tickets with exactly the issue's shape: 201 {"id", "priority", "due_at"}."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from patron.core.services import token_create
from patron.service.models import Ticket
from patron.service.sla import business_hours_from_settings

pytestmark = pytest.mark.django_db


def _client(make_user: Any, role: str) -> Client:
    make_user(f"api-{role}", role)
    _, token = token_create(username=f"api-{role}")
    return Client(headers={"Authorization": f"Bearer {token}"})


def test_create_a_ticket_through_the_api(
    make_user: Any, make_customer: Any, make_order: Any
) -> None:
    # given
    customer = make_customer("C1", tier="very_high")
    order = make_order(customer, dt.date(2024, 6, 1))
    api = _client(make_user, "service")
    body = {
        "customer_id": "C1",
        "kind": "complaint",
        "category": "delivery",
        "channel": "wechat",
        "subject": "包裹没到",
        "text": "等了一周",
        "order_id": order.external_id,
    }
    # when
    response = api.post("/api/v1/tickets", body, content_type="application/json")
    # then
    assert response.status_code == 201
    data = response.json()
    assert set(data) == {"id", "priority", "due_at"}
    ticket = Ticket.objects.get(pk=data["id"])
    assert data["priority"] == "urgent" == ticket.priority
    # Django's JSON encoder writes times to the millisecond: equal at that precision (a ticket
    # opened in business hours is due at a time with microseconds, one opened at night at the
    # next opening, whole)
    shown = dt.datetime.fromisoformat(data["due_at"])
    assert ticket.due_at - dt.timedelta(milliseconds=1) < shown <= ticket.due_at
    assert ticket.due_at == business_hours_from_settings().add(ticket.opened_at, 4)  # 8 h × ½
    assert (ticket.order, ticket.channel, ticket.text) == (order, "wechat", "等了一周")
    # a numeric customer id and no order are fine too
    make_customer("12345")
    body.update(customer_id=12345, order_id=None, kind="question")
    assert api.post("/api/v1/tickets", body, content_type="application/json").status_code == 201


def test_bad_requests_name_what_is_wrong(make_user: Any, make_customer: Any) -> None:
    make_customer("C1")
    api = _client(make_user, "admin")
    body = {
        "customer_id": "C404",
        "kind": "complaint",
        "category": "delivery",
        "channel": "phone",
        "subject": "x",
        "text": "",
        "order_id": None,
    }
    response = api.post("/api/v1/tickets", body, content_type="application/json")
    assert response.status_code == 404
    assert response.json()["code"] == "customer_not_found"
    body.update(customer_id="C1", category="mars")
    response = api.post("/api/v1/tickets", body, content_type="application/json")
    assert response.status_code == 422
    assert "mars" in response.json()["extra"]["fields"]["category"][0]
    body.update(category="delivery", order_id="O-none")
    response = api.post("/api/v1/tickets", body, content_type="application/json")
    assert response.status_code == 422 and "order_id" in response.json()["extra"]["fields"]
    assert not Ticket.objects.exists()
    marketing = _client(make_user, "marketing")
    body.update(order_id=None)
    assert (
        marketing.post("/api/v1/tickets", body, content_type="application/json").status_code == 403
    )
