"""The prediction charts of the latest analysis run: the purchase model it chose on a holdout
with each candidate's error, P(alive) by frequency and recency, the calibration against the
holdout and the tracking curve, all as the run stored them (:mod:`patron.insights.predictions`).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from patron.accounts.permissions import require_permission
from patron.insights import predictions
from patron.insights.prediction_charts import grid_svg
from patron.insights.selectors import analysis_run_latest
from patron.insights.trend_charts import line_chart_svg
from patron.web.templatetags.patron import num


def holdout_charts(check: predictions.HoldoutCheck) -> dict[str, str]:
    """The calibration and tracking charts of a holdout check."""
    labels = [f"{f}+" if f == predictions.MAX_FREQUENCY else str(f) for f in check.frequency]
    calibration = line_chart_svg(
        labels,
        [
            ("expected", _("Predicted"), list(check.frequency_expected)),
            ("actual", _("Actual"), list(check.frequency_actual)),
        ],
        title=_("Purchases in the holdout by purchases in the calibration period"),
        shown=lambda v: f"{v:.2f}",
    )
    if not check.week_end:
        return {"calibration_svg": calibration, "tracking_svg": ""}
    weeks = [d.isoformat() for d in check.week_end]
    tracking = line_chart_svg(
        weeks,
        [
            ("expected", _("Predicted"), list(check.tracking_expected)),
            ("actual", _("Actual"), list(check.tracking_actual)),
        ],
        title=_("Cumulative repeat purchases by week"),
        shown=lambda v: num(v),
    )
    return {"calibration_svg": calibration, "tracking_svg": tracking}


@require_permission("accounts.view_reports")
def prediction_charts(request: HttpRequest) -> HttpResponse:
    run = analysis_run_latest()
    context: dict[str, Any] = {"section": "predictions", "run": run}
    if run is None:
        return render(request, "web/predictions/charts.html", context)
    grid = predictions.p_alive_grid(run=run)
    context["grid"] = grid
    context["grid_svg"] = grid_svg(
        grid.rows,
        grid.columns,
        grid.mean,
        grid.count,
        title=_("P(alive) by frequency and recency"),
        row_title=_("Orders"),
        column_title=_("Days since the last purchase"),
    )
    check = predictions.holdout_check(run=run)
    context["check"] = check
    if check is not None and check.frequency:
        context["calibration_rows"] = list(
            zip(
                check.frequency,
                check.frequency_customers,
                check.frequency_expected,
                check.frequency_actual,
                strict=True,
            )
        )
        context.update(holdout_charts(check))
    return render(request, "web/predictions/charts.html", context)
