"""Value in the customer list: the latest analysis run's figures per customer, to show, sort,
filter and export (reads only).

Every figure here is the run's (dated by its ``as_of``), not recomputed: value tier, RFM
segment, revenue, profit, last purchase, orders, CLV, P(alive) and churn risk.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import (
    BigIntegerField,
    Case,
    DecimalField,
    F,
    FilteredRelation,
    FloatField,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from patron.customers.models import Customer, Gender

if TYPE_CHECKING:
    from patron.insights.models import AnalysisRun, CustomerScore

#: Rank of a tier code, top first (value tiers and profit groups share some codes).
TIER_RANK = {
    "very_high": 6,
    "high": 5,
    "moderate": 4,
    "medium": 4,
    "low": 2,
    "very_low": 1,
    "no_profit": 0,
}
RISK_RANK = {"high": 3, "medium": 2, "low": 1}
_NONE = -(10**12)  # where a customer without the figure sorts (last when descending)
# (a bigint: an integer lookup past PostgreSQL's int4 range would match nothing in Django)
_MONEY = DecimalField(max_digits=16, decimal_places=2)


def _segment_rank() -> dict[str, int]:
    from patron.analytics.segments import SEGMENTS

    return {s.code: len(SEGMENTS) - i for i, s in enumerate(SEGMENTS)}


def _ranked(field: str, ranks: dict[str, int]) -> Case:
    return Case(
        *[When(**{f"latest__{field}": code}, then=Value(rank)) for code, rank in ranks.items()],
        default=Value(_NONE),
        output_field=BigIntegerField(),
    )


def _sort_expression(key: str) -> Any:
    if key == "tier":
        return _ranked("value_tier", TIER_RANK)
    if key == "segment":
        return _ranked("segment", _segment_rank())
    if key == "risk":
        return _ranked("risk_level", RISK_RANK)
    if key == "last_purchase":  # fewer days since the last purchase is more recent
        return Coalesce(-F("latest__recency_days"), Value(_NONE), output_field=BigIntegerField())
    if key in ("revenue", "profit", "clv"):
        return Coalesce(F(f"latest__{key}"), Value(Decimal(_NONE)), output_field=_MONEY)
    if key == "orders":
        return Coalesce(F("latest__frequency"), Value(_NONE), output_field=BigIntegerField())
    if key == "p_alive":
        return Coalesce(F("latest__p_alive"), Value(float(_NONE)), output_field=FloatField())
    raise KeyError(key)


#: Sorts by a figure of the latest run: key -> descending first. "-key" is the other way.
SCORE_SORT_KEYS = (
    "tier",
    "segment",
    "revenue",
    "profit",
    "last_purchase",
    "orders",
    "clv",
    "p_alive",
    "risk",
)


def score_sort(key: str) -> tuple[str, bool] | None:
    """(figure, descending) for a sort key such as ``clv`` (highest first) or ``-clv``."""
    name = key.removeprefix("-")
    if name not in SCORE_SORT_KEYS:
        return None
    return name, not key.startswith("-")


def with_score_sort(
    queryset: QuerySet[Customer], *, run: AnalysisRun | None, key: str
) -> tuple[QuerySet[Customer], tuple[tuple[str, bool], ...]]:
    """``queryset`` with the sort figure of ``run`` as ``sort_value`` (customers the run did
    not score, or without that figure, sort last), and the keyset fields (figure, then id)."""
    found = score_sort(key)
    assert found is not None
    name, descending = found
    run_id = run.pk if run is not None else -1
    annotated = queryset.annotate(
        latest=FilteredRelation("scores", condition=Q(scores__run_id=run_id)),
        sort_value=_sort_expression(name),
    )
    return annotated, (("sort_value", descending), ("id", descending))


# --- filters ----------------------------------------------------------------------------


def score_range_filters(*, run: AnalysisRun, ranges: dict[str, Any]) -> dict[str, Any]:
    """ORM lookups on CustomerScore for the list's range filters (``revenue_min``,
    ``last_purchase_from``, ``p_alive_max`` in percent, ...); empty values are left out."""
    lookups: dict[str, Any] = {}
    for name in ("revenue", "profit", "clv"):
        for end, op in (("min", "gte"), ("max", "lte")):
            value = ranges.get(f"{name}_{end}")
            if value is not None:
                lookups[f"{name}__{op}"] = value
    for end, op in (("min", "gte"), ("max", "lte")):
        if ranges.get(f"orders_{end}") is not None:
            lookups[f"frequency__{op}"] = ranges[f"orders_{end}"]
        if ranges.get(f"p_alive_{end}") is not None:
            lookups[f"p_alive__{op}"] = float(ranges[f"p_alive_{end}"]) / 100
    # a last purchase on or after a date is at most (as_of - date) days before the run
    since, until = ranges.get("last_purchase_from"), ranges.get("last_purchase_to")
    if since is not None:
        lookups["recency_days__lte"] = (run.as_of - since).days
    if until is not None:
        lookups["recency_days__gte"] = (run.as_of - until).days
    return lookups


# --- what the list shows ----------------------------------------------------------------


@dataclass(frozen=True)
class CustomerValue:
    tier: str
    tier_code: str
    segment: str
    revenue: Decimal | None
    profit: Decimal | None
    last_purchase: date | None
    orders: int | None
    clv: Decimal | None
    p_alive: float | None
    risk: str
    risk_code: str


def _language() -> str:
    from django.utils.translation import get_language

    return "zh-hans" if (get_language() or "").startswith("zh") else "en"


def _labels() -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    from patron.analytics.churn import LEVEL_LABELS
    from patron.analytics.segments import SEGMENTS
    from patron.analytics.tiers import PROFIT_GROUPS, TIERS

    lang = _language()
    tiers = {t.code: t.label[lang] for t in PROFIT_GROUPS}
    tiers.update({t.code: t.label[lang] for t in TIERS})
    segments = {s.code: s.label[lang] for s in SEGMENTS}
    risks = {code: label[lang] for code, label in LEVEL_LABELS.items()}
    return tiers, segments, risks


def _value(
    score: CustomerScore, run: AnalysisRun, labels: tuple[dict, dict, dict]
) -> CustomerValue:
    tiers, segments, risks = labels
    last = None
    if score.recency_days is not None:
        last = run.as_of - timedelta(days=score.recency_days)
    return CustomerValue(
        tier=tiers.get(score.value_tier, score.value_tier),
        tier_code=score.value_tier,
        segment=segments.get(score.segment, score.segment),
        revenue=score.revenue,
        profit=score.profit,
        last_purchase=last,
        orders=score.frequency,
        clv=score.clv,
        p_alive=score.p_alive,
        risk=risks.get(score.risk_level or "", score.risk_level or ""),
        risk_code=score.risk_level or "",
    )


def customer_values(
    *, customers: list[Customer], run: AnalysisRun | None
) -> dict[int, CustomerValue]:
    """The run's figures of these customers (one query), by customer pk."""
    if run is None or not customers:
        return {}
    from patron.insights.models import CustomerScore

    labels = _labels()
    scores = CustomerScore.objects.filter(run=run, customer_id__in=[c.pk for c in customers])
    return {score.customer_id: _value(score, run, labels) for score in scores}


