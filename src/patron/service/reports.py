"""The survey report: NPS and CSAT with intervals (overall, by month, value tier, segment,
store and ticket category), key drivers, comment themes, and the retention of promoters,
passives and detractors from orders. Reads the store once into arrays and hands them to
:mod:`patron.analytics.satisfaction`."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.utils import timezone

from patron.service.models import SurveyResponse

RETENTION_DAYS = 180  # a respondent is retained when they buy within this many days
MIN_DRIVER_ROWS = 30
ALL = "all"


@dataclass(frozen=True)
class SurveyData:
    """One row per answer (arrays of equal length) and the driver matrix."""

    customer: np.ndarray
    answered: np.ndarray  # datetime64[D], local date
    month: np.ndarray
    nps: np.ndarray  # float, NaN when not asked
    csat: np.ndarray
    tier: np.ndarray
    segment: np.ndarray
    store: np.ndarray
    category: np.ndarray
    comment: list[str]
    driver_names: tuple[str, ...]
    drivers: np.ndarray  # n × k, NaN when not rated


def survey_data(*, since: dt.date | None = None, until: dt.date | None = None) -> SurveyData:
    """Every answer from ``since`` to ``until`` with the customer's tier and segment in the
    latest analysis run, their store (of the latest order up to the answer) and the ticket
    category of a CSAT answer."""
    from patron.insights.models import CustomerScore
    from patron.insights.selectors import analysis_run_latest
    from patron.sales.models import Order

    responses = SurveyResponse.objects.all()
    if since is not None:
        responses = responses.filter(answered_at__date__gte=since)
    if until is not None:
        responses = responses.filter(answered_at__date__lte=until)
    rows = list(
        responses.order_by("answered_at", "pk").values_list(
            "customer_id", "answered_at", "nps", "csat", "drivers", "comment",
            "ticket__category__code",
        )
    )  # fmt: skip
    customers = sorted({r[0] for r in rows})
    run = analysis_run_latest()
    standing: dict[int, tuple[str, str]] = {}
    if run is not None and customers:
        standing = {
            c: (t, s)
            for c, t, s in CustomerScore.objects.filter(
                run=run, customer_id__in=customers
            ).values_list("customer_id", "value_tier", "segment")
        }
    stores: dict[int, list[tuple[dt.date, str]]] = defaultdict(list)
    for c, day, store in (
        Order.objects.filter(customer_id__in=customers)
        .exclude(store="")
        .order_by("ordered_on")
        .values_list("customer_id", "ordered_on", "store")
        .iterator(chunk_size=5000)
    ):
        stores[c].append((day, store))
    names = sorted({k for r in rows for k in (r[4] or {})})
    n = len(rows)
    drivers = np.full((n, len(names)), np.nan)
    index = {name: i for i, name in enumerate(names)}
    answered, store_col = [], []
    for i, r in enumerate(rows):
        for key, value in (r[4] or {}).items():
            drivers[i, index[key]] = float(value)
        day = timezone.localdate(r[1])
        answered.append(day)
        before = [s for d, s in stores.get(r[0], []) if d <= day]
        store_col.append(before[-1] if before else "")
    return SurveyData(
        customer=np.array([r[0] for r in rows], dtype=np.int64),
        answered=np.array(answered, dtype="datetime64[D]"),
        month=np.array([d.strftime("%Y-%m") for d in answered], dtype=object),
        nps=np.array([np.nan if r[2] is None else r[2] for r in rows], dtype=np.float64),
        csat=np.array([np.nan if r[3] is None else r[3] for r in rows], dtype=np.float64),
        tier=np.array([standing.get(r[0], ("", ""))[0] for r in rows], dtype=object),
        segment=np.array([standing.get(r[0], ("", ""))[1] for r in rows], dtype=object),
        store=np.array(store_col, dtype=object),
        category=np.array([r[6] or "" for r in rows], dtype=object),
        comment=[r[5] or "" for r in rows],
        driver_names=tuple(names),
        drivers=drivers,
    )


def _clean(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _by(keys: np.ndarray, values: np.ndarray, fn: Any) -> dict[str, Any]:
    asked = ~np.isnan(values)
    keep = asked & (keys != "")
    return {k: r.as_dict() for k, r in fn(keys[keep], values[keep]).items()}


def _retained(data: SurveyData, today: dt.date) -> tuple[np.ndarray, np.ndarray, float]:
    """(eligible answers, retained flag, mean revenue of a retained respondent in the window)."""
    from patron.retention.services import PURCHASE_STATUSES
    from patron.sales.models import Order

    window = np.timedelta64(RETENTION_DAYS, "D")
    eligible = data.answered + window <= np.datetime64(today, "D")
    kept = np.zeros(len(data.customer), dtype=bool)
    revenue = np.zeros(len(data.customer))
    orders: dict[int, list[tuple[np.datetime64, float]]] = defaultdict(list)
    for c, day, amount in (
        Order.objects.filter(customer_id__in=set(data.customer[eligible].tolist()),
                             status__in=PURCHASE_STATUSES)
        .values_list("customer_id", "ordered_on", "amount")
        .iterator(chunk_size=5000)
    ):  # fmt: skip
        orders[c].append((np.datetime64(day, "D"), float(amount)))
    for i in np.flatnonzero(eligible):
        start, end = data.answered[i], data.answered[i] + window
        spent = [a for d, a in orders.get(int(data.customer[i]), []) if start < d <= end]
        kept[i] = bool(spent)
        revenue[i] = sum(spent)
    value = float(revenue[eligible & kept].mean()) if (eligible & kept).any() else 0.0
    return eligible, kept, value


TOP_TIERS = ("very_high", "high")


def _drivers(data: SurveyData, rows: np.ndarray) -> dict[str, Any]:
    """Key drivers of NPS over ``rows`` (those with every rating), when there are enough."""
    from patron.analytics.satisfaction import KeyDrivers

    empty: dict[str, Any] = {"target": "nps", "responses": 0, "items": []}
    if not data.driver_names:
        return empty
    complete = rows & ~np.isnan(data.drivers).any(axis=1)
    if complete.sum() < max(MIN_DRIVER_ROWS, len(data.driver_names) + 2):
        return {**empty, "responses": int(complete.sum())}
    model = KeyDrivers().fit(data.drivers[complete], data.nps[complete], names=data.driver_names)
    items = [
        {"driver": name, "importance": round(float(imp), 4), "share": round(float(share), 4),
         "coef": round(float(coef), 4)}
        for name, imp, share, coef in zip(
            model.names_, model.importance_, model.share_, model.coef_, strict=True
        )
    ]  # fmt: skip
    return {
        "target": "nps",
        "responses": model.n_samples_,
        "r2": round(model.r2_, 4),
        "items": sorted(items, key=lambda item: -item["share"]),
    }


def survey_report(
    *, since: dt.date | None = None, until: dt.date | None = None, today: dt.date | None = None
) -> dict[str, Any]:
    """The whole survey report as plain data (the JSON of ``patron surveys report``)."""
    from patron.analytics.satisfaction import (
        comment_themes,
        csat_by_group,
        csat_score,
        nps_by_group,
        nps_group,
        nps_score,
        retention_by_nps_group,
    )
    from patron.analytics.satisfaction.outcomes import detractor_cost

    today = today or timezone.localdate()
    data = survey_data(since=since, until=until)
    report: dict[str, Any] = {
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "nps": nps_score(data.nps).as_dict(),
        "csat": csat_score(data.csat).as_dict(),
    }
    report["nps_by"] = {
        name: _by(keys, data.nps, nps_by_group)
        for name, keys in (("month", data.month), ("tier", data.tier),
                           ("segment", data.segment), ("store", data.store))
    }  # fmt: skip
    report["csat_by"] = {
        name: _by(keys, data.csat, csat_by_group)
        for name, keys in (("month", data.month), ("tier", data.tier),
                           ("category", data.category), ("store", data.store))
    }  # fmt: skip
    rated = ~np.isnan(data.nps)
    drivers = _drivers(data, rated)
    top = np.isin(data.tier, TOP_TIERS)
    report["drivers_top_tiers"] = _drivers(data, rated & top)
    report["drivers"] = drivers
    groups = nps_group(np.where(rated, data.nps, 0))
    comments = np.array(data.comment, dtype=object)
    themes = comment_themes(
        [c for c in comments[rated & (groups == "detractor")] if c],
        [c for c in comments[rated & (groups == "promoter")] if c],
    )
    report["themes"] = [
        {"term": t.term, "z": round(t.z, 3), "detractors": t.detractors,
         "promoters": t.promoters, "detractor_share": round(t.detractor_share, 4),
         "promoter_share": round(t.promoter_share, 4)}
        for t in themes
    ]  # fmt: skip
    eligible, kept, value = _retained(data, today)
    use = eligible & rated
    by_group = retention_by_nps_group(data.nps[use], kept[use])
    cost = detractor_cost(by_group, value_retained=value)
    report["retention"] = {
        "window_days": RETENTION_DAYS,
        "groups": {
            g: {"respondents": r.respondents, "retained": r.retained, "rate": r.rate,
                "ci_low": r.ci_low, "ci_high": r.ci_high}
            for g, r in by_group.items()
        },
        "value_of_retained": round(value, 2),
        "detractor_cost": None if cost is None else round(cost, 2),
    }  # fmt: skip
    return _clean(report)
