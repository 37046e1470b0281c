"""The dashboard's KPI trends and cohort heatmap, from a run's stored figures.

``patron analyze`` stores :func:`patron.analytics.kpis.monthly_kpis` (``figures["kpis"]``, one
record per month) and :func:`patron.analytics.kpis.cohort_retention`'s shares
(``figures["cohorts"]``) with every run; nothing here reads transactions. A cohort's size is
the month's ``new_customers``: both count the customers whose first purchase day falls in
that month.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from patron.insights.charts import Language
from patron.insights.trend_charts import cohort_heatmap_svg, line_chart_svg
from patron.web.templatetags.patron import money, num

MAX_COHORTS = 24  # the latest cohorts shown; older ones are summarised in a note
MONTH_ABBREVIATIONS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")  # fmt: skip

# (key, label) of the series of each chart, in the order drawn.
COUNT_SERIES = (
    ("active_customers", _("Active customers")),
    ("new_customers", _("New customers")),
    ("lost_customers", _("Lost customers")),
)
RATE_SERIES = (
    ("churn_rate", _("Churn rate")),
    ("retention_rate", _("Retention rate")),
    ("repeat_purchase_rate", _("Repeat-purchase rate")),
)
MONEY_SERIES = (("revenue_per_customer", _("Revenue per customer")),)
ALL_SERIES = (*COUNT_SERIES, *RATE_SERIES, *MONEY_SERIES)
RATES = frozenset(key for key, _label in RATE_SERIES)


def month_label(day: dt.date, lang: Language) -> str:
    """2024年1月 in Chinese, Jan 2024 in English."""
    if lang == "zh-hans":
        return f"{day.year}年{day.month}月"
    return f"{MONTH_ABBREVIATIONS[day.month - 1]} {day.year}"


def _month_index(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def number_or_none(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if number != number else number  # NaN stored as null, or as NaN by old runs


def percent(value: float | None, places: int = 1) -> str:
    """0.1234 as "12.3%"; unknown as a dash."""
    return "—" if value is None else f"{100 * value:.{places}f}%"


def shown(key: str, value: float | None) -> str:
    """A KPI value as the page shows it: a count, a rate or money."""
    if value is None:
        return "—"
    if key in RATES:
        return percent(value)
    if key == "revenue_per_customer":
        return money(value)
    return num(value)


def _chart(
    records: list[dict[str, Any]],
    labels: list[str],
    series: tuple[tuple[str, Any], ...],
    title: str,
    axis: Callable[[float], str],
) -> str:
    return line_chart_svg(
        labels,
        [(key, str(label), [number_or_none(r.get(key)) for r in records]) for key, label in series],
        title=title,
        shown=axis,
    )


def kpi_trends(figures: dict[str, Any], lang: Language) -> dict[str, Any] | None:
    """Three line charts (customers, rates, revenue per customer) and the table behind them."""
    records = figures.get("kpis") or []
    if not records:
        return None
    months = [dt.date.fromisoformat(r["month"]) for r in records]
    labels = [month_label(m, lang) for m in months]
    # A month in progress (the last one, usually) would dip every line: the table has it.
    complete = [i for i, r in enumerate(records) if r.get("complete", True)]
    charted, charted_labels = [records[i] for i in complete], [labels[i] for i in complete]
    charts = [
        {
            "key": "customers",
            "title": gettext("Customers per month"),
            "svg": _chart(
                charted, charted_labels, COUNT_SERIES, gettext("Customers per month"), num
            ),
        },
        {
            "key": "rates",
            "title": gettext("Churn, retention and repeat purchase"),
            "svg": _chart(
                charted,
                charted_labels,
                RATE_SERIES,
                gettext("Churn, retention and repeat purchase"),
                lambda v: percent(v, 0),
            ),
        },
        {
            "key": "revenue",
            "title": gettext("Revenue per active customer"),
            "svg": _chart(
                charted, charted_labels, MONEY_SERIES, gettext("Revenue per active customer"), money
            ),
        },
    ]
    rows = []
    for month, label, record in zip(months, labels, records, strict=True):
        cells = []
        for key, _label in ALL_SERIES:
            value = number_or_none(record.get(key))
            cells.append({"key": key, "value": "" if value is None else repr(value),
                          "shown": shown(key, value)})  # fmt: skip
        rows.append(
            {
                "month": month.isoformat(),
                "label": label,
                "complete": bool(record.get("complete", True)),
                "cells": cells,
            }
        )
    return {
        "charts": charts,
        "columns": [str(label) for _key, label in ALL_SERIES],
        "rows": rows,
        "partial": not rows[-1]["complete"],
    }


def cohort_heatmap(figures: dict[str, Any], lang: Language) -> dict[str, Any] | None:
    """The latest cohorts' retention (share of the cohort buying k months after its first)."""
    cohorts = figures.get("cohorts") or {}
    months = cohorts.get("months") or []
    if not months:
        return None
    kpis = figures.get("kpis") or []
    new = {r["month"]: int(r.get("new_customers") or 0) for r in kpis}
    # The month in progress (the run's own, when it has not ended) would show a dip on the
    # last diagonal: its cells are left empty, as are months after the run.
    partial = None
    if kpis and not kpis[-1].get("complete", True):
        partial = _month_index(dt.date.fromisoformat(kpis[-1]["month"]))
    shares = [[number_or_none(v) for v in row] for row in cohorts.get("shares") or []]
    start = max(0, len(months) - MAX_COHORTS)
    rows = []
    for month, row in zip(months[start:], shares[start:], strict=True):
        day = dt.date.fromisoformat(month)
        size = new.get(month)
        since = None if partial is None else partial - _month_index(day)
        if since is not None and 0 <= since < len(row):
            row = [*row[:since], None, *row[since + 1 :]]
        cells = [
            {
                "since": k,
                "share": share,
                "value": "" if share is None else repr(share),
                "shown": percent(share, 0),
            }
            for k, share in enumerate(row[:MAX_COHORTS])
        ]
        rows.append({"month": month, "label": month_label(day, lang), "size": size, "cells": cells})
    width = max((len(r["cells"]) for r in rows), default=0)
    return {
        "svg": cohort_heatmap_svg(
            [r["label"] for r in rows],
            [num(r["size"]) for r in rows],
            [[c["share"] for c in r["cells"]] for r in rows],
            title=gettext("Cohort retention"),
        ),
        "rows": rows,
        "columns": list(range(width)),
        "hidden": start,
        "partial": partial is not None,
    }
