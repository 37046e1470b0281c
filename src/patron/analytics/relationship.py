"""Kotler's relationship levels (关系类型) and loyalty levers per tier.

Relationship level
------------------
Kotler chooses how much relationship to build from the number of customers and
the margin per customer:

==============  ============  =============  ============
customers        high margin   medium margin  low margin
==============  ============  =============  ============
many             accountable   reactive       basic
medium           proactive     accountable    reactive
few              partnership   proactive      accountable
==============  ============  =============  ============

(Kotler's many/low cell reads "basic or reactive"; we return ``basic``.)
"Many" is at least ``many_customers`` customers and "few" fewer than
``few_customers``; a "high" margin is at least ``high_margin`` per customer and a
"low" one below ``low_margin``. The defaults (1,000 and 100 customers; 1,000
and 100 in currency per customer) are placeholders: set them for the business.

Loyalty levers
--------------
Low tiers respond to price and incentives (coupons, points, bundles) and
should be served through low-cost channels; high tiers to service and brand
(personal contact, priority, exclusive events). :data:`LOYALTY_LEVERS` lists
them per tier of :mod:`patron.analytics.tiers`, in both languages.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "LOYALTY_LEVERS",
    "RELATIONSHIP_LEVELS",
    "Lever",
    "RelationshipLevel",
    "RelationshipThresholds",
    "loyalty_levers",
    "relationship_by_tier",
    "relationship_level",
]


@dataclass(frozen=True)
class RelationshipLevel:
    """One of Kotler's five levels, with its meaning in both languages."""

    code: str
    label: dict[str, str]
    description: dict[str, str]


RELATIONSHIP_LEVELS: tuple[RelationshipLevel, ...] = (
    RelationshipLevel(
        "basic",
        {"en": "Basic", "zh-hans": "基本型"},
        {
            "en": "Sell the product; no follow-up.",
            "zh-hans": "销售产品后不再跟进。",
        },
    ),
    RelationshipLevel(
        "reactive",
        {"en": "Reactive", "zh-hans": "被动型"},
        {
            "en": "Sell and invite the customer to call with questions or complaints.",
            "zh-hans": "销售产品，并鼓励客户有问题或意见时主动联系。",
        },
    ),
    RelationshipLevel(
        "accountable",
        {"en": "Accountable", "zh-hans": "负责型"},
        {
            "en": "Call the customer soon after the sale to check that the product met "
            "expectations and ask for suggestions.",
            "zh-hans": "售后不久主动联系客户，了解产品是否符合期望并征求改进建议。",
        },
    ),
    RelationshipLevel(
        "proactive",
        {"en": "Proactive", "zh-hans": "能动型"},
        {
            "en": "Contact the customer from time to time with better uses or new products.",
            "zh-hans": "不时主动联系客户，介绍产品的新用途或新产品。",
        },
    ),
    RelationshipLevel(
        "partnership",
        {"en": "Partnership", "zh-hans": "伙伴型"},
        {
            "en": "Work continuously with the customer to find ways to deliver more value.",
            "zh-hans": "与客户持续合作，共同寻找创造更多价值的途径。",
        },
    ),
)
_LEVELS = {level.code: level for level in RELATIONSHIP_LEVELS}

#: ``_GRID[customers][margin]`` with customers in (many, medium, few) and
#: margin in (high, medium, low).
_GRID: tuple[tuple[str, str, str], ...] = (
    ("accountable", "reactive", "basic"),
    ("proactive", "accountable", "reactive"),
    ("partnership", "proactive", "accountable"),
)


@dataclass(frozen=True)
class RelationshipThresholds:
    """Where "many"/"few" customers and "high"/"low" margins begin.

    Attributes
    ----------
    many_customers : int
        At least this many customers is "many".
    few_customers : int
        Fewer than this is "few".
    high_margin : float
        Margin per customer of at least this is "high".
    low_margin : float
        Margin per customer below this is "low".
    """

    many_customers: int = 1000
    few_customers: int = 100
    high_margin: float = 1000.0
    low_margin: float = 100.0

    def __post_init__(self) -> None:
        if not 0 < self.few_customers <= self.many_customers:
            raise ValueError("need 0 < few_customers <= many_customers")
        if not self.low_margin <= self.high_margin:
            raise ValueError("need low_margin <= high_margin")


def relationship_level(
    customers: int,
    margin_per_customer: float,
    *,
    thresholds: RelationshipThresholds | None = None,
) -> RelationshipLevel:
    """Kotler's relationship level for a number of customers and a margin per customer.

    Examples
    --------
    >>> relationship_level(20, 5000.0).code
    'partnership'
    >>> relationship_level(50_000, 12.0).label["zh-hans"]
    '基本型'
    """
    th = thresholds or RelationshipThresholds()
    if customers >= th.many_customers:
        row = 0
    elif customers < th.few_customers:
        row = 2
    else:
        row = 1
    if margin_per_customer >= th.high_margin:
        col = 0
    elif margin_per_customer < th.low_margin:
        col = 2
    else:
        col = 1
    return _LEVELS[_GRID[row][col]]


