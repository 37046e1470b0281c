"""What a campaign changed, from the store: one row per target, evaluated by
:func:`patron.analytics.uplift.campaign_uplift`, overall and by value tier and RFM segment.

Rows
----
Every target of the campaign in the treatment or control group (the global holdout is not
the campaign's control; it has its own report, :mod:`patron.campaigns.holdout`). Each row is
measured from its contact time (``contacted_at``, else the launch time):

- pre-period: spend in the ``pre_days`` days before (CUPED's covariate);
- outcome: orders, revenue and margin in the ``attribution_days`` after. Margin is what an
  analysis run computes: amount less the order's cost, or the amount times the default margin
  rate of the analysis settings when the cost is unknown (else the margin rate of the costed
  orders in the window), less the cost to serve per order.
- reached: a treatment target whose message was sent (controls never are).

Costs: messages sent times the campaign's cost per message, redeemed offers times its cost
per redemption, and points granted at their liability value when the loyalty app is there.
Tier and segment come from the latest completed analysis run as of the contact day.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
from django.apps import apps
from django.db.models import Q

from patron.analytics.segments import SEGMENTS
from patron.analytics.tiers import TIERS
from patron.analytics.uplift import CampaignCosts, UpliftResult, campaign_uplift
from patron.campaigns.models import Campaign, Group, Target, TargetState
from patron.campaigns.rules import PURCHASE_STATUSES
from patron.messaging.models import OutboxStatus

PRE_DAYS = 90
MIN_GROUP = 2  # a breakdown row needs at least this many customers in each group

TIER_LABELS = {t.code: t.label for t in TIERS}
SEGMENT_LABELS = {s.code: s.label for s in SEGMENTS}
NO_LEVEL = {"en": "Not in an analysis run", "zh-hans": "不在分析结果中"}


def measurement_rows(*, campaign: Campaign, pre_days: int = PRE_DAYS) -> pd.DataFrame:
    """One row per treatment or control target (see the module)."""
    from patron.insights.selectors import analysis_settings_get
    from patron.sales.models import Order

    targets = pd.DataFrame.from_records(
        Target.objects.filter(campaign=campaign, group__in=[Group.TREATMENT, Group.CONTROL])
        .order_by("pk")
        .values_list(
            "pk",
            "customer_id",
            "group",
            "state",
            "message__status",
            "contacted_at",
            "coupon_redeemed_at",
            "points_granted",
        ),
        columns=[
            "target",
            "customer_id",
            "group",
            "state",
            "message_status",
            "contacted_at",
            "redeemed_at",
            "points_granted",
        ],
    )
    columns = ["pre_spend", "spend", "orders", "margin"]
    if targets.empty:
        return targets.assign(**{c: [] for c in [*columns, "treated", "reached"]})
    fallback = campaign.launched_at or campaign.created_at
    targets["contacted_at"] = pd.to_datetime(targets["contacted_at"].fillna(fallback), utc=True)
    targets["treated"] = targets["group"] == Group.TREATMENT
    targets["reached"] = targets["treated"] & (
        (targets["state"] == TargetState.SENT) | (targets["message_status"] == OutboxStatus.SENT)
    )
    window = pd.Timedelta(days=campaign.attribution_days)
    pre = pd.Timedelta(days=pre_days)
    start = targets["contacted_at"].min() - pre
    end = targets["contacted_at"].max() + window
    orders = pd.DataFrame.from_records(
        Order.objects.filter(
            customer_id__in=targets["customer_id"].unique().tolist(),
            status__in=PURCHASE_STATUSES,
            amount__gt=0,
            ordered_at__gte=start.to_pydatetime(),
            ordered_at__lt=end.to_pydatetime(),
        ).values_list("customer_id", "ordered_at", "amount", "cost"),
        columns=["customer_id", "ordered_at", "amount", "cost"],
    )
    if orders.empty:
        for column in columns:
            targets[column] = 0.0
        return targets
    orders["ordered_at"] = pd.to_datetime(orders["ordered_at"], utc=True)
    orders["amount"] = orders["amount"].astype(float)
    orders["cost"] = [np.nan if v is None else float(v) for v in orders["cost"]]
    joined = targets[["target", "customer_id", "contacted_at"]].merge(orders, on="customer_id")
    after = (joined["ordered_at"] >= joined["contacted_at"]) & (
        joined["ordered_at"] < joined["contacted_at"] + window
    )
    before = (joined["ordered_at"] < joined["contacted_at"]) & (
        joined["ordered_at"] >= joined["contacted_at"] - pre
    )
    profit = analysis_settings_get().profit
    outcome = joined[after].copy()
    known = outcome["cost"].notna()
    rate = profit.default_margin_rate
    if rate is None:
        costed = outcome.loc[known, "amount"].sum()
        rate = float((costed - outcome.loc[known, "cost"].sum()) / costed) if costed else 0.0
    outcome["margin"] = np.where(
        known, outcome["amount"] - outcome["cost"], outcome["amount"] * rate
    ) - float(profit.per_order)
    per_target = outcome.groupby("target").agg(
        spend=("amount", "sum"), orders=("amount", "size"), margin=("margin", "sum")
    )
    pre_spend = joined[before].groupby("target")["amount"].sum().rename("pre_spend")
    targets = targets.join(per_target, on="target").join(pre_spend, on="target")
    for column in columns:
        targets[column] = targets[column].fillna(0.0).astype(float)
    return targets


def _levels(rows: pd.DataFrame) -> pd.DataFrame:
    """Value tier and RFM segment of each row's customer in the run before its contact."""
    from patron.insights.selectors import analysis_run_list, customer_score_list

    contact_day = rows["contacted_at"].min().date() if len(rows) else dt.date.today()
    run = analysis_run_list().filter(as_of__lte=contact_day).order_by("-as_of", "-pk").first()
    if run is None:
        return rows.assign(tier=None, segment=None)
    scores = pd.DataFrame.from_records(
        customer_score_list(run=run)
        .filter(customer_id__in=rows["customer_id"].unique().tolist())
        .values_list("customer_id", "value_tier", "segment"),
        columns=["customer_id", "tier", "segment"],
    )
    return rows.merge(scores, on="customer_id", how="left")


