"""Loyalty fixtures: customers, members, orders written through the importer's API path."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from patron.customers.models import Customer
from patron.loyalty import services
from patron.loyalty.models import Member

ENROLLED = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def member_of() -> Callable[..., Member]:
    """A member for customer ``external_id`` (created), enrolled on 2024-01-01."""

    def make(external_id: str = "C1", **kwargs: Any) -> Member:
        Customer.objects.get_or_create(external_id=external_id, defaults={"name": external_id})
        kwargs.setdefault("enrolled_at", ENROLLED)
        return services.member_enrol(customer_id=external_id, **kwargs)

    return make


@pytest.fixture
def send_orders() -> Callable[..., dict[str, Any]]:
    """Orders through the orders API's service (the importer's path): [(id, customer, amount,
    status, original)]."""
    from patron.sales.services import order_batch_import

    def send(
        *orders: tuple[Any, ...], source: str = "api", day: str = "2024-03-01"
    ) -> dict[str, Any]:
        batch = []
        for order in orders:
            oid, customer, amount, status, *rest = order
            batch.append(
                {
                    "order_id": oid,
                    "customer_id": customer,
                    "ordered_at": f"{day}T12:00:00+00:00",
                    "amount": str(amount),
                    "status": status,
                    "original_order_id": rest[0] if rest else None,
                }
            )
        report = order_batch_import(orders=batch, source=source)
        assert report["rejected"] == 0, report["errors"]
        return report

    return send


@pytest.fixture
def move_order() -> Callable[..., None]:
    """A status change as a platform export brings it (open, refunded: statuses the generic
    file and the orders API do not take), then the importer's loyalty call."""
    from patron.sales.models import Order

    def move(order_id: str, status: str, *, source: str = "api") -> None:
        Order.objects.filter(source=source, external_id=order_id).update(status=status)
        services.points_after_import(source=source, since_id=0, changed=True)

    return move
