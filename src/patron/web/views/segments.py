"""Segment pages: the tiers and RFM segments of the latest run, and one group's diagnosis.

``/segments/`` lists both from the run's stored figures (counts, revenue, profit share,
recommended action), each with links to its customers (the customer list filtered by tier or
segment) and to its diagnosis. ``/segments/<kind>/<code>/`` shows what sets the group apart
(:mod:`patron.insights.diagnosis`: computed when the run was made and stored with it).
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext

from patron.accounts.permissions import require_permission
from patron.analytics.relationship import loyalty_levers
from patron.analytics.segments import SEGMENTS
from patron.analytics.tiers import TIERS
from patron.insights.charts import Language
from patron.insights.diagnosis import (
    ATTRIBUTE_LABELS,
    CATEGORY_LABELS,
    GROUP_KINDS,
    GroupKind,
    group_codes,
    segment_diagnosis,
)
from patron.insights.models import AnalysisRun
from patron.insights.presenters import (
    chart_language,
    in_language,
    strongest_findings,
    tier_relationship,
)
from patron.insights.selectors import analysis_run_latest
from patron.insights.trend_charts import lift_bars_svg
from patron.web.figures import pyramid_rows, segment_rows
from patron.web.trends import percent

PERMISSION = "accounts.view_segments"
FINDINGS = 8  # plain-word findings at the top of the page
CHART_ROWS = 15  # bars per lift chart
FILTER_PARAMETER = {"tier": "value_tier", "segment": "segment"}


def customers_url(kind: GroupKind, code: str) -> str:
    """The customer list filtered to the group (see ``customers.selectors.customer_filter``)."""
    return f"{reverse('web:customer_list')}?{urlencode({FILTER_PARAMETER[kind]: code})}"


def _links(kind: GroupKind, code: str) -> dict[str, str]:
    return {
        "customers_url": customers_url(kind, code),
        "diagnosis_url": reverse("web:segment_detail", kwargs={"kind": kind, "name": code}),
    }


def tier_actions(
    figures: dict[str, Any], code: str, customers: int, lang: Language
) -> tuple[str, str]:
    """A tier's recommended action: Kotler's relationship level (when margins are known, else
    "") and the tier's loyalty levers."""
    levers = " · ".join(in_language(lever.label, lang) for lever in loyalty_levers(code))
    level = tier_relationship(figures, code, customers)
    if level is None:
        return "", levers
    relationship = gettext("%(level)s relationship") % {"level": in_language(level.label, lang)}
    return relationship, levers


def list_rows(run: AnalysisRun, lang: Language) -> dict[str, list[dict[str, Any]]]:
    figures = run.figures or {}
    tiers = []
    for row in pyramid_rows(figures, lang):
        relationship, action = tier_actions(figures, row["code"], row["customers"], lang)
        tiers.append(
            {**row, "relationship": relationship, "action": action, **_links("tier", row["code"])}
        )
    segments = [{**row, **_links("segment", row["code"])} for row in segment_rows(figures, lang)]
    return {"tiers": tiers, "segments": segments}


@require_permission(PERMISSION)
def segment_list(request: HttpRequest) -> HttpResponse:
    run = analysis_run_latest()
    context: dict[str, Any] = {"section": "segments", "run": run}
    if run is not None:
        context.update(list_rows(run, chart_language()))
        context["basis"] = (run.figures or {}).get("value_basis", "revenue")
    return render(request, "web/segments/list.html", context)


# --- one group's diagnosis -------------------------------------------------------------------


def p_shown(value: float | None) -> str:
    if value is None:
        return "—"
    return "<0.0001" if value < 0.0001 else f"{value:.4f}"


def lift_shown(value: float | None) -> str:
    if value is None:
        return "—"
    if math.isinf(value):
        return gettext("only in this group")
    return f"×{value:.2f}"


def _value_name(row: dict[str, Any], lang: Language) -> str:
    return str(row["value_zh"] if lang == "zh-hans" else row["value_en"])


def diagnosis_rows(rows: list[dict[str, Any]], lang: Language) -> list[dict[str, Any]]:
    """Rows of a diagnosis table as the page shows them (the figures kept for tests)."""
    names = {**ATTRIBUTE_LABELS, **CATEGORY_LABELS}
    out = []
    for row in rows:
        lift = row["lift"]
        out.append(
            {
                **row,
                "attribute_label": in_language(names[row["attribute"]], lang),
                "value_label": _value_name(row, lang),
                "statement": row["statement_zh"] if lang == "zh-hans" else row["statement_en"],
                "group_share_shown": percent(row["group_share"]),
                "rest_share_shown": percent(row["rest_share"]),
                "lift_shown": lift_shown(lift),
                "p_shown": p_shown(row["p_value"]),
                "q_shown": p_shown(row["q_value"]),
                "lift_value": "" if lift is None else repr(float(lift)),
                "p_value_text": repr(float(row["p_value"])),
            }
        )
    return out


def lift_chart(rows: list[dict[str, Any]], title: str, lang: Language) -> str:
    """Bars of the first rows' lifts (a lift of 0, never seen in the group, has no bar)."""
    pattern = "{value}（{attribute}）" if lang == "zh-hans" else "{value} ({attribute})"
    bars = [
        (pattern.format(value=r["value_label"], attribute=r["attribute_label"]),
         float(r["lift"]), r["lift_shown"], bool(r["significant"]))
        for r in rows[:CHART_ROWS]
        if r["lift"] is not None and r["lift"] > 0
    ]  # fmt: skip
    return lift_bars_svg(bars, title=title)


def findings(attributes: list[dict[str, Any]], categories: list[dict[str, Any]]) -> list[str]:
    """The strongest significant findings in words (the order:
    :func:`patron.insights.presenters.strongest_findings`)."""
    return [r["statement"] for r in strongest_findings(attributes, categories, limit=FINDINGS)]


def group_summary(run: AnalysisRun, kind: GroupKind, code: str, lang: Language) -> dict[str, Any]:
    rows = list_rows(run, lang)["tiers" if kind == "tier" else "segments"]
    return next(row for row in rows if row["code"] == code)


@require_permission(PERMISSION)
def segment_detail(request: HttpRequest, kind: str, name: str) -> HttpResponse:
    if kind not in GROUP_KINDS or name not in group_codes(kind):  # type: ignore[arg-type]
        raise Http404(gettext("No such tier or segment."))
    group: GroupKind = kind  # type: ignore[assignment]
    lang = chart_language()
    labels = TIERS if group == "tier" else SEGMENTS
    label = in_language(next(item.label for item in labels if item.code == name), lang)
    context: dict[str, Any] = {"section": "segments", "kind": group, "code": name,
                               "label": label}  # fmt: skip
    run = analysis_run_latest()
    context["run"] = run
    if run is not None:
        diagnosis = segment_diagnosis(run=run, kind=group, code=name)
        attributes = diagnosis_rows(diagnosis.attributes, lang)
        categories = diagnosis_rows(diagnosis.categories, lang)
        context.update(
            summary=group_summary(run, group, name, lang),
            diagnosis=diagnosis,
            findings=findings(attributes, categories),
            attributes=attributes,
            categories=categories,
            attributes_svg=lift_chart(attributes, gettext("Lift of customer attributes"), lang),
            categories_svg=lift_chart(categories, gettext("Lift of product categories"), lang),
        )
    return render(request, "web/segments/detail.html", context)
