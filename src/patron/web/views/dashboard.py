"""The dashboard: the latest stored analysis run against the one before it.

Nothing is recomputed on a page view. The KPI tiles, pyramid, R×F heatmap, Lorenz curve, KPI
trends, cohort heatmap (:mod:`patron.web.trends`) and segment table come from the run's
``figures`` JSON (written by ``patron analyze``); the tier
migration between the latest two runs is one aggregate query over their ``CustomerScore``
rows, cached (runs never change). Charts are inline SVG drawn on the server
(:mod:`patron.insights.charts`): no script, no CDN, works offline.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from patron.accounts.permissions import public, require_permission
from patron.analytics.migration import LOST, NEW
from patron.analytics.segments import SEGMENTS
from patron.analytics.tiers import PROFIT_GROUPS, TIERS
from patron.insights.charts import Language, heatmap_svg, lorenz_svg, pyramid_svg
from patron.insights.models import AnalysisRun, CustomerScore
from patron.insights.selectors import (
    MigrationColumn,
    analysis_run_completed,
    analysis_run_latest,
    analysis_run_list,
    analysis_run_previous,
)
from patron.sales.selectors import store_stats
from patron.web.templatetags.patron import money, num
from patron.web.trends import cohort_heatmap, kpi_trends, number_or_none, percent

MIGRATION_CACHE_SECONDS = 600
RUNS_TO_CHOOSE = 100
NEUTRAL_CHANGES = frozenset({"top20_revenue_share", "gini"})


REPORTS_PERMISSION = "accounts.view_reports"


@require_permission()
def home(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm(REPORTS_PERMISSION):
        # Revenue, predicted value and tiers are for the roles that read reports; service
        # starts at the customers, and an account without a role sees only that it has none.
        if request.user.has_perm("customers.view_customer"):
            return redirect("web:customer_list")
        return render(request, "web/no_role.html")
    context: dict[str, Any] = {"section": "dashboard"}
    run = _chosen_run(request, "run") or analysis_run_latest()
    if run is None:
        context["stats"] = store_stats()
    else:
        previous = _chosen_run(request, "against") or analysis_run_previous(run=run)
        by: MigrationColumn = "segment" if request.GET.get("by") == "segment" else "value_tier"
        context["value"] = dashboard_value(run=run, previous=previous, by=by)
        context["runs"] = list(analysis_run_list()[:RUNS_TO_CHOOSE])
    return render(request, "web/home.html", context)


def _chosen_run(request: HttpRequest, name: str) -> AnalysisRun | None:
    """The completed run the query string names under ``name``; a message when there is none."""
    value = request.GET.get(name, "").strip()
    if not value:
        return None
    found = analysis_run_completed(int(value)) if value.isdigit() else None
    if found is None:
        messages.warning(
            request,
            gettext("There is no completed analysis run %(run)s; the usual one is shown.")
            % {"run": value[:20]},
        )
    return found


@public
def healthz(request: HttpRequest) -> JsonResponse:
    """The database answers, and (when jobs go through a queue) a worker beat lately: else
    503 with ``"worker": "missing"``. Running jobs whose worker died are failed here too."""
    from django.conf import settings

    from patron.jobs.heartbeat import worker_seen
    from patron.jobs.services import job_stale_fail

    connection.ensure_connection()
    if settings.HUEY.get("immediate"):
        return JsonResponse({"status": "ok", "worker": "immediate"})
    job_stale_fail()
    seen = worker_seen()
    if seen is None:
        return JsonResponse({"status": "degraded", "worker": "missing"}, status=503)
    return JsonResponse({"status": "ok", "worker": "alive", "worker_pid": seen.get("pid")})


# --- what the dashboard shows ----------------------------------------------------------------


def chart_language() -> Language:
    """The active language as the charts name it."""
    return "zh-hans" if (get_language() or "en").lower().startswith("zh") else "en"


def in_language(pair: dict[str, str], lang: Language) -> str:
    return pair.get(lang) or pair.get("en", "")


def _signed(value: float, shown: str) -> str:
    return f"+{shown}" if value > 0 else shown if value < 0 else "±0"


PREDICTIVE_FIGURES = ("predicted_value", "value_at_risk")


def kpi_tiles(figures: dict[str, Any], previous: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Headline figures with their change since the previous run (None without one)."""

    def points_delta(v: float) -> str:
        return gettext("%(value)s pp") % {"value": f"{100 * v:+.1f}"}

    def gini(v: float) -> str:
        return f"{v:.3f}"

    specs = (
        ("customers", _("Customers"), num, lambda d: _signed(d, num(d))),
        ("revenue", _("Revenue"), money, lambda d: _signed(d, money(d))),
        ("profit", _("Profit"), money, lambda d: _signed(d, money(d))),
        ("top20_revenue_share", _("Revenue share of the top 20%"), percent, points_delta),
        ("gini", _("Gini (revenue)"), gini, lambda d: f"{d:+.3f}" if d else "±0"),
        (
            "predicted_value",
            _("Predicted value, next 12 months"),
            money,
            lambda d: _signed(d, money(d)),
        ),
        (
            "value_at_risk",
            _("Value at risk (high churn risk)"),
            money,
            lambda d: _signed(d, money(d)),
        ),
    )

    def figure(source: dict[str, Any] | None, key: str) -> float | None:
        if source is None:
            return None
        if key in PREDICTIVE_FIGURES:  # kept under "predictive"; absent when it was skipped
            return number_or_none((source.get("predictive") or {}).get(key))
        return number_or_none(source.get(key))

    tiles = []
    for key, label, shown, delta_shown in specs:
        value = figure(figures, key)
        if value is None and key in ("profit", *PREDICTIVE_FIGURES):
            continue  # no costs, or no prediction in this run: no tile
        tile: dict[str, Any] = {"key": key, "label": label, "value": "—"}
        if value is not None:
            tile["value"] = shown(value)
        before = figure(previous, key)
        if value is not None and before is not None:
            change = value - before
            tile["delta"] = delta_shown(change)
            # more customers, revenue or profit is good news; more concentration is neither
            if key in NEUTRAL_CHANGES:
                tile["direction"] = "neutral"
            elif key == "value_at_risk":  # more value at risk is bad news
                tile["direction"] = "down" if change > 0 else "up" if change < 0 else "same"
            else:
                tile["direction"] = "up" if change > 0 else "down" if change < 0 else "same"
        tiles.append(tile)
    return tiles


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


