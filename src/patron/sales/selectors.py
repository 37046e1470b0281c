"""Reads over products and orders."""

from __future__ import annotations

from decimal import Decimal

from django.db import connection
from django.db.models import QuerySet

from patron.customers.models import Customer
from patron.sales.models import REVENUE_STATUSES, Order, Product


def net_revenue() -> Decimal:
    """Completed orders minus returns, exact to the cent on every engine.

    Summing integer cents keeps SQLite (which stores decimals as REAL) exact.
    """
    table = connection.ops.quote_name(Order._meta.db_table)
    cents = "CAST(ROUND(amount * 100) AS BIGINT)"
    marks = ", ".join(["%s"] * len(REVENUE_STATUSES))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COALESCE(SUM({cents}), 0) FROM {table} WHERE status IN ({marks})",
            [str(s) for s in REVENUE_STATUSES],
        )
        total = int(cursor.fetchone()[0])
    return (Decimal(total) / 100).quantize(Decimal("0.01"))


def store_stats() -> dict[str, object]:
    return {
        "customers": Customer.objects.count(),
        "products": Product.objects.count(),
        "orders": Order.objects.count(),
        "revenue": net_revenue(),
    }


def order_list_for_customer(*, customer: Customer) -> QuerySet[Order]:
    return Order.objects.filter(customer=customer).prefetch_related("lines__product")
