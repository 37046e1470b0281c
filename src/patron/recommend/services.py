"""Writes: compute and store a recommendation run; the shop's rules.

A run reads the store's item lines before its date (paid orders: completed, open, refunded;
a return's lines and negative quantities mark returned items), fits both lists with
:mod:`patron.analytics.recommend` (tuned on the last 30 days before the date), evaluates them
on held-out days beside the baselines, and writes every customer's lists in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from patron.recommend.errors import RecommendError, RecommendErrorCode
from patron.recommend.models import (
    ProductRule,
    ProductRuleKind,
    Recommendation,
    RecommendationRun,
    RecommendSettings,
    RunStatus,
)

NO_LINES = (
    "There are no item lines before %(date)s to recommend from: import orders with products first."
)
BAD_WINDOW = "The evaluation window of %(days)s days leaves no lines to fit on before %(date)s."
UNKNOWN_SKU = "No product with the SKU %(sku)s."
BATCH = 5000


@dataclass(frozen=True)
class StoreLines:
    """The store's item lines as columns (for :class:`patron.analytics.recommend.Lines`)."""

    columns: dict[str, list[Any]]
    returned: dict[str, frozenset[str]]
    catalogue: list[str]


def store_lines(*, before: date) -> StoreLines:
    """Item lines of paid orders before ``before``; returned items per customer."""
    from patron.sales.models import OrderLine, OrderStatus

    paid = (OrderStatus.COMPLETED, OrderStatus.OPEN, OrderStatus.REFUNDED)
    rows = OrderLine.objects.filter(
        product__isnull=False, order__ordered_on__lt=before
    ).values_list(
        "order__customer__external_id",
        "product__sku",
        "order__ordered_on",
        "quantity",
        "order__status",
    )
    customer: list[str] = []
    product: list[str] = []
    day: list[date] = []
    quantity: list[float] = []
    returned: dict[str, set[str]] = {}
    for cid, sku, on, qty, status in rows.iterator(chunk_size=BATCH):
        q = float(qty)
        if status == OrderStatus.RETURNED or q < 0:
            returned.setdefault(cid, set()).add(sku)
        elif status in paid and q > 0:
            customer.append(cid)
            product.append(sku)
            day.append(on)
            quantity.append(q)
    from patron.sales.models import Product

    return StoreLines(
        columns={"customer": customer, "product": product, "day": day, "quantity": quantity},
        returned={k: frozenset(v) for k, v in returned.items()},
        catalogue=list(Product.objects.values_list("sku", flat=True)),
    )


def recommend_settings_get() -> RecommendSettings:
    settings, _created = RecommendSettings.objects.get_or_create(pk=1)
    return settings


@transaction.atomic
def recommend_settings_update(
    *,
    excluded_categories: list[str] | None = None,
    margin_floor: Any = None,
    max_per_category: int | None = None,
) -> RecommendSettings:
    """Set the list-wide rules. Raises ValidationError."""
    settings = recommend_settings_get()
    settings.excluded_categories = sorted(
        {c.strip() for c in excluded_categories or [] if c.strip()}
    )
    settings.margin_floor = margin_floor
    settings.max_per_category = max_per_category
    settings.full_clean()
    settings.save()
    return settings


@transaction.atomic
def product_rule_set(
    *, sku: str, kind: str, starts_on: date | None = None, ends_on: date | None = None
) -> ProductRule:
    """Mark a product never to recommend, or pin it for a period. Raises ValidationError."""
    from patron.sales.models import Product

    product = Product.objects.filter(sku=sku).first()
    if product is None:
        raise ValidationError({"sku": _(UNKNOWN_SKU) % {"sku": sku}})
    rule = ProductRule.objects.filter(product=product, kind=kind).first() or ProductRule(
        product=product, kind=kind
    )
    rule.starts_on, rule.ends_on = starts_on, ends_on
    rule.full_clean()
    rule.save()
    return rule


@transaction.atomic
def product_rule_delete(*, rule_id: int) -> None:
    """Remove a never / pinned rule (nothing happens when it is gone already)."""
    ProductRule.objects.filter(pk=rule_id).delete()


def shop_rules(*, returned: dict[str, frozenset[str]]) -> Any:
    """The analytics :class:`Rules` from the products' flags and the shop's settings."""
    from patron.analytics.recommend import Pin, Rules, day_number
    from patron.sales.models import Product

    settings = recommend_settings_get()
    products = list(
        Product.objects.values_list(
            "sku", "category", "unit_price", "unit_cost", "for_sale", "in_stock"
        )
    )
    not_for_sale = frozenset(s for s, _c, _p, _k, sale, stock in products if not (sale and stock))
    margins = {
        s: float((p - k) / p) for s, _c, p, k, _s, _t in products if p and k is not None and p > 0
    }
    never = frozenset(
        ProductRule.objects.filter(kind=ProductRuleKind.NEVER).values_list(
            "product__sku", flat=True
        )
    )
    pins = tuple(
        Pin(
            sku=sku,
            start=None if start is None else day_number(start),
            end=None if end is None else day_number(end),
        )
        for sku, start, end in ProductRule.objects.filter(kind=ProductRuleKind.PINNED).values_list(
            "product__sku", "starts_on", "ends_on"
        )
    )
    return Rules(
        not_for_sale=not_for_sale,
        never=never,
        excluded_categories=frozenset(settings.excluded_categories or []),
        categories={s: c for s, c, *_ in products if c},
        margins=margins,
        margin_floor=None if settings.margin_floor is None else float(settings.margin_floor),
        max_per_category=settings.max_per_category,
        pinned=pins,
        returned=returned,
    )


