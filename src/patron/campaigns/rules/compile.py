"""Segment rules compiled to one database query: each checked condition becomes a ``Q`` over
the customers, by where its field is read from (the customer's columns and attributes, the
latest run's scores, the purchase summary and order lines, consent, the loyalty programme),
and the groups combine them. Every condition is true or false for every customer, so the
result equals the same filter done row by row."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db import connection
from django.db.models import (
    BooleanField,
    Exists,
    OuterRef,
    Q,
    QuerySet,
)
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from patron.campaigns.rules.fields import (
    ATTRIBUTE_PREFIX,
    DATE,
    LOOKUPS,
    MAX_DEPTH,
    PURCHASE_STATUSES,
    TAG,
    Field,
    tier_codes,
)
from patron.campaigns.rules.validation import condition_check, rule_error, rules_parse
from patron.customers.models import Customer


@dataclass
class Context:
    today: dt.date
    run_id: int | None
    conditions: int = 0
    annotations: dict[str, Any] = field(default_factory=dict)
    _run_loaded: bool = False


def run_id_of(context: Context) -> int | None:
    if not context._run_loaded:
        from patron.insights.selectors import analysis_run_latest

        run = analysis_run_latest()
        context.run_id = run.pk if run is not None else None
        context._run_loaded = True
    return context.run_id


def _compare(column: str, op: str, values: list[Any]) -> Q:
    if op == "between":
        return Q(**{f"{column}__gte": values[0], f"{column}__lte": values[1]})
    if op == "in":
        return Q(**{f"{column}__in": values})
    if op == "not_in":
        return ~Q(**{f"{column}__in": values})
    if op == "!=":
        return ~Q(**{column: values[0]})
    return Q(**{f"{column}__{LOOKUPS[op]}": values[0]})


def _score_q(f: Field, op: str, values: list[Any], context: Context) -> Q:
    from patron.insights.models import CustomerScore

    run_id = run_id_of(context)
    if run_id is None:
        return Q(pk__in=[])
    if op in ("!=", "not_in"):  # a value that is there and differs; no score: not met
        positive = {"!=": "=", "not_in": "in"}[op]
        inner = ~_compare(f.column, positive, values) & Q(**{f"{f.column}__isnull": False})
    else:
        inner = _compare(f.column, op, values)
    scores = CustomerScore.objects.filter(inner, run_id=run_id).values("customer_id")
    return Q(pk__in=scores)


def _meets(number: Decimal, op: str, values: list[Any]) -> bool:
    """Whether ``number`` meets the condition (for customers without a row: zero)."""
    if op == "between":
        return bool(values[0] <= number <= values[1])
    return {
        "=": number == values[0],
        "!=": number != values[0],
        ">": number > values[0],
        ">=": number >= values[0],
        "<": number < values[0],
        "<=": number <= values[0],
    }[op]


def _summaries() -> QuerySet[Any]:
    from patron.sales.models import PurchaseSummary

    return PurchaseSummary.objects.all()


def _day(today: dt.date, days: int) -> dt.date:
    """``today`` less ``days`` days, held within the calendar."""
    try:
        return today - dt.timedelta(days=days)
    except OverflowError:
        return dt.date.min if days > 0 else dt.date.max


def _days_since_q(op: str, values: list[Any], today: dt.date) -> Q:
    """Days since the last purchase, d = today - the summary's last purchase date (whole
    days), as a range of that date on its index; no purchase: d is missing, nothing met."""
    if op == "between":
        low, high = math.ceil(values[0]), math.floor(values[1])  # whole d in [low, high]
        if low > high:
            return Q(pk__in=[])
        dates = Q(last_purchase_on__lte=_day(today, low), last_purchase_on__gte=_day(today, high))
    else:
        n = values[0]
        whole = n == int(n)
        match op:
            case "<":  # d <= ceil(n) - 1
                dates = Q(last_purchase_on__gte=_day(today, math.ceil(n) - 1))
            case "<=":
                dates = Q(last_purchase_on__gte=_day(today, math.floor(n)))
            case ">":  # d >= floor(n) + 1
                dates = Q(last_purchase_on__lte=_day(today, math.floor(n) + 1))
            case ">=":
                dates = Q(last_purchase_on__lte=_day(today, math.ceil(n)))
            case "=":
                if not whole:
                    return Q(pk__in=[])
                dates = Q(last_purchase_on=_day(today, int(n)))
            case _:  # !=
                dates = ~Q(last_purchase_on=_day(today, int(n))) if whole else Q()
    return Q(pk__in=_summaries().filter(dates).values("customer_id"))


def _orders_q(f: Field, op: str, values: list[Any], context: Context) -> Q:
    from patron.sales.models import OrderLine

    if f.name == "days_since_last_purchase":
        return _days_since_q(op, values, context.today)
    if f.name == "category":
        lines = OrderLine.objects.filter(
            order__customer_id=OuterRef("pk"),
            order__status__in=PURCHASE_STATUSES,
            order__amount__gt=0,
            product__category__in=values,
        )
        bought = Q(Exists(lines))
        return bought if op == "in" else ~bought
    # orders and spend from the summary; a customer without a row has 0 of both
    meets = _compare(f.column, op, values)
    if _meets(Decimal(0), op, values):
        return ~Q(pk__in=_summaries().exclude(meets).values("customer_id"))
    return Q(pk__in=_summaries().filter(meets).values("customer_id"))


def _loyalty_q(f: Field, op: str, values: list[Any], context: Context) -> Q:
    """Membership tier (its code) and points balance (spendable now), for members only: a
    customer who is not a member, or a member without a tier, meets no condition on them."""
    if not apps.is_installed("patron.loyalty"):
        return Q(pk__in=[])
    from patron.loyalty.models import Member
    from patron.loyalty.selectors import member_points_queryset

    if f.name == "loyalty_tier":
        valid = tier_codes()
        unknown = [v for v in values if v not in valid]
        if unknown:
            raise rule_error(
                "rules",
                _("%(value)s is not a value of %(field)s; valid: %(valid)s")
                % {"value": json.dumps(unknown[0]), "field": f.name, "valid": ", ".join(valid)},
                valid=valid,
            )
        if op in ("!=", "not_in"):
            positive = {"!=": "=", "not_in": "in"}[op]
            inner = ~_compare("tier__code", positive, values) & Q(tier__isnull=False)
        else:
            inner = _compare("tier__code", op, values)
        return Q(pk__in=Member.objects.filter(inner).values("customer_id"))
    members = member_points_queryset(today=context.today).filter(_compare("points", op, values))
    return Q(pk__in=members.values("customer_id"))


def _condition(path: str, node: dict[str, Any], context: Context) -> Q:
    context.conditions += 1
    f, op, values = condition_check(path, node, number=context.conditions)
    return COMPILERS[f.source](f, op, values, context)


def _customer_q(f: Field, op: str, values: list[Any], context: Context) -> Q:
    if f.kind == TAG:
        if connection.vendor == "postgresql":
            has = Q(tags__contains=[values[0]])
        else:  # SQLite: the list's elements, exactly
            has = Q(
                RawSQL(
                    f'EXISTS (SELECT 1 FROM json_each("{Customer._meta.db_table}"."tags") t '
                    "WHERE t.value = %s)",
                    [values[0]],
                    output_field=BooleanField(),
                )
            )
        return has if op == "contains" else ~has
    if f.kind == DATE:  # nullable: a missing date meets no comparison
        present = Q(**{f"{f.column}__isnull": False})
        if op == "!=":
            return present & ~Q(**{f.column: values[0]})
        return present & _compare(f.column, op, values)
    return _compare(f.column, op, values)


def _attribute_q(f: Field, op: str, values: list[Any], context: Context) -> Q:
    key = f.name[len(ATTRIBUTE_PREFIX) :]
    column = f"attributes__{key}"
    present = Q(attributes__has_key=key)
    if op in ("=", "in"):
        return present & Q(**{f"{column}__in": values})
    return ~(present & Q(**{f"{column}__in": values})) & present


def _consent_q(f: Field, op: str, values: list[Any], context: Context) -> Q:
    from patron.customers.models import Consent

    granted = Q(
        Exists(Consent.objects.filter(customer_id=OuterRef("pk"), channel=f.column, granted=True))
    )
    return granted if values[0] else ~granted


COMPILERS: dict[str, Callable[[Field, str, list[Any], Context], Q]] = {
    "customer": _customer_q,
    "attribute": _attribute_q,
    "score": _score_q,
    "orders": _orders_q,
    "consent": _consent_q,
    "loyalty": _loyalty_q,
}


def node_q(path: str, node: Any, context: Context, depth: int) -> Q:
    if depth > MAX_DEPTH:
        raise rule_error(path, _("groups nested deeper than %(n)s levels") % {"n": MAX_DEPTH})
    if not isinstance(node, dict):
        raise rule_error(path, _("expected an object, got %(value)s") % {"value": json.dumps(node)})
    if set(node) == {"all"} or set(node) == {"any"}:
        kind = "all" if "all" in node else "any"
        children = node[kind]
        if not isinstance(children, list):
            raise rule_error(path, _("%(kind)s expects a list") % {"kind": kind})
        parts = [
            node_q(f"{path}.{kind}[{i}]", child, context, depth + 1)
            for i, child in enumerate(children)
        ]
        if not parts:
            return Q(pk__isnull=False) if kind == "all" else Q(pk__in=[])
        combined = parts[0]
        for part in parts[1:]:
            combined = (combined & part) if kind == "all" else (combined | part)
        return combined
    if set(node) == {"not"}:
        return ~node_q(f"{path}.not", node["not"], context, depth + 1)
    if "all" in node or "any" in node or "not" in node:
        raise rule_error(path, _("a group has exactly one key: all, any or not"))
    return _condition(path, node, context)


def segment_queryset(*, rules: Any, today: dt.date | None = None) -> QuerySet[Customer]:
    """The customers meeting ``rules`` as one query (unordered).

    Raises
    ------
    CampaignError
        Unknown fields or operators (with the valid ones), values of the wrong type.
    """
    context = Context(today=today or timezone.localdate(), run_id=None)
    condition = node_q("rules", rules_parse(rules), context, 0)
    queryset = Customer.objects.all()
    if context.annotations:
        queryset = queryset.annotate(**context.annotations)
    return queryset.filter(condition).order_by()


def rules_validate(*, rules: Any) -> Any:
    """Check ``rules`` (raises like :func:`segment_queryset`) and return them parsed."""
    parsed = rules_parse(rules)
    segment_queryset(rules=parsed)
    return parsed