def relationship_by_tier(
    tier_table: pd.DataFrame, *, thresholds: RelationshipThresholds | None = None
) -> pd.DataFrame:
    """The relationship level suited to each tier.

    Parameters
    ----------
    tier_table : pandas.DataFrame
        ``level``, ``customers`` and ``margin`` (the tier's total margin), such
        as :func:`patron.analytics.profitability.profit_by_tier`.

    Returns
    -------
    pandas.DataFrame
        ``level``, ``customers``, ``margin_per_customer``, ``relationship``
        (code), ``label_en``, ``label_zh``. Empty tiers get no level (None).
    """
    rows = []
    for level, count, margin in zip(
        tier_table["level"], tier_table["customers"], tier_table["margin"], strict=True
    ):
        count = int(count)
        per = round(float(margin) / count, 2) if count else np.nan
        chosen = relationship_level(count, per, thresholds=thresholds) if count else None
        rows.append(
            {
                "level": level,
                "customers": count,
                "margin_per_customer": per,
                "relationship": chosen.code if chosen else None,
                "label_en": chosen.label["en"] if chosen else None,
                "label_zh": chosen.label["zh-hans"] if chosen else None,
            }
        )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Lever:
    """A loyalty lever: what to use to keep (or lift) a tier's customers."""

    code: str
    kind: str  # "price", "incentive", "service", "brand" or "cost"
    label: dict[str, str]


def _lever(code: str, kind: str, en: str, zh: str) -> Lever:
    return Lever(code, kind, {"en": en, "zh-hans": zh})


#: Loyalty levers per tier code, the most fitting first.
LOYALTY_LEVERS: dict[str, tuple[Lever, ...]] = {
    "very_high": (
        _lever("account_manager", "service", "A dedicated account manager", "专属客户经理"),
        _lever("priority_service", "service", "Priority service and delivery", "优先服务与配送"),
        _lever("exclusive_events", "brand", "Exclusive events and early access to new products",
               "专属活动与新品优先体验"),
        _lever("co_creation", "brand", "Invite them to shape products and services",
               "邀请参与产品与服务共创"),
    ),
    "high": (
        _lever("priority_service", "service", "Priority service and delivery", "优先服务与配送"),
        _lever("top_member_tier", "brand", "The top member tier with its privileges",
               "高级会员等级及专属权益"),
        _lever("personal_recommendations", "service", "Personal recommendations",
               "个性化推荐"),
        _lever("upgrade_path", "incentive", "Clear benefits for moving up a tier",
               "明确的升级奖励"),
    ),
    "moderate": (
        _lever("membership_points", "incentive", "Membership with points", "会员积分"),
        _lever("frequency_offers", "incentive",
               "Frequency marketing at a reasonable cadence", "适度频次营销"),
        _lever("cross_sell", "price", "Bundles and cross-selling", "组合销售与交叉销售"),
        _lever("upgrade_path", "incentive", "Clear benefits for moving up a tier",
               "明确的升级奖励"),
    ),
    "low": (
        _lever("coupons", "price", "Coupons and spend-threshold discounts", "优惠券与满减"),
        _lever("points_multiplier", "incentive", "Bonus points on the next purchases",
               "后续消费加倍积分"),
        _lever("bundles", "price", "Value bundles", "超值组合套餐"),
        _lever("low_cost_channels", "cost", "Serve through low-cost channels (self-service, "
               "WeChat, SMS)", "通过低成本渠道服务（自助、微信、短信）"),
    ),
    "very_low": (
        _lever("price_promotions", "price", "Price promotions only", "仅限价格促销"),
        _lever("low_cost_channels", "cost", "Serve through low-cost channels (self-service, "
               "WeChat, SMS)", "通过低成本渠道服务（自助、微信、短信）"),
        _lever("reduce_cost_to_serve", "cost",
               "Cut the cost to serve (fewer messages, minimum order)",
               "降低服务成本（减少信息推送、设置最低订单额）"),
    ),
}  # fmt: skip


def loyalty_levers(tier_code: str) -> tuple[Lever, ...]:
    """Loyalty levers for a tier code of the value pyramid (``KeyError`` if unknown).

    Examples
    --------
    >>> [lever.kind for lever in loyalty_levers("very_low")]
    ['price', 'cost', 'cost']
    """
    return LOYALTY_LEVERS[tier_code]
