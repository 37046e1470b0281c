"""Cadence: response and incremental response against how many marketing contacts a customer
had in the previous ``days`` days, and where another contact stops paying.

Every treatment or control target with a contact time is one observation; its *prior
contacts* are the messages other targets sent to the same customer in the ``days`` days
before (capped into a last bucket ``max_bucket``+). Per bucket: the response rate (a purchase
in the campaign's attribution window) of reached treatment targets and of controls, their
difference with its 95% interval (the incremental response) and the share of reached
customers who withdrew a consent in the window (unsubscribes). The suggested cap is the first
bucket whose incremental response is not above its unsubscribe share: customers who already
had that many contacts gain nothing from another (or are lost).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from django.db.models import Q

from patron.analytics.uplift import difference_of_proportions
from patron.campaigns.models import Group, Target, TargetState
from patron.campaigns.rules import PURCHASE_STATUSES
from patron.messaging.models import OutboxStatus

DAYS = 30
MAX_BUCKET = 4
MIN_GROUP = 5


def cadence_report(*, days: int = DAYS, max_bucket: int = MAX_BUCKET) -> dict[str, Any]:
    from patron.customers.models import Consent
    from patron.sales.models import Order

    reached_q = Q(state=TargetState.SENT) | Q(message__status=OutboxStatus.SENT)
    targets = _targets(reached_q)
    report: dict[str, Any] = {"days": days, "buckets": [], "suggested_cap": None}
    if targets.empty:
        return report
    sent = targets[targets["reached"]][["customer_id", "contacted_at"]]
    pairs = targets[["target", "customer_id", "contacted_at"]].merge(
        sent.rename(columns={"contacted_at": "sent_at"}), on="customer_id"
    )
    prior = pairs[
        (pairs["sent_at"] < pairs["contacted_at"])
        & (pairs["sent_at"] >= pairs["contacted_at"] - pd.Timedelta(days=days))
    ]
    counts = prior.groupby("target").size().rename("prior")
    targets = targets.join(counts, on="target")
    targets["prior"] = targets["prior"].fillna(0).astype(int).clip(upper=max_bucket)

    ids = targets["customer_id"].unique().tolist()
    orders = pd.DataFrame.from_records(
        Order.objects.filter(
            customer_id__in=ids, status__in=PURCHASE_STATUSES, amount__gt=0
        ).values_list("customer_id", "ordered_at"),
        columns=["customer_id", "at"],
    )
    stops = pd.DataFrame.from_records(
        Consent.objects.filter(customer_id__in=ids, granted=False).values_list(
            "customer_id", "recorded_at"
        ),
        columns=["customer_id", "at"],
    )
    targets["responded"] = _within(targets, orders)
    targets["unsubscribed"] = _within(targets, stops)
    treated = targets[(targets["group"] == Group.TREATMENT) & targets["reached"]]
    control = targets[targets["group"] == Group.CONTROL]
    for bucket in range(max_bucket + 1):
        t = treated[treated["prior"] == bucket]
        c = control[control["prior"] == bucket]
        entry: dict[str, Any] = {
            "prior_contacts": bucket,
            "label": f"{bucket}+" if bucket == max_bucket else str(bucket),
            "reached": len(t),
            "control": len(c),
            "response_rate": float(t["responded"].mean()) if len(t) else None,
            "control_response_rate": float(c["responded"].mean()) if len(c) else None,
            "unsubscribe_rate": float(t["unsubscribed"].mean()) if len(t) else None,
            "incremental": None,
        }
        if len(t) >= MIN_GROUP and len(c) >= MIN_GROUP:
            est = difference_of_proportions(
                int(t["responded"].sum()), len(t), int(c["responded"].sum()), len(c)
            )
            entry["incremental"] = {
                "estimate": est.estimate,
                "ci_low": est.ci_low,
                "ci_high": est.ci_high,
                "p_value": est.p_value,
            }
            if report["suggested_cap"] is None and est.estimate <= (entry["unsubscribe_rate"] or 0):
                report["suggested_cap"] = bucket
        report["buckets"].append(entry)
    return report


def _targets(reached_q: Q) -> pd.DataFrame:
    reached_ids = set(
        Target.objects.filter(reached_q, group=Group.TREATMENT).values_list("pk", flat=True)
    )
    frame = pd.DataFrame.from_records(
        Target.objects.filter(group__in=[Group.TREATMENT, Group.CONTROL])
        .exclude(contacted_at=None)
        .values_list("pk", "customer_id", "group", "contacted_at", "campaign__attribution_days"),
        columns=["target", "customer_id", "group", "contacted_at", "window"],
    )
    if frame.empty:
        return frame.assign(reached=[])
    frame["contacted_at"] = pd.to_datetime(frame["contacted_at"], utc=True)
    frame["reached"] = frame["target"].isin(reached_ids)
    return frame


def _within(targets: pd.DataFrame, events: pd.DataFrame) -> np.ndarray:
    """Whether each target's customer has an event in its attribution window."""
    if events.empty:
        return np.zeros(len(targets), dtype=bool)
    events = events.assign(at=pd.to_datetime(events["at"], utc=True))
    joined = targets[["target", "customer_id", "contacted_at", "window"]].merge(
        events, on="customer_id"
    )
    end = joined["contacted_at"] + pd.to_timedelta(joined["window"], unit="D")
    hit = joined[(joined["at"] >= joined["contacted_at"]) & (joined["at"] < end)]
    return targets["target"].isin(hit["target"].unique()).to_numpy()