# --- exports ------------------------------------------------------------------------------

EXPORT_SCORE_FIELDS = (
    "value_tier",
    "segment",
    "revenue",
    "profit",
    "recency_days",
    "frequency",
    "clv",
    "p_alive",
    "risk_level",
)


def export_headers() -> list[str]:
    """Headers of the run's columns in an export, in the active language."""
    from django.utils.translation import gettext as _

    return [
        _("Value tier"),
        _("Segment"),
        _("Revenue"),
        _("Profit"),
        _("Last purchase"),
        _("Orders"),
        _("CLV"),
        _("P(alive)"),
        _("Churn risk"),
    ]


class ExportValues:
    """Turns a customer row and the run's raw figures into readable cells: labels in the
    active language (男/女, 很高, 冠军客户, 高), a date for the last purchase, P(alive) in %."""

    def __init__(self, run: AnalysisRun | None) -> None:
        self.run = run
        self.tiers, self.segments, self.risks = _labels()
        self.genders = {g.value: str(g.label) for g in Gender}

    def gender(self, code: str) -> str:
        return self.genders.get(code, code)

    def score_cells(self, raw: tuple[Any, ...]) -> list[Any]:
        tier, segment, revenue, profit, recency, frequency, clv, p_alive, risk = raw
        if self.run is None or tier is None:
            return [""] * len(EXPORT_SCORE_FIELDS)
        last = self.run.as_of - timedelta(days=recency) if recency is not None else None
        return [
            self.tiers.get(tier, tier),
            self.segments.get(segment, segment),
            revenue,
            profit,
            last,
            frequency,
            clv,
            f"{p_alive * 100:.0f}%" if p_alive is not None else "",
            self.risks.get(risk or "", risk or ""),
        ]


def with_export_scores(
    queryset: QuerySet[Customer], *, run: AnalysisRun | None
) -> QuerySet[Customer]:
    """``queryset`` joined (left) to the run's scores, the figures as ``score_<field>``."""
    run_id = run.pk if run is not None else -1
    return queryset.annotate(
        latest=FilteredRelation("scores", condition=Q(scores__run_id=run_id)),
        **{f"score_{name}": F(f"latest__{name}") for name in EXPORT_SCORE_FIELDS},
    )
