"""What the engine tests share: the orders whose money must or must not count, and the
comparison of two runs' figures. Imported by the test modules beside it (pytest puts this
folder on the path)."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any

import numpy as np
from django.utils import timezone

from patron.customers.models import Customer
from patron.sales.models import Order, OrderStatus


def odd_orders(customer_prefix: str, order_prefix: str, *, tie: bool = False) -> None:
    """Orders that must not count and some that must: ``{customer_prefix}-1`` buys, is
    refunded, returns part, has open, cancelled and unpaid orders (revenue 40.30 over 3 days);
    ``{customer_prefix}-2 只有退货`` has returns only (-5.00). With ``tie``, ``-3`` and ``-4``
    buy once each, on the same day for the same amount."""
    when = timezone.make_aware(dt.datetime(2024, 3, 1, 12))

    def order(customer: Customer, ext: str, amount: str, status: str, **extra: object) -> Order:
        return Order.objects.create(
            source="extra",
            external_id=f"{order_prefix}{ext}",
            customer=customer,
            ordered_at=when,
            ordered_on=when.date(),
            amount=Decimal(amount),
            status=status,
            **extra,
        )

    buyer = Customer.objects.create(external_id=f"{customer_prefix}-1")
    refunded = order(buyer, "1", "88.80", OrderStatus.REFUNDED)
    order(buyer, "1-R", "-88.80", OrderStatus.RETURNED, original_order=refunded)
    order(buyer, "2", "0.10", OrderStatus.COMPLETED, cost=Decimal("0.03"))
    order(buyer, "3", "0.20", OrderStatus.OPEN)
    order(buyer, "4", "999.99", OrderStatus.CANCELLED)
    order(buyer, "5", "12.34", OrderStatus.UNPAID)
    kept = order(buyer, "6", "50.00", OrderStatus.COMPLETED, cost=Decimal("20.00"))
    order(buyer, "6-R", "-10.00", OrderStatus.RETURNED, original_order=kept)
    only_returns = Customer.objects.create(external_id=f"{customer_prefix}-2 只有退货")
    order(only_returns, "7", "-5.00", OrderStatus.RETURNED)
    if tie:
        for n in (3, 4):
            name = f"{customer_prefix}-{n}"
            order(Customer.objects.create(external_id=name), f"{name}-O", "40.00", "completed")


def figure_differences(a: Any, b: Any, path: str = "") -> list[str]:
    """Where two figure documents differ: numbers beyond 1e-9 relative (1e-6 for the fitted
    model's parameters and holdout errors, which come from an optimiser), anything else."""
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return [f"{path}: keys {sorted(set(a) ^ set(b))}"]
        return [d for k in a for d in figure_differences(a[k], b[k], f"{path}/{k}")]
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        if len(a) != len(b):
            return [f"{path}: {len(a)} != {len(b)} items"]
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in figure_differences(x, y, f"{path}[{i}]")
        ]
    numbers = (int, float, np.integer, np.floating)
    if isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool):
        x, y = float(a), float(b)
        if math.isnan(x) and math.isnan(y):
            return []
        fitted = any(k in path for k in ("/params", "/scores", "/by_frequency", "tracking"))
        tolerance = 1e-6 if fitted else 1e-9
        return (
            [] if math.isclose(x, y, rel_tol=tolerance, abs_tol=1e-9) else [f"{path}: {a} != {b}"]
        )
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]