def points_liability(*, campaign: Campaign, granted: int) -> float | None:
    """Points the campaign granted at their liability value (the loyalty programme's cost per
    point), when the loyalty app is installed; None when it is not.

    The points are the ledger's earnings with the campaign's source prefix
    (``campaign:<id>:``); without ledger rows, the offer's points times the grants."""
    if not granted and not campaign.offer_points:
        return 0.0
    if not apps.is_installed("patron.loyalty"):
        return None if granted else 0.0
    from django.db.models import Sum

    programme = apps.get_model("loyalty", "Programme").objects.order_by("pk").first()
    if programme is None:
        return None
    ledger = apps.get_model("loyalty", "LedgerEntry")
    points = ledger.objects.filter(
        kind="earn", source__startswith=f"campaign:{campaign.pk}:"
    ).aggregate(n=Sum("points"))["n"]
    if points is None:
        points = campaign.offer_points * granted
    return float(points) * float(programme.cost_per_point)


def _costs(campaign: Campaign, rows: pd.DataFrame) -> tuple[CampaignCosts, dict[str, Any]]:
    treated = rows[rows["treated"]]
    sent = int(treated["reached"].sum())
    redeemed = int(treated["redeemed_at"].notna().sum())
    granted = int(treated["points_granted"].sum())
    points = points_liability(campaign=campaign, granted=granted)
    messages = float(campaign.cost_per_message) * sent
    offers = float(campaign.cost_per_redemption) * redeemed
    detail = {
        "messages": round(messages, 2),
        "redeemed_offers": round(offers, 2),
        "points": None if points is None else round(points, 2),
        "points_granted": granted,
        "sent": sent,
        "redeemed": redeemed,
    }
    return CampaignCosts(fixed=messages + offers + (points or 0.0)), detail


def _estimate(result: UpliftResult, key: str) -> dict[str, Any]:
    return result.as_dict()["uplift"][key]


def _breakdown(rows: pd.DataFrame, column: str, labels: dict[str, dict[str, str]]) -> list[Any]:
    out = []
    order = [*labels, None]
    for code in order:
        part = rows[rows[column].isna()] if code is None else rows[rows[column] == code]
        n_t, n_c = int(part["treated"].sum()), int((~part["treated"]).sum())
        if n_t == 0 and n_c == 0:
            continue
        row: dict[str, Any] = {
            "code": code,
            "label": labels.get(code, NO_LEVEL) if code else NO_LEVEL,
            "treatment": n_t,
            "control": n_c,
        }
        if n_t >= MIN_GROUP and n_c >= MIN_GROUP:
            result = _uplift(part)
            data = result.as_dict()
            row["response_rate"] = {
                "treatment": data["treatment"]["response_rate"],
                "control": data["control"]["response_rate"],
            }
            row["uplift"] = {
                k: data["uplift"][k] for k in ("response_rate", "revenue_per_customer")
            }
            row["incremental_revenue"] = data["incremental"]["revenue"]["estimate"]
        out.append(row)
    return out


def _uplift(
    rows: pd.DataFrame, *, costs: CampaignCosts | None = None, share: float | None = None
) -> UpliftResult:
    return campaign_uplift(
        treated=rows["treated"].to_numpy(),
        outcome_spend=rows["spend"].to_numpy(),
        outcome_orders=rows["orders"].to_numpy(),
        outcome_margin=rows["margin"].to_numpy(),
        reached=rows["reached"].to_numpy(),
        pre_spend=rows["pre_spend"].to_numpy(),
        control_share=share,
        costs=costs,
    )


