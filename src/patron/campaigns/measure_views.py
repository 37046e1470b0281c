"""Campaign measurement pages: the report on the campaign page (and its Excel/HTML export),
all marketing against the global holdout by month, cadence, and the cycle view."""

from __future__ import annotations

import tempfile
from typing import Any

from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from patron.accounts.permissions import require_permission
from patron.campaigns import selectors
from patron.campaigns.cadence import cadence_report
from patron.campaigns.cycle import cycle_view
from patron.campaigns.holdout import holdout_report
from patron.campaigns.measure import campaign_report
from patron.campaigns.measure_charts import Interval, interval_svg
from patron.campaigns.models import Campaign
from patron.core.cells import neutralise_cell, neutralise_row, xlsx_row

VIEW = "accounts.view_campaigns"
EXPORT = "accounts.export_customers"


def _lang() -> str:
    return "zh-hans" if (get_language() or "en").lower().startswith("zh") else "en"


def _pick(pair: dict[str, str] | None, lang: str) -> str:
    return "" if not pair else pair.get(lang) or pair.get("en", "")


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def _pp(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:+.1f}"


def _money(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


def _span(estimate: dict[str, Any]) -> str:
    return f"{_money(estimate['ci_low'])} … {_money(estimate['ci_high'])}"


def report_context(campaign: Campaign) -> dict[str, Any]:
    """The campaign report with display rows and its interval chart, for the page and export."""
    report = campaign_report(campaign=campaign)
    if not report.get("available"):
        return {"report": report}
    lang = _lang()
    up = report["uplift"]
    metrics = [
        ("response_rate", _("Response rate (points)"), 100.0, _pp),
        ("revenue_per_customer", _("Revenue per customer"), 1.0, _money),
        ("margin_per_customer", _("Margin per customer"), 1.0, _money),
    ]
    uplift_rows = []
    chart_rows = []
    for key, label, factor, fmt in metrics:
        est = up.get(key)
        if not est or est["estimate"] is None:
            continue
        scaled = {
            k: None if est[k] is None else est[k] * factor
            for k in ("estimate", "ci_low", "ci_high")
        }
        shown = fmt(est["estimate"]) if key != "response_rate" else _pp(est["estimate"])
        uplift_rows.append(
            {
                "label": label,
                "estimate": shown,
                "low": fmt(est["ci_low"]),
                "high": fmt(est["ci_high"]),
                "p": est["p_value"],
                "clear": (est["ci_low"] or 0) > 0 or (est["ci_high"] or 0) < 0,
            }
        )
        chart_rows.append(
            Interval(label, scaled["estimate"], scaled["ci_low"], scaled["ci_high"], shown)
        )

    def breakdown(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for row in rows:
            rate = row.get("uplift", {}).get("response_rate")
            out.append(
                {
                    "label": _pick(row["label"], lang),
                    "treatment": row["treatment"],
                    "control": row["control"],
                    "rate_t": _pct(row.get("response_rate", {}).get("treatment")),
                    "rate_c": _pct(row.get("response_rate", {}).get("control")),
                    "uplift": _pp(rate["estimate"]) if rate else "—",
                    "interval": f"{_pp(rate['ci_low'])} … {_pp(rate['ci_high'])}" if rate else "—",
                    "incremental_revenue": _money(row.get("incremental_revenue")),
                }
            )
        return out

    roi = report["roi"]
    inc = report["incremental"]
    return {
        "report": report,
        "summary": report["summary"][lang],
        "summary_other": report["summary"]["zh-hans" if lang == "en" else "en"],
        "uplift_rows": uplift_rows,
        "uplift_chart": interval_svg(chart_rows, title=_("Uplift with its 95% interval")),
        "groups": [
            {
                "name": _("Treatment"),
                "key": "treatment",
                "customers": report["treatment"]["customers"],
                "reached": report["treatment"]["reached"],
                "response": _pct(report["treatment"]["response_rate"]),
                "conversion": _pct(report["conversion"]["treatment"]),
                "revenue": _money(report["treatment"]["revenue_per_customer"]),
            },
            {
                "name": _("Control"),
                "key": "control",
                "customers": report["control"]["customers"],
                "reached": 0,
                "response": _pct(report["control"]["response_rate"]),
                "conversion": _pct(report["conversion"]["control"]),
                "revenue": _money(report["control"]["revenue_per_customer"]),
            },
        ],
        "incremental": {
            "revenue": _money(inc["revenue"]["estimate"]),
            "revenue_interval": _span(inc["revenue"]),
            "margin": _money(inc.get("margin", {}).get("estimate")),
            "margin_interval": _span(inc["margin"]) if "margin" in inc else "—",
            "orders": f"{inc['orders']['estimate']:,.1f}",
        },
        "cost": _money(report["cost"]),
        "roi": "—" if roi is None else f"{roi['estimate']:.2f}",
        "roi_interval": "—" if roi is None else f"{roi['ci_low']:.2f} … {roi['ci_high']:.2f}",
        "points_uncosted": report["costs"]["points"] is None and report["costs"]["points_granted"],
        "by_tier": breakdown(report["by_tier"]),
        "by_segment": breakdown(report["by_segment"]),
    }


def _campaign(campaign_id: int) -> Campaign:
    from django.http import Http404

    campaign = selectors.campaign_get(campaign_id=campaign_id)
    if campaign is None:
        raise Http404(_("No campaign with number %(id)s.") % {"id": campaign_id})
    return campaign


def _sheet_rows(context: dict[str, Any]) -> list[list[Any]]:
    report = context["report"]
    rows: list[list[Any]] = [
        [_("Campaign"), report["campaign"]["name"]],
        [_("Result"), context.get("summary", "")],
        [],
        [
            _("Group"),
            _("Customers"),
            _("Reached"),
            _("Response rate"),
            _("Conversion"),
            _("Revenue per customer"),
        ],
    ]
    for g in context.get("groups", []):
        rows.append(
            [g["name"], g["customers"], g["reached"], g["response"], g["conversion"], g["revenue"]]
        )
    rows += [[], [_("Uplift"), _("Estimate"), _("95% interval from"), _("to"), _("p-value")]]
    for u in context.get("uplift_rows", []):
        rows.append([u["label"], u["estimate"], u["low"], u["high"], u["p"]])
    inc = context["incremental"]
    rows += [
        [],
        [_("Incremental revenue"), inc["revenue"], inc["revenue_interval"]],
        [_("Incremental margin"), inc["margin"], inc["margin_interval"]],
        [_("Cost"), context["cost"]],
        [_("ROI"), context["roi"], context["roi_interval"]],
    ]  # fmt: skip
    for title, part in ((_("By value tier"), "by_tier"), (_("By RFM segment"), "by_segment")):
        rows += [[], [title, _("Treatment"), _("Control"), _("Response (treatment)"),
                      _("Response (control)"), _("Uplift (points)"), _("95% interval"),
                      _("Incremental revenue")]]  # fmt: skip
        for r in context[part]:
            rows.append([r["label"], r["treatment"], r["control"], r["rate_t"], r["rate_c"],
                         r["uplift"], r["interval"], r["incremental_revenue"]])  # fmt: skip
    return rows


@require_permission(VIEW, EXPORT)
def campaign_report_export(request: HttpRequest, campaign_id: int, fmt: str) -> HttpResponse:
    if fmt not in ("xlsx", "html"):
        from django.http import Http404

        raise Http404(_("Exports are .xlsx or .html."))
    campaign = _campaign(campaign_id)
    context = report_context(campaign)
    filename = f"campaign-{campaign.pk}-report"
    if not context["report"].get("available"):
        return HttpResponse(_("This campaign has nothing to measure yet."), status=409)
    rows = _sheet_rows(context)
    if fmt == "html":  # Excel opens it as a sheet: shop text starting like a formula gets a '
        shown = [neutralise_row(row) for row in rows]
        title = neutralise_cell(context["report"]["campaign"]["name"])
        html = render_to_string(
            "campaigns/report_export.html",
            {**context, "rows": shown, "title": title},
            request=request,
        )
        response = HttpResponse(html, content_type="text/html; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}.html"'
        return response
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Campaign report"))
    for row in rows:
        sheet.append(xlsx_row(sheet, row))  # text cells, never formulas, text unchanged
    spool = tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024)  # noqa: SIM115
    workbook.save(spool)
    spool.seek(0)
    return FileResponse(
        spool,
        as_attachment=True,
        filename=f"{filename}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@require_permission(VIEW)
def holdout(request: HttpRequest) -> HttpResponse:
    report = holdout_report()
    if request.GET.get("format") == "json":
        return JsonResponse(report)
    rows = [
        Interval(
            m["month"],
            *(
                (None, None, None)
                if "uplift" not in m
                else (
                    100 * m["uplift"]["response_rate"][k] for k in ("estimate", "ci_low", "ci_high")
                )
            ),
            text=_pp(m["uplift"]["response_rate"]["estimate"]) if "uplift" in m else "—",
        )
        for m in report["months"]
    ]
    return render(
        request,
        "campaigns/holdout.html",
        {
            "section": "campaigns",
            "report": report,
            "months": [
                {
                    **m,
                    "rate_t": _pct(m.get("response_rate", {}).get("treatment")),
                    "rate_c": _pct(m.get("response_rate", {}).get("control")),
                    "uplift_pp": _pp(m["uplift"]["response_rate"]["estimate"])
                    if "uplift" in m
                    else "—",
                    "revenue": _money(m["incremental_revenue"]["estimate"])
                    if "uplift" in m
                    else "—",
                }
                for m in report["months"]
            ],
            "chart": interval_svg(rows, title=_("Response uplift by month"), shared_scale=True),
        },
    )


@require_permission(VIEW)
def cadence(request: HttpRequest) -> HttpResponse:
    try:
        days = max(1, min(365, int(request.GET.get("days", 30))))
    except ValueError:
        days = 30
    report = cadence_report(days=days)
    if request.GET.get("format") == "json":
        return JsonResponse(report)
    rows = [
        Interval(
            b["label"],
            *(
                (None, None, None)
                if b["incremental"] is None
                else (100 * b["incremental"][k] for k in ("estimate", "ci_low", "ci_high"))
            ),
            text=_pp(b["incremental"]["estimate"]) if b["incremental"] else "—",
        )
        for b in report["buckets"]
    ]
    return render(
        request,
        "campaigns/cadence.html",
        {
            "section": "campaigns",
            "report": report,
            "buckets": [
                {
                    **b,
                    "rate_t": _pct(b["response_rate"]),
                    "rate_c": _pct(b["control_response_rate"]),
                    "unsub": _pct(b["unsubscribe_rate"]),
                    "inc": _pp(b["incremental"]["estimate"]) if b["incremental"] else "—",
                }
                for b in report["buckets"]
            ],
            "chart": interval_svg(
                rows, title=_("Incremental response by prior contacts"), shared_scale=True
            ),
        },
    )


@require_permission(VIEW)
def cycle(request: HttpRequest) -> HttpResponse:
    lang = _lang()
    cycles = cycle_view()
    if request.GET.get("format") == "json":
        return JsonResponse({"cycles": cycles})
    from patron.analytics.migration import LOST, NEW

    def name(code: str) -> str:
        if code == NEW:
            return _("(not in the run before)")
        if code == LOST:
            return _("(not in the run after)")
        from patron.campaigns.cycle import TIER_LABELS

        return _pick(TIER_LABELS.get(code), lang) or code

    for entry in cycles:
        for group in entry.get("groups", {}).values():
            group["row_labels"] = [name(c) for c in group["rows"]]
            group["column_labels"] = [name(c) for c in group["columns"]]
            group["table"] = list(zip(group["row_labels"], group["matrix"], strict=True))
        for tier in entry.get("tiers", []):
            tier["label_text"] = _pick(tier["label"], lang)
            tier["relationship_text"] = (
                _pick(tier["relationship"], lang) if tier["relationship"] else "—"
            )
            tier["levers_text"] = " · ".join(_pick(lever, lang) for lever in tier["levers"])
    return render(request, "campaigns/cycle.html", {"section": "campaigns", "cycles": cycles})
