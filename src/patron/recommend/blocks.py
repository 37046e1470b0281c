"""Reads: the "recommended for you" block of a campaign message, per recipient.

A campaign's text may hold ``{{ recommended }}``; when its messages are rendered (at freeze,
a preview or a test send) :func:`recommended_block` gives each recipient their top items of
the latest completed run, in the recipient's language, under the shop's rules *as they are
now* (a product taken off sale, out of stock, marked never, in an excluded category or below
the margin floor since the run is left out, and so is any item the customer has returned).
A cross-sell campaign leads with "try new" (items new to the customer); the others with "buy
again". A customer without a list gets an empty block.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import F, Q

from patron.recommend.models import (
    ListKind,
    ProductRuleKind,
    Recommendation,
    RecommendationRun,
    RecommendSettings,
)

BLOCK_ITEMS = 3
HEADINGS = {"en": "Recommended for you:", "zh-hans": "为您推荐："}


@dataclass(frozen=True)
class RecommendedBlock:
    text: str
    html: str
    skus: tuple[str, ...]


EMPTY = RecommendedBlock("", "", ())


def _allowed_now(settings: RecommendSettings | None) -> Q:
    """The products the shop's rules let a list show today."""
    allowed = Q(product__for_sale=True, product__in_stock=True) & ~Q(
        product__recommend_rules__kind=ProductRuleKind.NEVER
    )
    if settings is not None and settings.excluded_categories:
        allowed &= ~Q(product__category__in=settings.excluded_categories)
    if settings is not None and settings.margin_floor is not None:
        floor = Decimal(settings.margin_floor)
        below = Q(
            product__unit_price__gt=0,
            product__unit_cost__isnull=False,
            product__unit_cost__gt=F("product__unit_price") * (Decimal(1) - floor),
        )
        allowed &= ~below
    return allowed


def recommended_items(
    *,
    customer_id: int,
    n: int = BLOCK_ITEMS,
    new_first: bool = False,
    run: RecommendationRun | None = None,
) -> list[Recommendation]:
    """The customer's top ``n`` items for a message, the shop's rules applied now."""
    from patron.recommend.selectors import recommendation_run_latest
    from patron.sales.models import OrderLine, OrderStatus

    run = run or recommendation_run_latest()
    if run is None or n < 1:
        return []
    settings = RecommendSettings.objects.filter(pk=1).first()
    returned = OrderLine.objects.filter(
        order__customer_id=customer_id, product__isnull=False
    ).filter(Q(order__status=OrderStatus.RETURNED) | Q(quantity__lt=0))
    rows = (
        Recommendation.objects.filter(run=run, customer_id=customer_id)
        .filter(_allowed_now(settings))
        .exclude(product_id__in=returned.values("product_id"))
        .select_related("product")
        .order_by("list", "rank")
        .distinct()
    )
    first = ListKind.TRY_NEW if new_first else ListKind.BUY_AGAIN
    ordered = sorted(rows, key=lambda r: (r.list != first, r.rank))
    out: list[Recommendation] = []
    seen: set[int] = set()
    for r in ordered:
        if r.product_id not in seen:
            seen.add(r.product_id)
            out.append(r)
        if len(out) == n:
            break
    return out


def recommended_block(
    *, customer_id: int, language: str, n: int = BLOCK_ITEMS, new_first: bool = False
) -> RecommendedBlock:
    """The block as plain text and as HTML (names escaped) in ``language``."""
    items = recommended_items(customer_id=customer_id, n=n, new_first=new_first)
    if not items:
        return EMPTY
    heading = HEADINGS["zh-hans" if language == "zh-hans" else "en"]
    names = [r.product.name or r.product.sku for r in items]
    text = heading + "".join(f"\n- {name}" for name in names)
    body = "".join(f"<li>{html.escape(name)}</li>" for name in names)
    block_html = f'<p class="recommended">{html.escape(heading)}</p><ul>{body}</ul>'
    return RecommendedBlock(text, block_html, tuple(r.product.sku for r in items))
