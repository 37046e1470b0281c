"""The cycle view (grade → plan → interact → analyse): for each measured campaign, the value
tiers of its treatment and control customers in the analysis run before the contact and in
the first run after the attribution window closed, as a migration matrix per group, with the
Kotler relationship level and loyalty levers of each tier (from the run before) beside what
the campaign did (goal, channel, offer)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from django.utils import timezone

from patron.analytics.migration import LOST, NEW, customer_migration
from patron.analytics.relationship import loyalty_levers, relationship_by_tier
from patron.analytics.tiers import TIER_CODES, TIERS
from patron.campaigns.models import Campaign, Group, Target

TIER_LABELS = {t.code: t.label for t in TIERS}


def _runs(contact_day: dt.date, after_day: dt.date) -> tuple[Any, Any]:
    from patron.insights.selectors import analysis_run_list

    runs = analysis_run_list()
    before = runs.filter(as_of__lte=contact_day).order_by("-as_of", "-pk").first()
    after = runs.filter(as_of__gte=after_day).order_by("as_of", "pk").first()
    return before, after


def _tiers(run: Any, customer_ids: list[int]) -> pd.DataFrame:
    from patron.insights.selectors import customer_score_list

    return pd.DataFrame.from_records(
        customer_score_list(run=run)
        .filter(customer_id__in=customer_ids)
        .values_list("customer_id", "value_tier", "margin"),
        columns=["customer_id", "tier", "margin"],
    )


def _tier_table(run: Any, levels: list[str]) -> pd.DataFrame:
    """Customers and total margin per tier over the whole run (relationship levels)."""
    from django.db.models import Count, Sum

    from patron.insights.selectors import customer_score_list

    rows = (
        customer_score_list(run=run)
        .order_by()
        .values("value_tier")
        .annotate(customers=Count("id"), margin=Sum("margin"))
    )
    found = {r["value_tier"]: r for r in rows}
    return pd.DataFrame(
        {
            "level": levels,
            "customers": [found.get(c, {}).get("customers", 0) for c in levels],
            "margin": [float(found.get(c, {}).get("margin") or 0) for c in levels],
        }
    )


def campaign_cycle(*, campaign: Campaign) -> dict[str, Any]:
    """One campaign's cycle: ``available`` False (with ``reason``) without both runs."""
    launched = campaign.launched_at or campaign.created_at
    contact_day = timezone.localtime(launched).date()
    after_day = contact_day + dt.timedelta(days=campaign.attribution_days)
    entry: dict[str, Any] = {
        "campaign": {
            "id": campaign.pk,
            "name": campaign.name,
            "goal": campaign.goal,
            "goal_label": str(campaign.get_goal_display()),
            "channel_label": str(campaign.get_channel_display()),
            "offer_label": str(campaign.get_offer_display()),
            "launched_on": contact_day.isoformat(),
        },
        "available": False,
    }
    before, after = _runs(contact_day, after_day)
    if before is None or after is None:
        entry["reason"] = "no_run_before" if before is None else "no_run_after"
        return entry
    entry.update(
        available=True,
        run_before={"id": before.pk, "as_of": before.as_of.isoformat()},
        run_after={"id": after.pk, "as_of": after.as_of.isoformat()},
        groups={},
    )
    targets = pd.DataFrame.from_records(
        Target.objects.filter(campaign=campaign, group__in=[Group.TREATMENT, Group.CONTROL])
        .values_list("customer_id", "group")
        .distinct(),
        columns=["customer_id", "group"],
    )
    ids = targets["customer_id"].unique().tolist()
    tiers_before = _tiers(before, ids)
    tiers_after = _tiers(after, ids)
    levels = list(TIER_CODES)
    for group in (Group.TREATMENT, Group.CONTROL):
        members = set(targets.loc[targets["group"] == group, "customer_id"])
        b = tiers_before[tiers_before["customer_id"].isin(members)]
        a = tiers_after[tiers_after["customer_id"].isin(members)]
        migration = customer_migration(b, a, column="tier", levels=levels)
        counts = migration.counts
        total = max(migration.upgrades + migration.downgrades + migration.same, 1)
        entry["groups"][str(group)] = {
            "customers": len(members),
            "rows": [NEW if r == NEW else r for r in counts.index],
            "columns": [LOST if c == LOST else c for c in counts.columns],
            "matrix": counts.to_numpy().astype(int).tolist(),
            "upgrades": migration.upgrades,
            "downgrades": migration.downgrades,
            "same": migration.same,
            "upgrade_share": migration.upgrades / total,
            "downgrade_share": migration.downgrades / total,
        }
    table = _tier_table(before, levels)
    relation = relationship_by_tier(table)
    entry["tiers"] = [
        {
            "tier": row["level"],
            "label": TIER_LABELS[row["level"]],
            "customers": int(row["customers"]),
            "relationship": None
            if row["relationship"] is None
            else {"code": row["relationship"], "en": row["label_en"], "zh-hans": row["label_zh"]},
            "levers": [lever.label for lever in loyalty_levers(row["level"])],
        }
        for _, row in relation.iterrows()
    ]
    return entry


def cycle_view(*, limit: int = 12) -> list[dict[str, Any]]:
    from patron.campaigns.measure import campaigns_measured

    return [campaign_cycle(campaign=c) for c in campaigns_measured()[:limit]]
