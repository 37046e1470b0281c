"""Reads: what a cross-sell campaign changed in what customers buy.

For the goal "cross-sell" the campaign report adds two rates per group (treatment, control),
each over the group's customers, in the campaign's attribution window after each contact:

- ``new_item``: bought a product they had never bought before the contact;
- ``recommended``: bought one of their own recommended items (either list of the latest
  completed recommendation run as of the first contact day or before; customers without a
  list count as not).

and each rate's difference (treatment minus control) with a normal-approximation 95%
interval, so the report says whether the campaign widened what people buy, not only whether
they bought.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from django.db.models import Min
from django.utils import timezone

Z95 = 1.959963984540054
PURCHASE_STATUSES = ("completed", "open", "refunded")


def _difference(t: pd.Series, c: pd.Series) -> dict[str, float | None]:
    """Treatment minus control share, with its 95% interval (two independent proportions)."""
    if len(t) == 0 or len(c) == 0:
        return {"estimate": None, "ci_low": None, "ci_high": None}
    pt, pc = float(t.mean()), float(c.mean())
    se = math.sqrt(pt * (1 - pt) / len(t) + pc * (1 - pc) / len(c))
    d = pt - pc
    return {"estimate": d, "ci_low": d - Z95 * se, "ci_high": d + Z95 * se}


def cross_sell_outcome(*, rows: pd.DataFrame, window_days: int) -> dict[str, Any]:
    """The cross-sell rates of the report's rows (``customer_id``, ``contacted_at``,
    ``treated``); see the module."""
    from patron.recommend.models import Recommendation, RecommendationRun, RunStatus
    from patron.sales.models import OrderLine

    out: dict[str, Any] = {"window_days": window_days}
    if rows.empty:
        return out
    window = pd.Timedelta(days=window_days)
    ids = rows["customer_id"].unique().tolist()
    first = pd.DataFrame.from_records(
        OrderLine.objects.filter(
            order__customer_id__in=ids,
            order__status__in=PURCHASE_STATUSES,
            product__isnull=False,
            quantity__gt=0,
        )
        .values("order__customer_id", "product_id")
        .annotate(first=Min("order__ordered_at"))
        .values_list("order__customer_id", "product_id", "first"),
        columns=["customer_id", "product_id", "first"],
    )
    start = rows["contacted_at"].min()
    end = rows["contacted_at"].max() + window
    bought = pd.DataFrame.from_records(
        OrderLine.objects.filter(
            order__customer_id__in=ids,
            order__status__in=PURCHASE_STATUSES,
            product__isnull=False,
            quantity__gt=0,
            order__ordered_at__gte=start.to_pydatetime(),
            order__ordered_at__lt=end.to_pydatetime(),
        ).values_list("order__customer_id", "product_id", "order__ordered_at"),
        columns=["customer_id", "product_id", "ordered_at"],
    )
    contact = rows[["customer_id", "contacted_at"]].drop_duplicates("customer_id")
    new_buyers: set[int] = set()
    if not first.empty:
        first["first"] = pd.to_datetime(first["first"], utc=True)
        f = first.merge(contact, on="customer_id")
        hit = (f["first"] >= f["contacted_at"]) & (f["first"] < f["contacted_at"] + window)
        new_buyers = set(f.loc[hit, "customer_id"])
    run = (
        RecommendationRun.objects.filter(
            status=RunStatus.COMPLETED, as_of__lte=timezone.localtime(start.to_pydatetime()).date()
        )
        .order_by("-as_of", "-created_at", "-pk")
        .first()
    )
    rec_buyers: set[int] = set()
    if run is not None and not bought.empty:
        recs = pd.DataFrame.from_records(
            Recommendation.objects.filter(run=run, customer_id__in=ids).values_list(
                "customer_id", "product_id"
            ),
            columns=["customer_id", "product_id"],
        )
        bought["ordered_at"] = pd.to_datetime(bought["ordered_at"], utc=True)
        b = bought.merge(contact, on="customer_id").merge(recs, on=["customer_id", "product_id"])
        hit = (b["ordered_at"] >= b["contacted_at"]) & (
            b["ordered_at"] < b["contacted_at"] + window
        )
        rec_buyers = set(b.loc[hit, "customer_id"])
    out["run_as_of"] = run.as_of.isoformat() if run is not None else None
    treated = rows["treated"].astype(bool)
    for key, buyers in (("new_item", new_buyers), ("recommended", rec_buyers)):
        flag = rows["customer_id"].isin(buyers)
        t, c = flag[treated], flag[~treated]
        up = _difference(t.astype(float), c.astype(float))
        out[key] = {
            "treatment": float(t.mean()) if len(t) else None,
            "control": float(c.mean()) if len(c) else None,
            "uplift": up,
            # for the page: percent and percentage points, one decimal
            "shown": {
                "treatment": _pct(float(t.mean()) if len(t) else None),
                "control": _pct(float(c.mean()) if len(c) else None),
                "uplift": _pct(up["estimate"]),
                "interval": f"{_pct(up['ci_low'])} … {_pct(up['ci_high'])}",
            },
        }
    return out


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}"
