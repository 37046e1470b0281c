"""Rows of stored run figures as the dashboard and the segment pages show them: the value
pyramid, the profit groups and the RFM segments (no queries: a run's ``figures`` JSON only).
"""

from __future__ import annotations

from typing import Any

from patron.analytics.segments import SEGMENTS
from patron.analytics.tiers import PROFIT_GROUPS, TIERS
from patron.insights.charts import Language
from patron.insights.presenters import in_language
from patron.web.trends import number_or_none, percent


def pyramid_rows(figures: dict[str, Any], lang: Language) -> list[dict[str, Any]]:
    counts = figures.get("tiers") or {}
    table = {row["level"]: row for row in figures.get("tier_table") or []}
    customers = sum(int(v) for v in counts.values()) or 1
    revenue = sum(number_or_none(row.get("revenue")) or 0.0 for row in table.values())
    rows = []
    for tier in TIERS:
        row = table.get(tier.code, {})
        count = int(counts.get(tier.code, row.get("customers", 0)) or 0)
        tier_revenue = number_or_none(row.get("revenue"))
        share = tier_revenue / revenue if tier_revenue is not None and revenue else None
        rows.append(
            {
                "code": tier.code,
                "label": in_language(tier.label, lang),
                "customers": count,
                "customer_share": count / customers,
                "revenue": tier_revenue,
                "revenue_share": share,
                "customer_share_shown": percent(count / customers),
                "revenue_share_shown": percent(share),
                "profit": number_or_none(row.get("profit")),
                "profit_share": percent(number_or_none(row.get("profit_share"))),
            }
        )
    return rows


def profit_group_rows(figures: dict[str, Any], lang: Language) -> list[dict[str, Any]]:
    """The four-group split (high, medium, low, no profit); empty for runs made before it."""
    table = {row["level"]: row for row in figures.get("profit_group_table") or []}
    if not table:
        return []
    customers = sum(int(row.get("customers") or 0) for row in table.values()) or 1
    rows = []
    for group in PROFIT_GROUPS:
        row = table.get(group.code, {})
        count = int(row.get("customers") or 0)
        rows.append(
            {
                "code": group.code,
                "label": in_language(group.label, lang),
                "customers": count,
                "customer_share_shown": percent(count / customers),
                "revenue": number_or_none(row.get("revenue")),
                "profit": number_or_none(row.get("profit")),
                "profit_share": percent(number_or_none(row.get("profit_share"))),
            }
        )
    return rows


def segment_rows(figures: dict[str, Any], lang: Language) -> list[dict[str, Any]]:
    table = {row["level"]: row for row in figures.get("segment_table") or []}
    counts = figures.get("segments") or {}
    customers = int(figures.get("customers") or 0) or 1
    rows = []
    for segment in SEGMENTS:
        row = table.get(segment.code, {})
        count = int(counts.get(segment.code, row.get("customers", 0)) or 0)
        rows.append(
            {
                "code": segment.code,
                "label": in_language(segment.label, lang),
                "customers": count,
                "share": percent(count / customers),
                "revenue": number_or_none(row.get("revenue")),
                "profit": number_or_none(row.get("profit")),
                "profit_share": percent(number_or_none(row.get("profit_share"))),
                "action": in_language(segment.action, lang),
            }
        )
    return rows
