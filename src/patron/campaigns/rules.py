"""Segment rules: a JSON tree of conditions compiled to one database query (never a loop over
customers in Python). The same JSON in the web builder, the API and the CLI::

    {"all": [{"field": "value_tier", "op": "in", "value": ["very_high", "high"]},
             {"any": [{"field": "days_since_last_purchase", "op": ">", "value": 90},
                      {"field": "churn_risk", "op": "=", "value": "high"}]}]}

A node is ``{"all": [...]}`` (AND; ``{"all": []}`` is everyone), ``{"any": [...]}`` (OR; an
empty one is no one), ``{"not": node}`` or a condition ``{"field", "op", "value"}``. Every
condition is true or false for every customer (a customer without a score in the latest run,
or without the value, does not meet it; ``not`` of it then holds), so the result equals the
same filter done row by row.

Fields: the customer's own columns, ``attributes.<key>`` (questionnaire answers and other
kept columns), the latest completed analysis run's scores, behaviour read from the orders
(days since the last purchase, orders, spend, categories bought) and consent per channel.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db import connection, transaction
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

from patron.campaigns.errors import CampaignError, CampaignErrorCode
from patron.customers.models import Customer
from patron.sales.models import PURCHASE_STATUSES as SALES_PURCHASE_STATUSES

MAX_DEPTH = 8
MAX_CONDITIONS = 100

STRING = "string"
NUMBER = "number"
DATE = "date"
BOOL = "bool"
TAG = "tag"
CATEGORY = "category"

OPS: dict[str, tuple[str, ...]] = {
    STRING: ("=", "!=", "in", "not_in"),
    NUMBER: ("=", "!=", ">", ">=", "<", "<=", "between"),
    DATE: ("=", "!=", ">", ">=", "<", "<=", "between"),
    BOOL: ("=",),
    TAG: ("contains", "not_contains"),
    CATEGORY: ("in", "not_in"),
}
LOOKUPS = {"=": "exact", ">": "gt", ">=": "gte", "<": "lt", "<=": "lte"}
# Orders that are a purchase: paid, not a return (patron.sales.models).
PURCHASE_STATUSES = tuple(str(s) for s in SALES_PURCHASE_STATUSES)


@dataclass(frozen=True)
class Field:
    name: str
    kind: str
    label_en: str
    label_zh: str
    column: str = ""  # the customer column, or the score column for source "score"
    source: str = "customer"  # customer, attribute, score, orders, consent
    choices: tuple[str, ...] = ()


FIELDS: dict[str, Field] = {
    f.name: f
    for f in (
        Field("region", STRING, "Region", "省份", "region"),
        Field("city", STRING, "City", "城市", "city"),
        Field("gender", STRING, "Gender", "性别", "gender", choices=("m", "f", "u")),
        Field("occupation", STRING, "Occupation", "职业", "occupation"),
        Field(
            "acquisition_channel", STRING, "Acquisition channel", "获客渠道", "acquisition_channel"
        ),
        Field("acquired_on", DATE, "Acquired on", "获客日期", "acquired_on"),
        Field("birth_date", DATE, "Birth date", "出生日期", "birth_date"),
        Field("tags", TAG, "Tags", "标签", "tags"),
        Field("rfm_segment", STRING, "RFM segment", "RFM 分群", "segment", "score"),
        Field(
            "value_tier",
            STRING,
            "Value tier",
            "价值等级",
            "value_tier",
            "score",
            ("very_high", "high", "moderate", "low", "very_low"),
        ),
        Field(
            "churn_risk",
            STRING,
            "Churn risk",
            "流失风险",
            "risk_level",
            "score",
            ("high", "medium", "low"),
        ),
        Field("r_score", NUMBER, "R score", "R 分", "r_score", "score"),
        Field("f_score", NUMBER, "F score", "F 分", "f_score", "score"),
        Field("m_score", NUMBER, "M score", "M 分", "m_score", "score"),
        Field(
            "recency_days",
            NUMBER,
            "Recency at the run (days)",
            "分析时最近购买天数",
            "recency_days",
            "score",
        ),
        Field("frequency", NUMBER, "Frequency at the run", "分析时购买次数", "frequency", "score"),
        Field("monetary", NUMBER, "Monetary at the run", "分析时消费金额", "monetary", "score"),
        Field("profit", NUMBER, "Profit", "利润", "profit", "score"),
        Field("clv", NUMBER, "Customer lifetime value", "客户终身价值", "clv", "score"),
        Field("p_alive", NUMBER, "P(alive)", "活跃概率", "p_alive", "score"),
        Field(
            "days_since_last_purchase",
            NUMBER,
            "Days since last purchase",
            "距上次购买天数",
            source="orders",
        ),
        Field("orders", NUMBER, "Number of orders", "订单数", "orders", "orders"),
        Field("spend", NUMBER, "Spend", "消费金额", "spend", "orders"),
        Field("category", CATEGORY, "Categories bought", "购买过的品类", source="orders"),
        Field(
            "profit_group",
            STRING,
            "Profit group",
            "利润分组",
            "profit_group",
            "score",
            ("high", "medium", "low", "no_profit"),
        ),
        Field("loyalty_tier", STRING, "Membership tier", "会员等级", source="loyalty"),
        Field("loyalty_points", NUMBER, "Points balance", "可用积分", source="loyalty"),
        Field("consent_email", BOOL, "Consents to email", "同意邮件", "email", "consent"),
        Field("consent_sms", BOOL, "Consents to SMS", "同意短信", "sms", "consent"),
        Field("consent_phone", BOOL, "Consents to calls", "同意电话", "phone", "consent"),
        Field("consent_wechat", BOOL, "Consents to WeChat", "同意微信", "wechat", "consent"),
    )
}
ATTRIBUTE_PREFIX = "attributes."


def field_list() -> list[dict[str, Any]]:
    """The fields with their kinds, operators and labels (the builder's menu)."""
    return [
        {
            "field": f.name,
            "kind": f.kind,
            "ops": list(OPS[f.kind]),
            "choices": _tier_codes() if f.name == "loyalty_tier" else list(f.choices),
            "label": {"en": f.label_en, "zh-hans": f.label_zh},
        }
        for f in FIELDS.values()
    ] + [
        {
            "field": ATTRIBUTE_PREFIX + "<key>",
            "kind": STRING,
            "ops": list(OPS[STRING]),
            "choices": [],
            "label": {"en": "Attribute (questionnaire answer)", "zh-hans": "属性（问卷回答）"},
        }
    ]


def _error(path: str, message: str, **extra: Any) -> CampaignError:
    return CampaignError(
        _("Segment rules, at %(path)s: %(message)s") % {"path": path, "message": message},
        code=CampaignErrorCode.INVALID_RULES,
        extra={"path": path, **extra},
    )


@dataclass
class _Context:
    today: dt.date
    run_id: int | None
    conditions: int = 0
    annotations: dict[str, Any] = field(default_factory=dict)
    _run_loaded: bool = False


def _run_id(context: _Context) -> int | None:
    if not context._run_loaded:
        from patron.insights.selectors import analysis_run_latest

        run = analysis_run_latest()
        context.run_id = run.pk if run is not None else None
        context._run_loaded = True
    return context.run_id


def _number(path: str, value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _error(path, _("expected a number, got %(value)s") % {"value": json.dumps(value)})
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        raise _error(
            path, _("expected a number, got %(value)s") % {"value": json.dumps(value)}
        ) from None
    if not number.is_finite():
        raise _error(path, _("expected a finite number"))
    return number


def _date(path: str, value: Any) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise _error(
            path, _("expected a date as YYYY-MM-DD, got %(value)s") % {"value": json.dumps(value)}
        ) from None


def _string(path: str, value: Any, f: Field) -> str:
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise _error(path, _("expected a text, got %(value)s") % {"value": json.dumps(value)})
    text = str(value)
    if f.choices and text not in f.choices:
        raise _error(
            path,
            _("%(value)s is not a value of %(field)s; valid: %(valid)s")
            % {"value": json.dumps(text), "field": f.name, "valid": ", ".join(f.choices)},
            valid=list(f.choices),
        )
    return text


def _values(path: str, op: str, value: Any, f: Field) -> list[Any]:
    """The condition's value(s), checked against the field's kind."""
    if op in ("in", "not_in"):
        if not isinstance(value, list) or not value:
            raise _error(path, _("%(op)s expects a non-empty list") % {"op": op})
        return [_string(path, v, f) for v in value]
    if op == "between":
        if not isinstance(value, list) or len(value) != 2:
            raise _error(path, _("between expects a list of two values [low, high]"))
        low, high = (_date(path, v) if f.kind == DATE else _number(path, v) for v in value)
        if low > high:  # type: ignore[operator]
            raise _error(path, _("between: the low value is above the high value"))
        return [low, high]
    if f.kind == NUMBER:
        return [_number(path, value)]
    if f.kind == DATE:
        return [_date(path, value)]
    if f.kind == BOOL:
        if not isinstance(value, bool):
            raise _error(path, _("expected true or false"))
        return [value]
    return [_string(path, value, f)]


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


def _score_q(f: Field, op: str, values: list[Any], context: _Context) -> Q:
    from patron.insights.models import CustomerScore

    run_id = _run_id(context)
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


def _orders_q(f: Field, op: str, values: list[Any], context: _Context) -> Q:
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


def _loyalty_q(f: Field, op: str, values: list[Any], context: _Context) -> Q:
    """Membership tier (its code) and points balance (spendable now), for members only: a
    customer who is not a member, or a member without a tier, meets no condition on them."""
    if not apps.is_installed("patron.loyalty"):
        return Q(pk__in=[])
    from patron.loyalty.models import Member
    from patron.loyalty.selectors import member_points_queryset

    if f.name == "loyalty_tier":
        valid = _tier_codes()
        unknown = [v for v in values if v not in valid]
        if unknown:
            raise _error(
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


def _tier_codes() -> list[str]:
    if not apps.is_installed("patron.loyalty"):
        return []
    from patron.loyalty.models import Tier

    return list(Tier.objects.order_by("rank").values_list("code", flat=True).distinct())


def _condition(path: str, node: dict[str, Any], context: _Context) -> Q:
    unknown_keys = set(node) - {"field", "op", "value"}
    if unknown_keys or "field" not in node or "op" not in node:
        raise _error(
            path,
            _(
                'a condition is {"field", "op", "value"}; a group is {"all": [...]}, '
                '{"any": [...]} or {"not": {...}}'
            ),
        )
    name, op = node["field"], node["op"]
    context.conditions += 1
    if context.conditions > MAX_CONDITIONS:
        raise _error(path, _("more than %(n)s conditions") % {"n": MAX_CONDITIONS})
    if isinstance(name, str) and name.startswith(ATTRIBUTE_PREFIX):
        key = name[len(ATTRIBUTE_PREFIX) :]
        if not key or len(key) > 64 or "\x00" in key:
            raise _error(path, _("an attribute field is attributes.<key>, the key 1-64 characters"))
        f = Field(name, STRING, name, name, source="attribute")
    elif not isinstance(name, str) or name not in FIELDS:
        valid = [*sorted(FIELDS), ATTRIBUTE_PREFIX + "<key>"]
        raise _error(
            path,
            _("unknown field %(field)s; valid fields: %(valid)s")
            % {"field": json.dumps(name, ensure_ascii=False), "valid": ", ".join(valid)},
            valid=valid,
        )
    else:
        f = FIELDS[name]
    if op not in OPS[f.kind]:
        raise _error(
            path,
            _("unknown operator %(op)s for %(field)s; valid operators: %(valid)s")
            % {"op": json.dumps(op), "field": f.name, "valid": ", ".join(OPS[f.kind])},
            valid=list(OPS[f.kind]),
        )
    if "value" not in node:
        raise _error(path, _("the condition has no value"))
    values = _values(path, op, node["value"], f)
    return COMPILERS[f.source](f, op, values, context)


def _customer_q(f: Field, op: str, values: list[Any], context: _Context) -> Q:
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


def _attribute_q(f: Field, op: str, values: list[Any], context: _Context) -> Q:
    key = f.name[len(ATTRIBUTE_PREFIX) :]
    column = f"attributes__{key}"
    present = Q(attributes__has_key=key)
    if op in ("=", "in"):
        return present & Q(**{f"{column}__in": values})
    return ~(present & Q(**{f"{column}__in": values})) & present


def _consent_q(f: Field, op: str, values: list[Any], context: _Context) -> Q:
    from patron.customers.models import Consent

    granted = Q(
        Exists(Consent.objects.filter(customer_id=OuterRef("pk"), channel=f.column, granted=True))
    )
    return granted if values[0] else ~granted


COMPILERS: dict[str, Callable[[Field, str, list[Any], _Context], Q]] = {
    "customer": _customer_q,
    "attribute": _attribute_q,
    "score": _score_q,
    "orders": _orders_q,
    "consent": _consent_q,
    "loyalty": _loyalty_q,
}


def _node(path: str, node: Any, context: _Context, depth: int) -> Q:
    if depth > MAX_DEPTH:
        raise _error(path, _("groups nested deeper than %(n)s levels") % {"n": MAX_DEPTH})
    if not isinstance(node, dict):
        raise _error(path, _("expected an object, got %(value)s") % {"value": json.dumps(node)})
    if set(node) == {"all"} or set(node) == {"any"}:
        kind = "all" if "all" in node else "any"
        children = node[kind]
        if not isinstance(children, list):
            raise _error(path, _("%(kind)s expects a list") % {"kind": kind})
        parts = [
            _node(f"{path}.{kind}[{i}]", child, context, depth + 1)
            for i, child in enumerate(children)
        ]
        if not parts:
            return Q(pk__isnull=False) if kind == "all" else Q(pk__in=[])
        combined = parts[0]
        for part in parts[1:]:
            combined = (combined & part) if kind == "all" else (combined | part)
        return combined
    if set(node) == {"not"}:
        return ~_node(f"{path}.not", node["not"], context, depth + 1)
    if "all" in node or "any" in node or "not" in node:
        raise _error(path, _("a group has exactly one key: all, any or not"))
    return _condition(path, node, context)


def rules_parse(rules: Any) -> Any:
    """Rules given as JSON text or already parsed; the parsed form."""
    if isinstance(rules, str | bytes):
        try:
            return json.loads(rules)
        except ValueError as error:
            raise CampaignError(
                _("The segment rules are not valid JSON: %(error)s") % {"error": error},
                code=CampaignErrorCode.INVALID_RULES,
            ) from None
    return rules


def segment_queryset(*, rules: Any, today: dt.date | None = None) -> QuerySet[Customer]:
    """The customers meeting ``rules`` as one query (unordered).

    Raises
    ------
    CampaignError
        Unknown fields or operators (with the valid ones), values of the wrong type.
    """
    context = _Context(today=today or timezone.localdate(), run_id=None)
    condition = _node("rules", rules_parse(rules), context, 0)
    queryset = Customer.objects.all()
    if context.annotations:
        queryset = queryset.annotate(**context.annotations)
    return queryset.filter(condition).order_by()


def rules_validate(*, rules: Any) -> Any:
    """Check ``rules`` (raises like :func:`segment_queryset`) and return them parsed."""
    parsed = rules_parse(rules)
    segment_queryset(rules=parsed)
    return parsed


@contextlib.contextmanager
def large_query_settings() -> Iterator[None]:
    """Run the block's segment queries with room to hash a million ids (PostgreSQL).

    PostgreSQL turns ``id IN (subquery)`` under an OR into a hashed subplan only when the
    hash fits in ``work_mem``; past it (4 MB by default, about 300,000 ids) the subquery is
    scanned again for every customer and a count over a million customers takes minutes.
    Inside one transaction: ``work_mem`` of 256 MB, no JIT (its compile time is most of a
    sub-second count) and no parallel workers (each would build the same hashes again: three
    times the work for the same count). Nothing on SQLite.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        yield


def segment_count(*, rules: Any, today: dt.date | None = None) -> int:
    """How many customers meet ``rules`` (raises like :func:`segment_queryset`)."""
    parsed = rules_parse(rules)
    with large_query_settings():
        fast = _count_within_a_set(parsed, today or timezone.localdate())
        if fast is not None:
            return fast
        return segment_queryset(rules=parsed, today=today).count()


# Sources whose id sets hold each customer at most once, all of them existing customers.
_ONE_ROW_PER_CUSTOMER = ("insights.customerscore", "sales.purchasesummary", "loyalty.member")


def _on_customer_id(q: Q) -> Q | None:
    """``q`` (conditions that are all ``pk IN (...)``) on a ``customer_id`` column instead;
    None when it holds any other kind of condition."""
    children: list[Any] = []
    for child in q.children:
        if isinstance(child, Q):
            moved = _on_customer_id(child)
            if moved is None:
                return None
            children.append(moved)
        elif isinstance(child, tuple) and child[0] in ("pk__in", "pk__isnull"):
            children.append((child[0].replace("pk__", "customer_id__"), child[1]))
        else:
            return None
    return Q(*children, _connector=q.connector, _negated=q.negated)


def _id_set(q: Q) -> QuerySet[Any] | None:
    """The id query of a condition that is ``pk IN (query)``, else None."""
    if q.negated or len(q.children) != 1 or not isinstance(q.children[0], tuple):
        return None
    lookup, value = q.children[0]
    return value if lookup == "pk__in" and isinstance(value, QuerySet) else None


def _count_within_a_set(rules: Any, today: dt.date) -> int | None:
    """The count of ``{"all": [...]}`` rules of which one is a set of customers (a score of
    the latest run, a purchase-summary range, a membership) and the others are sets too,
    counted over that set's rows without reading the customers (who would be a million rows
    probed against every set); None when the rules are of another shape. The result equals
    the customers' count because the set holds each customer once."""
    if not isinstance(rules, dict) or set(rules) != {"all"} or not isinstance(rules["all"], list):
        return None
    context = _Context(today=today, run_id=None)
    parts = [_node(f"rules.all[{i}]", c, context, 1) for i, c in enumerate(rules["all"])]
    if context.annotations:
        return None
    for i, part in enumerate(parts):
        ids = _id_set(part)
        if ids is None or ids.model._meta.label_lower not in _ONE_ROW_PER_CUSTOMER:
            continue
        rest = [_on_customer_id(q) for q in parts[:i] + parts[i + 1 :]]
        if any(q is None for q in rest):
            return None
        return ids.filter(*rest).count()
    return None