def _segments() -> dict[str, str]:
    """Each customer's segment in the latest analysis run (for "customers like you")."""
    from patron.analytics.segments import SEGMENTS
    from patron.insights.models import CustomerScore
    from patron.insights.selectors import analysis_run_list

    run = analysis_run_list().defer("figures", "settings").first()
    if run is None:
        return {}
    labels = {s.code: s.label.get("en", s.code) for s in SEGMENTS}
    return {
        cid: labels.get(seg, seg)
        for cid, seg in CustomerScore.objects.filter(run=run).values_list(
            "customer__external_id", "segment"
        )
        if seg
    }


# The steps of a run, as msgids (a background job shows them translated, jobs.progress).
RUN_STEPS = (
    gettext_noop("Reading the item lines"),
    gettext_noop("Measuring on the held-out days"),
    gettext_noop("Fitting both lists"),
    gettext_noop("Storing the lists"),
)


def recommendation_run_create(
    *,
    as_of: date,
    per_list: int = 10,
    evaluate_days: int | None = 30,
    tune: bool = True,
    step: Callable[[str], None] | None = None,
) -> RecommendationRun:
    """Compute both lists for every customer as of ``as_of`` and store them as a run.

    ``step`` is called with each of :data:`RUN_STEPS` as it starts (a job's progress).
    Raises RecommendError when there is nothing to recommend from.
    """
    from patron.analytics.recommend import Lines, Recommender, day_number, evaluate

    say = step or (lambda _name: None)
    say(RUN_STEPS[0])
    data = store_lines(before=as_of)
    if not data.columns["customer"]:
        raise RecommendError(
            _(NO_LINES) % {"date": as_of.isoformat()}, code=RecommendErrorCode.NO_LINES
        )
    lines = Lines.from_columns(data.columns, products=data.catalogue)
    segments = _segments()
    cut = day_number(as_of)
    evaluation = None
    if evaluate_days:
        if int(lines.day.min()) >= cut - evaluate_days:
            raise RecommendError(
                _(BAD_WINDOW) % {"days": evaluate_days, "date": as_of.isoformat()},
                code=RecommendErrorCode.BAD_WINDOW,
            )
        say(RUN_STEPS[1])
        evaluation = evaluate(
            lines,
            as_of=cut,
            days=evaluate_days,
            recommender=Recommender(tune=tune, tune_customers=5000),
            segments=segments,
        ).as_dict()
    say(RUN_STEPS[2])
    rec = Recommender(tune=tune, tune_customers=5000).fit(lines, as_of=cut, segments=segments)
    rules = shop_rules(returned=data.returned)
    from patron.sales.models import Product

    names = dict(Product.objects.exclude(name="").values_list("sku", "name"))
    table = rec.recommend(None, per_list, rules=rules, names=names)
    say(RUN_STEPS[3])
    return _store(as_of=as_of, per_list=per_list, table=table, evaluation=evaluation, rec=rec)


@transaction.atomic
def _store(
    *, as_of: date, per_list: int, table: Any, evaluation: Any, rec: Any
) -> RecommendationRun:
    from patron.customers.models import Customer
    from patron.sales.models import Product

    run = RecommendationRun(
        as_of=as_of,
        per_list=per_list,
        evaluation=evaluation,
        settings={"tuning": _jsonable(rec.tuning_)},
    )
    run.full_clean()
    run.save()
    customer_ids = dict(Customer.objects.values_list("external_id", "pk"))
    product_ids = dict(Product.objects.values_list("sku", "pk"))
    batch: list[Recommendation] = []
    for row in table.itertuples(index=False):
        batch.append(
            Recommendation(
                run=run,
                customer_id=customer_ids[row.customer_id],
                list=row.list,
                rank=int(row.rank),
                product_id=product_ids[row.sku],
                score=float(row.score),
                reason_en=row.reason_en[:300],
                reason_zh=row.reason_zh[:300],
            )
        )
        if len(batch) >= BATCH:
            Recommendation.objects.bulk_create(batch)
            batch = []
    Recommendation.objects.bulk_create(batch)
    run.customers = int(table["customer_id"].nunique()) if len(table) else 0
    run.status = RunStatus.COMPLETED
    run.finished_at = timezone.now()
    run.save(update_fields=["customers", "status", "finished_at"])
    return run


def _jsonable(value: Any) -> Any:
    import json

    return json.loads(json.dumps(value, default=str))
