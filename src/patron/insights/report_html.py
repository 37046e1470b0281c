"""The HTML report of an analysis: one self-contained file, charts drawn as inline SVG.

No Django settings needed (``patron analyze --source`` has none): the template is rendered
with a standalone template engine and every value reaches it as preformatted text. No
script, no external stylesheet, font or image: the file works offline and prints.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

from patron.analytics.report import ValueAnalysis
from patron.analytics.segments import SEGMENTS
from patron.analytics.tiers import PROFIT_GROUPS, TIERS
from patron.insights.charts import (
    HEADINGS,
    Language,
    heatmap_svg,
    lorenz_svg,
    pyramid_svg,
    trend_svg,
)
from patron.insights.charts import text as _text

TEMPLATES = Path(__file__).resolve().parent / "templates"


def _money(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,.2f}"


def _int(value: Any) -> str:
    return "–" if value is None else f"{int(value):,}"


def _pct(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{100 * value:.{digits}f}%"


def _value_rows(levels: Any, table: list[dict[str, Any]], lang: Language) -> list[dict[str, str]]:
    """Value and cost per tier or profit group, every level listed, as shown."""
    by_level = {row["level"]: row for row in table}
    rows = []
    for level in levels:
        row = by_level.get(level.code, {})
        # a margin unknown for every customer of the level (no costs, no default rate)
        unknown = row.get("margin_unknown", 0) and row["margin_unknown"] == row["customers"]
        rows.append(
            {
                "label": _text(level.label, lang),
                "customers": _int(row.get("customers", 0)),
                "revenue": _money(row.get("revenue")),
                "margin": "–" if unknown else _money(row.get("margin")),
                "cost_to_serve": _money(row.get("cost_to_serve")),
                "profit": "–" if unknown else _money(row.get("profit")),
                "unprofitable": _int(row.get("unprofitable", 0)),
            }
        )
    return rows


def report_context(analysis: ValueAnalysis, *, lang: Language = "both") -> dict[str, Any]:
    """Everything the template shows, as text and SVG strings."""
    fig = analysis.figures
    h = {key: _text(key, lang) for key in HEADINGS}
    tiles = [
        (h["customers"], _int(fig["customers"])),
        (h["orders"], _int(fig.get("orders"))),
        (h["revenue"], _money(fig["revenue"])),
        (h["profit"], _money(fig.get("profit"))),
        (h["top20"], _pct(fig.get("top20_revenue_share"))),
        (h["gini"], "–" if fig.get("gini") is None else f"{fig['gini']:.3f}"),
    ]
    tier_rows = _value_rows(TIERS, fig.get("tier_table", []), lang)
    group_rows = _value_rows(PROFIT_GROUPS, fig.get("profit_group_table", []), lang)
    segment_rows = []
    seg_table = {row["level"]: row for row in fig.get("segment_table", [])}
    n = fig["customers"] or 1
    for segment in SEGMENTS:
        row = seg_table.get(segment.code, {})
        count = int(row.get("customers", 0))
        segment_rows.append(
            {
                "label": _text(segment.label, lang),
                "customers": f"{count:,}",
                "share": _pct(count / n),
                "revenue": _money(row.get("revenue")),
                "action": segment.action["en"]
                if lang == "en"
                else segment.action["zh-hans"]
                if lang == "zh-hans"
                else f"{segment.action['en']} / {segment.action['zh-hans']}",
            }
        )
    kpi_rows = []
    trend = ""
    if fig.get("kpis"):
        kpis = fig["kpis"]
        for row in kpis[-12:]:
            kpi_rows.append(
                {
                    "month": str(row["month"])[:7],
                    "active": _int(row["active_customers"]),
                    "new": _int(row["new_customers"]),
                    "lost": _int(row["lost_customers"]),
                    "churn": _pct(row["churn_rate"]),
                    "retention": _pct(row["retention_rate"]),
                    "revenue": _money(row["revenue"]),
                }
            )
        trend = trend_svg(
            [str(r["month"]) for r in kpis], [float(r["revenue"] or 0) for r in kpis], lang
        )
    statement = fig.get("concentration_statement", {})
    basis = {
        "profit": {"en": "profit", "zh-hans": "利润"},
        "revenue": {"en": "revenue", "zh-hans": "收入"},
    }[fig.get("value_basis", "revenue")]
    return {
        "lang": "zh-Hans" if lang == "zh-hans" else "en",
        "h": h,
        "as_of": analysis.as_of.isoformat(),
        "generated": dt.date.today().isoformat(),
        "tiles": tiles,
        "statement": _text(statement, lang) if statement else "",
        "basis": _text(basis, lang),
        "pyramid": pyramid_svg(fig["tiers"], lang),
        "heatmap": heatmap_svg(fig["rf_heatmap"], lang),
        "lorenz": lorenz_svg(fig["lorenz"]["x"], fig["lorenz"]["y"], lang),
        "trend": trend,
        "tier_rows": tier_rows,
        "group_rows": group_rows if fig.get("profit_group_table") else [],
        "segment_rows": segment_rows,
        "kpi_rows": kpi_rows,
    }


def render_report(analysis: ValueAnalysis, *, lang: Language = "both") -> str:
    """The report as one HTML document (no external resources)."""
    from django.template import Context, Engine

    engine = Engine(dirs=[str(TEMPLATES)], autoescape=True)
    template = engine.get_template("insights/report.html")
    return template.render(Context(report_context(analysis, lang=lang)))


def write_report(analysis: ValueAnalysis, path: Path, *, lang: Language = "both") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report(analysis, lang=lang), encoding="utf-8")
    return path
