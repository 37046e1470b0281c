"""The segment rules' field catalogue: each field's kind, operators, labels in both languages
and where it is read from (the customer, an attribute, the latest run's scores, the orders'
summary, consent, the loyalty programme); the builder's menu (:func:`field_list`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.apps import apps

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
            "choices": tier_codes() if f.name == "loyalty_tier" else list(f.choices),
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


def tier_codes() -> list[str]:
    if not apps.is_installed("patron.loyalty"):
        return []
    from patron.loyalty.models import Tier

    return list(Tier.objects.order_by("rank").values_list("code", flat=True).distinct())
