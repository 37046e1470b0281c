"""Member self-service fixtures: members with e-mail addresses, a reward, a way to sign in
through the real code path (the code read from the outbox message)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from patron.customers.models import Customer
from patron.loyalty import services as loyalty
from patron.loyalty.models import Member, Reward
from patron.messaging.models import OutboxMessage


@pytest.fixture
def member_with() -> Callable[..., Member]:
    def make(external_id: str, *, points: int = 0, email: str | None = None) -> Member:
        Customer.objects.create(
            external_id=external_id,
            name=f"Name {external_id}",
            email=email if email is not None else f"{external_id.lower()}@example.com",
        )
        member = loyalty.member_enrol(
            customer_id=external_id, enrolled_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
        )
        if points:
            loyalty.points_grant(
                customer_id=member.customer_id,
                points=points,
                reason="gift",
                source=f"g:{external_id}",
            )
        return member

    return make


@pytest.fixture
def reward() -> Reward:
    return Reward.objects.create(code="mug", name_en="Mug", name_zh="马克杯", points_cost=100)


def _code_of(email: str) -> str:
    """The code of the newest sign-in message to ``email`` (the outbox holds what is sent)."""
    message = (
        OutboxMessage.objects.filter(recipient=email, key__startswith="member.code:")
        .order_by("-pk")
        .first()
    )
    assert message is not None, f"no code message to {email}"
    found = re.search(r"\b(\d{6})\b", message.body_text)
    assert found
    return found.group(1)


@pytest.fixture
def sign_in() -> Callable[[str], str]:
    """A member token through POST /code and POST /session."""

    def do(email: str) -> str:
        client = Client()
        answer = client.post(
            "/api/v1/member/code", {"email": email}, content_type="application/json"
        )
        assert answer.status_code == 202
        answer = client.post(
            "/api/v1/member/session",
            {"email": email, "code": _code_of(email)},
            content_type="application/json",
        )
        assert answer.status_code == 200, answer.content
        return str(answer.json()["token"])

    return do


def _bearer(token: str) -> dict[str, Any]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def bearer() -> Callable[[str], dict[str, Any]]:
    """Headers with a member token: ``bearer(token)``."""
    return _bearer


@pytest.fixture
def code_of() -> Callable[[str], str]:
    """The newest sign-in code mailed to an address: ``code_of(email)``."""
    return _code_of
