"""All marketing together against the global holdout, by month.

Each month with campaign targets: *marketed* customers are those a campaign reached that month;
the *holdout* are customers of that month's audiences kept out of all marketing by the global
holdout (targets in group ``holdout``), and reached by nothing that month. The holdout is
chosen by a stable hash of the customer, independent of the month, so the month's purchases
of the two groups compare like with like. Outcome: orders, revenue and buying in that
calendar month (the business time zone's).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from django.db.models import Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from patron.analytics.uplift import campaign_uplift
from patron.campaigns.models import Group, Target, TargetState
from patron.campaigns.rules import PURCHASE_STATUSES
from patron.messaging.models import OutboxStatus

MIN_GROUP = 2


def holdout_report() -> dict[str, Any]:
    """``{"months": [{"month", "marketed", "holdout", "response_rate": {treatment, control},
    "uplift": {...}, "incremental_revenue"}], "holdout_customers"}``."""
    from patron.sales.models import Order

    reached = Q(state=TargetState.SENT) | Q(message__status=OutboxStatus.SENT)
    rows = pd.DataFrame.from_records(
        Target.objects.filter(Q(group=Group.HOLDOUT) | (Q(group=Group.TREATMENT) & reached))
        .annotate(month=TruncMonth("campaign__launched_at"))
        .exclude(month=None)
        .values_list("customer_id", "group", "month")
        .distinct(),
        columns=["customer_id", "group", "month"],
    )
    report: dict[str, Any] = {"months": [], "holdout_customers": 0}
    if rows.empty:
        return report
    zone = timezone.get_current_timezone_name()
    rows["month"] = pd.to_datetime(rows["month"], utc=True).dt.tz_convert(zone).dt.strftime("%Y-%m")
    report["holdout_customers"] = int(
        rows.loc[rows["group"] == Group.HOLDOUT, "customer_id"].nunique()
    )
    marketed = rows[rows["group"] == Group.TREATMENT][["customer_id", "month"]].drop_duplicates()
    held = rows[rows["group"] == Group.HOLDOUT][["customer_id", "month"]].drop_duplicates()
    held = held.merge(marketed, how="left", indicator=True)
    held = held[held["_merge"] == "left_only"].drop(columns="_merge")
    panel = pd.concat([marketed.assign(treated=True), held.assign(treated=False)])
    orders = pd.DataFrame.from_records(
        Order.objects.filter(
            customer_id__in=panel["customer_id"].unique().tolist(),
            status__in=PURCHASE_STATUSES,
            amount__gt=0,
        ).values_list("customer_id", "ordered_on", "amount"),
        columns=["customer_id", "ordered_on", "amount"],
    )
    if orders.empty:
        orders = pd.DataFrame({"customer_id": [], "month": [], "spend": [], "orders": []})
    else:
        orders["month"] = pd.to_datetime(orders["ordered_on"]).dt.strftime("%Y-%m")
        orders["amount"] = orders["amount"].astype(float)
        orders = (
            orders.groupby(["customer_id", "month"])
            .agg(spend=("amount", "sum"), orders=("amount", "size"))
            .reset_index()
        )
    panel = panel.merge(orders, on=["customer_id", "month"], how="left").fillna(
        {"spend": 0.0, "orders": 0.0}
    )
    for month, part in panel.groupby("month", sort=True):
        n_t = int(part["treated"].sum())
        n_c = len(part) - n_t
        entry: dict[str, Any] = {"month": month, "marketed": n_t, "holdout": n_c}
        if n_t >= MIN_GROUP and n_c >= MIN_GROUP:
            data = campaign_uplift(
                treated=part["treated"].to_numpy(),
                outcome_spend=part["spend"].to_numpy(float),
                outcome_orders=part["orders"].to_numpy(float),
            ).as_dict()
            entry["response_rate"] = {
                "treatment": data["treatment"]["response_rate"],
                "control": data["control"]["response_rate"],
            }
            entry["uplift"] = {
                k: data["uplift"][k] for k in ("response_rate", "revenue_per_customer")
            }
            entry["incremental_revenue"] = data["incremental"]["revenue"]
        report["months"].append(entry)
    return report
