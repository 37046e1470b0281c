"""The rules that turn stored run figures into what pages say: which language the charts
speak, whether a KPI change is good news, which tier moves are upgrades, which findings of a
segment diagnosis come first, and a tier's relationship level. No queries and no HTML: pages
(:mod:`patron.web.views.dashboard`, :mod:`patron.web.views.segments`) only render them.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from django.utils.translation import get_language

from patron.insights.charts import Language

#: KPI changes that are neither good nor bad news (more concentration is neither).
NEUTRAL_CHANGES = frozenset({"top20_revenue_share", "gini"})
#: KPI changes for which more is bad news.
WORSE_WHEN_HIGHER = frozenset({"value_at_risk"})

Direction = Literal["up", "down", "same", "neutral"]
MoveKind = Literal["upgrades", "downgrades", "same", "new", "lost"]


def chart_language() -> Language:
    """The active language as the charts name it."""
    return "zh-hans" if (get_language() or "en").lower().startswith("zh") else "en"


def in_language(pair: dict[str, str], lang: Language) -> str:
    return pair.get(lang) or pair.get("en", "")


def kpi_change_direction(key: str, change: float) -> Direction:
    """Whether a KPI's change since the previous run is good news ("up"), bad news ("down"),
    no change ("same") or neither ("neutral"): more customers, revenue, profit or predicted
    value is good news; more value at risk is bad news; more concentration is neither.

    >>> kpi_change_direction("revenue", 10.0), kpi_change_direction("value_at_risk", 10.0)
    ('up', 'down')
    """
    if key in NEUTRAL_CHANGES:
        return "neutral"
    if key in WORSE_WHEN_HIGHER:
        change = -change
    return "up" if change > 0 else "down" if change < 0 else "same"


def migration_kind(
    before: str, after: str, rank: dict[str, int], *, new: str, lost: str
) -> MoveKind:
    """A customer's move between two runs: "new" (absent before), "lost" (absent after),
    else an upgrade to a better level (levels ranked best first), a downgrade, or the same."""
    if before == new:
        return "new"
    if after == lost:
        return "lost"
    if rank[after] < rank[before]:
        return "upgrades"
    if rank[after] > rank[before]:
        return "downgrades"
    return "same"


def strongest_findings(
    attributes: list[dict[str, Any]], categories: list[dict[str, Any]], *, limit: int
) -> list[dict[str, Any]]:
    """The strongest significant findings of a diagnosis: attributes first, then categories,
    each by how far the lift is from 1 (an effect a manager can act on, not the smallest p),
    ``limit // 2`` of each."""

    def strongest(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        picked = [r for r in rows if r["significant"] and r["lift"]]
        picked.sort(key=lambda r: -abs(math.log(min(r["lift"], 1e6))))
        return picked[: limit // 2]

    return [*strongest(attributes), *strongest(categories)]


def tier_relationship(figures: dict[str, Any], code: str, customers: int) -> Any | None:
    """Kotler's relationship level of a tier (number of customers x margin per customer), or
    None when the run's value is not profit or the tier's margin is unknown."""
    from patron.analytics.relationship import relationship_level

    row = next((r for r in figures.get("tier_table") or [] if r.get("level") == code), {})
    margin = row.get("margin")
    try:
        margin = float(margin) if margin is not None else None
    except (TypeError, ValueError):
        margin = None
    if figures.get("value_basis") != "profit" or not customers or margin is None:
        return None
    if not math.isfinite(margin):
        return None
    return relationship_level(customers, margin / customers)
