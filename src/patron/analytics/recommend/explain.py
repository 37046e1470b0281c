"""Why an item is on a list, in English and Chinese: one sentence per recommended item."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["Reason", "reason_text"]

# kind -> (English, Chinese) templates
TEMPLATES: Mapping[str, tuple[str, str]] = {
    "cycle": (
        "you buy this about every {cycle} days; last bought {since} days ago",
        "您大约每 {cycle} 天买一次；上次购买在 {since} 天前",
    ),
    "once": (
        "you bought this {since} days ago; customers like you buy it again",
        "您在 {since} 天前买过；与您相似的顾客会再次购买",
    ),
    "also": (
        "customers who buy {related} often also buy {item}",
        "购买{related}的顾客常常也买{item}",
    ),
    "trending": ("selling well right now", "近期热销"),
    "segment": (
        "popular with customers like you ({segment})",
        "与您相似的顾客（{segment}）喜欢",
    ),
    "segment_all": ("popular with our customers", "深受顾客欢迎"),
    "pinned": ("recommended by the shop", "本店推荐"),
}


@dataclass(frozen=True)
class Reason:
    """The facts behind one recommendation; :func:`reason_text` words them."""

    kind: str
    cycle: int = 0
    since: int = 0
    related: str = ""
    item: str = ""
    segment: str = ""


def reason_text(reason: Reason, language: str) -> str:
    """The reason in ``language`` ("en" or "zh"; anything else falls back to English).

    >>> reason_text(Reason("cycle", cycle=30, since=34), "en")
    'you buy this about every 30 days; last bought 34 days ago'
    >>> reason_text(Reason("also", related="乌龙茶", item="茶饼"), "zh")
    '购买乌龙茶的顾客常常也买茶饼'
    """
    en, zh = TEMPLATES[reason.kind]
    template = zh if language.startswith("zh") else en
    return template.format(
        cycle=reason.cycle,
        since=reason.since,
        related=reason.related,
        item=reason.item,
        segment=reason.segment,
    )