def migration_counts(
    *, before: AnalysisRun, after: AnalysisRun, column: MigrationColumn = "value_tier"
) -> dict[tuple[str, str], int]:
    """Customers by (level in ``before``, level in ``after``); ``"(new)"`` / ``"(lost)"`` when
    absent. Levels are value tiers or segments (``column``).

    One query: each customer's level in either run (a conditional aggregate per customer), then
    the pairs counted. The same numbers as
    :func:`patron.insights.selectors.analysis_run_migration`, without loading every score.
    """
    if column not in ("value_tier", "segment"):
        raise ValueError(f"no migration by {column!r}")
    key = (
        f"dashboard:migration:{column}:{before.pk}:{before.created_at.timestamp()}:"
        f"{after.pk}:{after.created_at.timestamp()}"
    )
    cached = cache.get(key)
    if cached is not None:
        return {(b, a): n for b, a, n in cached}
    table = connection.ops.quote_name(CustomerScore._meta.db_table)
    sql = f"""
        SELECT level_before, level_after, COUNT(*) FROM (
            SELECT MAX(CASE WHEN run_id = %s THEN {column} END) AS level_before,
                   MAX(CASE WHEN run_id = %s THEN {column} END) AS level_after
            FROM {table} WHERE run_id IN (%s, %s) GROUP BY customer_id
        ) pairs GROUP BY level_before, level_after"""
    with connection.cursor() as cursor:
        cursor.execute(sql, [before.pk, after.pk, before.pk, after.pk])
        rows = [(b or NEW, a or LOST, int(n)) for b, a, n in cursor.fetchall()]
    cache.set(key, rows, MIGRATION_CACHE_SECONDS)
    return {(b, a): n for b, a, n in rows}