def campaign_report(*, campaign: Campaign, pre_days: int = PRE_DAYS) -> dict[str, Any]:
    """The campaign's measurement as plain JSON-ready values (see :func:`report_api`).

    ``available`` is False (with ``reason``) when there is no treatment or no control yet."""
    from patron.campaigns.selectors import campaign_account

    account = campaign_account(campaign=campaign)
    report: dict[str, Any] = {
        "campaign": {
            "id": campaign.pk,
            "name": campaign.name,
            "goal": campaign.goal,
            "channel": campaign.channel,
            "launched_at": campaign.launched_at.isoformat() if campaign.launched_at else None,
            "attribution_days": campaign.attribution_days,
            "control_share": campaign.control_share,
        },
        "account": account.api(),
        "pre_days": pre_days,
    }
    rows = measurement_rows(campaign=campaign, pre_days=pre_days)
    n_t = int(rows["treated"].sum()) if len(rows) else 0
    n_c = len(rows) - n_t
    if n_t < MIN_GROUP or n_c < MIN_GROUP:
        report.update(
            available=False,
            reason="no_control" if n_c < MIN_GROUP else "no_treatment",
        )
        return report
    costs, cost_detail = _costs(campaign, rows)
    share = campaign.control_share if 0 < campaign.control_share < 1 else None
    result = _uplift(rows, costs=costs, share=share)
    rows = _levels(rows)
    data = result.as_dict()
    report.update(
        available=True,
        treatment=data["treatment"],
        control=data["control"],
        uplift=data["uplift"],
        per_reached=data["per_reached"],
        reach=data["reach"],
        cuped=data["cuped"],
        cuped_variance_reduction=data["cuped_variance_reduction"],
        srm_p_value=data["srm_p_value"],
        incremental=data["incremental"],
        cost=round(result.cost, 2),
        costs=cost_detail,
        roi=data["roi"],
        notes=data["notes"]
        + (
            ["points: not costed, the loyalty app is not installed"]
            if cost_detail["points"] is None
            else []
        ),
        conversion={
            "treatment": _rate(rows, True),
            "control": _rate(rows, False),
        },
        by_tier=_breakdown(rows, "tier", TIER_LABELS),
        by_segment=_breakdown(rows, "segment", SEGMENT_LABELS),
    )
    # --- recommend (issue 21): a cross-sell campaign also reports new-item buyers ---
    if campaign.goal == "cross_sell":
        from patron.recommend.measure import cross_sell_outcome

        report["cross_sell"] = cross_sell_outcome(rows=rows, window_days=campaign.attribution_days)
    # --- end recommend ---
    report["summary"] = {lang: summary_sentence(report, lang) for lang in ("en", "zh-hans")}
    return report


def _rate(rows: pd.DataFrame, treated: bool) -> float | None:
    """Conversion: redeemed an offer (coupon) per customer of the group."""
    part = rows[rows["treated"] == treated]
    return float(part["redeemed_at"].notna().mean()) if len(part) else None


def summary_sentence(report: dict[str, Any], lang: str) -> str:
    """The result in one plain sentence, saying when it cannot be told apart from zero."""
    rate = report["uplift"]["response_rate"]
    revenue = report["uplift"]["revenue_per_customer"]
    points = 100 * (rate["estimate"] or 0.0)
    low, high = 100 * (rate["ci_low"] or 0.0), 100 * (rate["ci_high"] or 0.0)
    significant = (rate["ci_low"] or 0) > 0 or (rate["ci_high"] or 0) < 0
    money = revenue["estimate"] or 0.0
    money_low, money_high = revenue["ci_low"] or 0.0, revenue["ci_high"] or 0.0
    if lang == "en":
        if significant:
            direction = "raised" if points > 0 else "lowered"
            return (
                f"The campaign {direction} the response rate by {abs(points):.1f} percentage "
                f"points (95% interval {low:.1f} to {high:.1f}) against the control group; "
                f"revenue per targeted customer changed by {money:,.2f} "
                f"(95% interval {money_low:,.2f} to {money_high:,.2f})."
            )
        return (
            f"The difference in response rate ({points:+.1f} percentage points, 95% interval "
            f"{low:.1f} to {high:.1f}) is not distinguishable from zero: this campaign cannot "
            "be shown to have changed what customers did."
        )
    if significant:
        direction = "提高" if points > 0 else "降低"
        return (
            f"与对照组相比，本次活动使响应率{direction}了 {abs(points):.1f} 个百分点"
            f"（95% 区间 {low:.1f} 至 {high:.1f}），每位目标客户的收入变化 {money:,.2f}"
            f"（95% 区间 {money_low:,.2f} 至 {money_high:,.2f}）。"
        )
    return (
        f"响应率差异（{points:+.1f} 个百分点，95% 区间 {low:.1f} 至 {high:.1f}）"
        "与零无法区分：无法证明本次活动改变了客户的行为。"
    )


def campaigns_measured() -> list[Campaign]:
    """Campaigns with a control group, newest first (for the cycle and holdout views)."""
    return list(
        Campaign.objects.filter(targets__group=Group.CONTROL)
        .filter(~Q(launched_at=None))
        .distinct()
        .order_by("-launched_at", "-pk")
    )
