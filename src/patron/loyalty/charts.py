"""The programme analytics' charts: inline SVG from the charts the dashboard uses."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from patron.insights.prediction_charts import hbars_svg
from patron.insights.trend_charts import line_chart_svg
from patron.web.templatetags.patron import money, num
from patron.web.trends import month_label
from patron.web.views.dashboard import chart_language


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def analytics_charts(data: dict[str, Any]) -> dict[str, str]:
    lang = chart_language()
    months = data["months"]
    labels = [month_label(m["month"], lang) for m in months]
    charts = {
        "liability": line_chart_svg(
            labels,
            [("liability", _("Points liability"), [m["liability"] for m in months])],
            title=_("Points liability (outstanding × cost per point) at each month's end"),
            shown=lambda v: money(v),
        ),
        "flows": line_chart_svg(
            labels,
            [
                ("earned", _("Earned"), [float(m["earned"]) for m in months]),
                ("spent", _("Redeemed"), [float(m["spent"]) for m in months]),
                ("expired", _("Expired"), [float(m["expired"]) for m in months]),
            ],
            title=_("Points earned, redeemed and expired by month"),
            shown=lambda v: num(v),
        ),
    }
    tiers = data["tiers"]
    charts["tiers"] = hbars_svg(
        [
            (
                (t["tier"].name_zh if lang == "zh-hans" else t["tier"].name_en)
                if t["tier"]
                else _("No tier"),
                float(t["members"]),
                num(t["members"]),
            )
            for t in tiers
        ],
        title=_("Members by tier"),
    )
    groups = data["compare"]["groups"]
    rows = []
    for key, label in (("members", _("Members")), ("others", _("Non-members"))):
        g = groups[key]
        rows.append((label, g.spend_per_customer or 0.0, money(g.spend_per_customer)))
    charts["spend"] = hbars_svg(rows, title=_("Spend per customer, last 12 months"))
    charts["retention"] = hbars_svg(
        [
            (label, groups[key].retention or 0.0, _pct(groups[key].retention))
            for key, label in (("members", _("Members")), ("others", _("Non-members")))
        ],
        title=_("Retention: bought again in the second half of the window"),
    )
    charts["rewards"] = hbars_svg(
        [
            (
                (r["reward__name_zh"] if lang == "zh-hans" else r["reward__name_en"]),
                float(r["quantity"]),
                num(r["quantity"]),
            )
            for r in data["rewards"]
        ],
        title=_("Top rewards by times redeemed"),
    )
    return charts
