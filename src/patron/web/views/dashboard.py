"""The dashboard: the latest stored analysis run against the one before it.

Nothing is recomputed on a page view. The KPI tiles, pyramid, R×F heatmap, Lorenz curve, KPI
trends, cohort heatmap (:mod:`patron.web.trends`) and segment table come from the run's
``figures`` JSON (written by ``patron analyze``; rows by :mod:`patron.web.figures`); the tier
migration between the latest two runs is one aggregate query over their ``CustomerScore``
rows (:func:`patron.insights.selectors.analysis_run_migration_counts`, cached). Which change
is good news and which move is an upgrade are rules of :mod:`patron.insights.presenters`;
this module only puts them on the page. Charts are inline SVG drawn on the server
(:mod:`patron.insights.charts`): no script, no CDN, works offline.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from patron.accounts.permissions import public, require_permission
from patron.analytics.migration import LOST, NEW
from patron.analytics.segments import SEGMENTS
from patron.analytics.tiers import TIERS
from patron.insights.charts import Language, heatmap_svg, lorenz_svg, pyramid_svg
from patron.insights.models import AnalysisRun
from patron.insights.presenters import (
    chart_language,
    in_language,
    kpi_change_direction,
    migration_kind,
)
from patron.insights.selectors import (
    MigrationColumn,
    analysis_run_completed,
    analysis_run_latest,
    analysis_run_list,
    analysis_run_migration_counts,
    analysis_run_previous,
)
from patron.sales.selectors import store_stats
from patron.web.figures import profit_group_rows, pyramid_rows, segment_rows
from patron.web.templatetags.patron import money, num
from patron.web.trends import cohort_heatmap, kpi_trends, number_or_none, percent

RUNS_TO_CHOOSE = 100


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
            tile["direction"] = kpi_change_direction(key, change)
        tiles.append(tile)
    return tiles


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
            kind = migration_kind(b, a, rank, new=NEW, lost=LOST)
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
            analysis_run_migration_counts(before=previous, after=run, column=by), lang, by
        )
    return value