def migration_table(
    counts: dict[tuple[str, str], int], lang: Language, column: MigrationColumn = "value_tier"
) -> dict[str, Any]:
    """The transition matrix as rows of cells (count and row share), plus the totals.

    Levels are listed best first (tiers from very high, segments from champions), so a move
    to an earlier level is an upgrade, as in :mod:`patron.analytics.migration`."""
    levels = TIERS if column == "value_tier" else SEGMENTS
    codes = [level.code for level in levels]
    names = {level.code: in_language(level.label, lang) for level in levels}
    rank = {code: i for i, code in enumerate(codes)}
    row_codes, col_codes = [*codes, NEW], [*codes, LOST]
    # Segments have their own "new" and "lost": the customers absent from a run are named apart.
    absent_before, absent_after = (
        (gettext("New customers"), gettext("Lost"))
        if column == "value_tier"
        else (gettext("Not in the earlier run"), gettext("Not in the later run"))
    )
    columns = [names[c] for c in codes] + [absent_after]
    rows = []
    moves = {"upgrades": 0, "downgrades": 0, "same": 0, "new": 0, "lost": 0}
    for b in row_codes:
        total = sum(counts.get((b, a), 0) for a in col_codes)
        cells = []
        for a in col_codes:
            n = counts.get((b, a), 0)
            share = n / total if total else 0.0
            if b == NEW:
                kind = "new"
            elif a == LOST:
                kind = "lost"
            else:
                kind = (
                    "upgrades"
                    if rank[a] < rank[b]
                    else "downgrades"
                    if rank[a] > rank[b]
                    else "same"
                )
            moves[kind] += n
            cells.append(
                {
                    "before": b,
                    "after": a,
                    "count": n,
                    "share": percent(share),
                    "kind": kind,
                    "shade": f"{0.06 + 0.6 * share:.2f}" if n else "0",
                }
            )
        label = absent_before if b == NEW else names[b]
        rows.append({"code": b, "label": label, "total": total, "cells": cells})
    return {"columns": columns, "rows": rows, "moves": moves, "by": column}


def dashboard_value(
    *, run: AnalysisRun, previous: AnalysisRun | None, by: MigrationColumn = "value_tier"
) -> dict[str, Any]:
    """Everything the value part of the dashboard shows, from stored runs only."""
    lang = chart_language()
    figures = run.figures or {}
    pyramid = pyramid_rows(figures, lang)
    lorenz = figures.get("lorenz") or {}
    statement = figures.get("concentration_statement") or {}
    value: dict[str, Any] = {
        "run": run,
        "previous": previous,
        "tiles": kpi_tiles(figures, previous.figures if previous is not None else None),
        "statement": in_language(statement, lang) if statement else "",
        "basis": figures.get("value_basis", "revenue"),
        "pyramid": pyramid,
        "pyramid_svg": pyramid_svg(
            {row["code"]: row["customers"] for row in pyramid},
            lang,
            {row["code"]: row["revenue_share"] for row in pyramid},
        ),
        "heatmap_svg": heatmap_svg(figures["rf_heatmap"], lang)
        if figures.get("rf_heatmap")
        else "",
        "lorenz_svg": lorenz_svg(lorenz["x"], lorenz["y"], lang) if lorenz.get("x") else "",
        "segments": segment_rows(figures, lang),
        "profit_groups": profit_group_rows(figures, lang),
        "trends": kpi_trends(figures, lang),
        "cohorts": cohort_heatmap(figures, lang),
        "lost_after_days": (figures.get("settings") or {}).get("lost_after_days"),
        "migration": None,
    }
    if previous is not None:
        value["migration"] = migration_table(
            migration_counts(before=previous, after=run, column=by), lang, by
        )
    return value
