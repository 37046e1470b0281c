"""Demo data for recommendations: a run on the demo business, and a small tea shop with known
30-day repurchase cycles that the tests and the docs use."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone


def demo_recommendations_create(*, as_of: dt.date) -> int | None:
    """Compute and store the demo's recommendation lists (with their evaluation) as of
    ``as_of``; returns the run id, or None when the demo has no item lines."""
    from patron.recommend.errors import RecommendError
    from patron.recommend.services import recommendation_run_create

    try:
        return recommendation_run_create(as_of=as_of, evaluate_days=30, tune=False).pk
    except RecommendError:
        return None


AS_OF = dt.date(2024, 7, 1)
PRODUCTS = [
    ("TEA-OOLONG", "乌龙茶", "tea", "50.00", "20.00"),
    ("TEA-CAKE", "茶饼", "tea", "30.00", "12.00"),
    ("TEA-GREEN", "绿茶", "tea", "40.00", "16.00"),
    ("CUP", "茶杯", "ware", "25.00", "10.00"),
    ("POT", "茶壶", "ware", "120.00", "118.00"),  # 1.7% margin: under a 10% floor
    ("GIFT-100", "礼品卡", "gift card", "100.00", "100.00"),
    ("SOLD-OUT", "限量茶", "tea", "60.00", "20.00"),
]


def tea_shop_create() -> dict[str, object]:
    """A small tea shop with known 30-day cycles (the tests and docs use it): 12 customers,
    seven products (one out of stock, a gift card, a 1.7%-margin pot), and C00's returned
    green tea."""
    from patron.customers.models import Customer
    from patron.sales.models import Order, OrderLine, OrderStatus, Product

    products = {
        sku: Product.objects.create(
            sku=sku,
            name=name,
            category=cat,
            unit_price=Decimal(price),
            unit_cost=Decimal(cost),
            in_stock=sku != "SOLD-OUT",
        )
        for sku, name, cat, price, cost in PRODUCTS
    }
    tz = timezone.get_current_timezone()
    n = 0

    def order(
        customer: Customer, day: dt.date, skus: list[str], status: str = OrderStatus.COMPLETED
    ) -> None:
        nonlocal n
        n += 1
        sign = -1 if status == OrderStatus.RETURNED else 1
        o = Order.objects.create(
            external_id=f"O{n}",
            customer=customer,
            ordered_at=dt.datetime.combine(day, dt.time(10), tzinfo=tz),
            ordered_on=day,
            amount=Decimal(sign * 10 * len(skus)),
            status=status,
        )
        for i, sku in enumerate(skus, 1):
            OrderLine.objects.create(
                order=o, line_no=i, product=products[sku], quantity=sign, amount=Decimal(sign * 10)
            )

    baskets = [
        ["TEA-OOLONG", "TEA-CAKE"],
        ["TEA-OOLONG", "TEA-CAKE", "CUP"],
        ["TEA-OOLONG", "POT", "GIFT-100", "SOLD-OUT"],
        ["TEA-GREEN", "TEA-OOLONG", "TEA-CAKE"],
    ]
    customers = []
    for c in range(12):
        customer = Customer.objects.create(external_id=f"C{c:02d}", name=f"顾客{c}")
        customers.append(customer)
        day = dt.date(2024, 1, 3) + dt.timedelta(days=c)
        while day < dt.date(2024, 6, 28):
            order(customer, day, baskets[(c + day.toordinal()) % len(baskets)][: 1 + (c % 3)])
            day += dt.timedelta(days=30)
    # C00 only ever bought oolong; C01 returned the green tea they never kept
    zhang = customers[0]
    order(zhang, dt.date(2024, 5, 20), ["TEA-GREEN"])
    order(zhang, dt.date(2024, 5, 25), ["TEA-GREEN"], status=OrderStatus.RETURNED)
    return {"customers": customers, "products": products}
