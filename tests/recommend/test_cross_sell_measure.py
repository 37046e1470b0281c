"""The cross-sell measurement: per group, the share who bought a product new to them and the
share who bought one of their recommended items, within the window after the contact."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest
from django.utils import timezone

from patron.customers.models import Customer
from patron.recommend.measure import cross_sell_outcome
from patron.recommend.models import Recommendation
from patron.recommend.services import recommendation_run_create
from patron.sales.models import Order, OrderLine, Product

pytestmark = pytest.mark.django_db

CONTACT = dt.date(2024, 6, 1)
WINDOW = 14


def _naive(customer: Customer, products: set[int] | None) -> bool:
    """Bought (in the window) a product new to them, or one of ``products``: by a loop."""
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(CONTACT, dt.time(0), tzinfo=tz)
    end = start + dt.timedelta(days=WINDOW)
    lines = OrderLine.objects.filter(
        order__customer=customer, product__isnull=False, quantity__gt=0
    ).exclude(order__status="returned")
    before = {x.product_id for x in lines if x.order.ordered_at < start}
    inside = {x.product_id for x in lines if start <= x.order.ordered_at < end}
    return bool(inside - before) if products is None else bool(inside & products)


def test_rates_match_a_loop_over_the_lines(shop: dict[str, object]) -> None:
    run = recommendation_run_create(as_of=CONTACT, per_list=5, evaluate_days=None, tune=False)
    customers = list(Customer.objects.order_by("external_id"))
    # a product nobody had, bought by C01 three days after the contact
    fresh = Product.objects.create(sku="TEA-NEW", name="新茶", unit_price=Decimal("9"))
    tz = timezone.get_current_timezone()
    order = Order.objects.create(
        external_id="X1",
        customer=customers[1],
        ordered_at=dt.datetime(2024, 6, 4, 10, tzinfo=tz),
        ordered_on=dt.date(2024, 6, 4),
        amount=Decimal("9"),
        status="completed",
    )
    OrderLine.objects.create(order=order, line_no=1, product=fresh, quantity=1, amount=9)
    contacted = pd.Timestamp(dt.datetime.combine(CONTACT, dt.time(0), tzinfo=tz)).tz_convert("UTC")
    rows = pd.DataFrame(
        {
            "customer_id": [c.pk for c in customers],
            "contacted_at": [contacted] * len(customers),
            "treated": [i % 2 == 1 for i in range(len(customers))],
        }
    )

    out = cross_sell_outcome(rows=rows, window_days=WINDOW)

    assert out["run_as_of"] == "2024-06-01"
    for key in ("new_item", "recommended"):
        expected = []
        for c in customers:
            products = (
                None
                if key == "new_item"
                else set(
                    Recommendation.objects.filter(run=run, customer=c).values_list(
                        "product_id", flat=True
                    )
                )
            )
            expected.append(_naive(c, products))
        flags = pd.Series(expected)
        treated = rows["treated"]
        assert out[key]["treatment"] == pytest.approx(flags[treated].mean())
        assert out[key]["control"] == pytest.approx(flags[~treated].mean())
        up = out[key]["uplift"]
        assert up["estimate"] == pytest.approx(flags[treated].mean() - flags[~treated].mean())
        assert up["ci_low"] <= up["estimate"] <= up["ci_high"]
    assert out["new_item"]["treatment"] > 0  # C01 (treated) bought the new tea
    assert out["recommended"]["treatment"] + out["recommended"]["control"] > 0


def test_no_run_before_the_contact_means_no_recommended_buyers(shop: dict[str, object]) -> None:
    recommendation_run_create(as_of=dt.date(2024, 7, 1), per_list=5, evaluate_days=None, tune=False)
    customers = list(Customer.objects.order_by("external_id"))
    rows = pd.DataFrame(
        {
            "customer_id": [c.pk for c in customers],
            "contacted_at": [pd.Timestamp("2024-06-01", tz="UTC")] * len(customers),
            "treated": [i % 2 == 0 for i in range(len(customers))],
        }
    )
    out = cross_sell_outcome(rows=rows, window_days=WINDOW)
    assert out["run_as_of"] is None
    assert out["recommended"]["treatment"] == 0.0 and out["recommended"]["control"] == 0.0


def test_a_cross_sell_campaign_page_shows_the_rates(
    shop: dict[str, object], make_user: object
) -> None:
    from django.test import Client

    from patron.campaigns.measure import campaign_report
    from patron.campaigns.models import Campaign, Target

    recommendation_run_create(as_of=CONTACT, per_list=5, evaluate_days=None, tune=False)
    tz = timezone.get_current_timezone()
    at = dt.datetime.combine(CONTACT, dt.time(9), tzinfo=tz)
    campaign = Campaign.objects.create(
        name="Try something new", goal="cross_sell", launched_at=at, attribution_days=WINDOW
    )
    for i, customer in enumerate(Customer.objects.order_by("external_id")):
        Target.objects.create(
            campaign=campaign,
            customer=customer,
            group="treatment" if i % 2 else "control",
            state="sent" if i % 2 else "pending",
            contacted_at=at,
        )
    report = campaign_report(campaign=campaign)
    assert report["available"] and report["cross_sell"]["run_as_of"] == "2024-06-01"
    other = Campaign.objects.create(name="Plain", goal="frequency", launched_at=at)
    assert "cross_sell" not in campaign_report(campaign=other)

    client = Client(headers={"accept-language": "zh-hans"})
    client.force_login(make_user("mia", "marketing"))  # type: ignore[operator]
    page = client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert 'id="report-cross-sell"' in page and "买了以前没买过的商品" in page
