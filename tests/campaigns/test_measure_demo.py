"""The demo's past campaigns, measured from the store.

The generator gave each reached customer an extra purchase with probability 8% (spring
reactivation) and 4% (double points): the report's per-reached uplift of orders must cover
those within its 95% interval. The counts are checked against the campaign page's own SQL
(campaigns.selectors.campaign_results), the interval against statsmodels; the CLI, the page,
the Excel export, cadence and the cycle view read the same history.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from statsmodels.stats.proportion import confint_proportions_2indep
from typer.testing import CliRunner

from patron.campaigns.cadence import cadence_report
from patron.campaigns.cycle import cycle_view
from patron.campaigns.holdout import holdout_report
from patron.campaigns.measure import campaign_report
from patron.campaigns.models import Campaign, Group, Target, TargetState
from patron.campaigns.selectors import campaign_results
from patron.cli.app import app
from patron.demo.loader import demo_load
from patron.insights.models import CustomerScore

# Sequences reset: customers get the same primary keys on SQLite and PostgreSQL, so the stable
# hash puts them in the same groups and both back ends measure the same seeded draw.
pytestmark = [pytest.mark.django_db(transaction=True, reset_sequences=True), pytest.mark.slow]


def test_demo_campaigns_report_recovers_the_true_uplift(make_user: Any) -> None:
    state = demo_load(customers=1200, seed=5)
    truth = state["campaigns"]
    assert len(truth) == 2 and len(state["runs"]) == 2
    reports = {}
    for name, known in truth.items():
        campaign = Campaign.objects.get(pk=known["campaign_id"])
        report = campaign_report(campaign=campaign)
        reports[name] = report
        assert report["available"]
        # the truth: an extra order per reached customer with probability `uplift`
        orders = report["per_reached"]["orders_per_customer"]
        assert orders["ci_low"] <= known["uplift"] <= orders["ci_high"], (name, orders)
        extra = report["incremental"]["orders"]
        assert extra["ci_low"] <= known["extra_orders"] <= extra["ci_high"]
        # counts against the page's SQL, the interval against statsmodels
        sql = campaign_results(campaign=campaign)
        t, c = report["treatment"], report["control"]
        assert (t["customers"], t["responders"]) == (
            sql["treatment"].customers,
            sql["treatment"].buyers,
        )
        assert (c["customers"], c["responders"]) == (
            sql["control"].customers,
            sql["control"].buyers,
        )
        assert t["revenue"] == pytest.approx(float(sql["treatment"].revenue))
        low, high = confint_proportions_2indep(
            t["responders"], t["customers"], c["responders"], c["customers"],
            method="wald", compare="diff",
        )  # fmt: skip
        rate = report["uplift"]["response_rate"]
        assert (rate["ci_low"], rate["ci_high"]) == pytest.approx((low, high))
        # the sentence says when the effect cannot be told from zero
        unclear = rate["ci_low"] <= 0 <= rate["ci_high"]
        assert ("not distinguishable from zero" in report["summary"]["en"]) == unclear
        assert ("与零无法区分" in report["summary"]["zh-hans"]) == unclear
        # breakdowns cover every treated customer once
        assert sum(r["treatment"] for r in report["by_tier"]) == t["customers"]
        assert sum(r["control"] for r in report["by_segment"]) == c["customers"]
        assert report["cost"] == pytest.approx(
            0.05 * t["reached"] + 5.0 * report["costs"]["redeemed"]
        )

    spring = Campaign.objects.get(pk=truth["春季唤醒 Spring reactivation"]["campaign_id"])
    # the CLI prints the same report
    result = CliRunner().invoke(app, ["campaigns", "report", str(spring.pk), "--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    for key, value in reports[spring.name]["uplift"].items():
        assert printed["uplift"][key] == pytest.approx(value)
    assert CliRunner().invoke(app, ["campaigns", "report", "999999"]).exit_code == 1
    said = CliRunner().invoke(app, ["campaigns", "report", str(spring.pk)])
    assert said.exit_code == 0 and "ROI" in said.stdout and "percentage points" in said.stdout

    # the page, in both languages, and the exports (a formula-like name is neutralised)
    Campaign.objects.filter(pk=spring.pk).update(name='=HYPERLINK("x")')
    client = Client()
    client.force_login(make_user("ada", "admin"))
    page = client.get(f"/campaigns/{spring.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="uplift-chart"' in page and "<svg" in page and "ROI" in page
    zh = client.get(f"/campaigns/{spring.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert reports[spring.name]["summary"]["zh-hans"][:12] in zh
    from openpyxl import load_workbook

    xlsx = client.get(f"/campaigns/{spring.pk}/report.xlsx", HTTP_ACCEPT_LANGUAGE="en")
    sheet = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).active
    cells = [c for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert '=HYPERLINK("x")' in cells  # a text cell, not a formula (tests/core has the rest)
    html = client.get(f"/campaigns/{spring.pk}/report.html").content.decode()
    assert "&#x27;=HYPERLINK" in html or "'=HYPERLINK" in html
    assert client.get(f"/campaigns/{spring.pk}/report.csv").status_code == 404

    # cadence: the double-points campaign reached, 30 days later, customers the spring one had
    cadence = cadence_report(days=31)
    reached = Target.objects.filter(group=Group.TREATMENT, state=TargetState.SENT)
    assert sum(b["reached"] for b in cadence["buckets"]) == reached.count()
    spring_ids = set(reached.filter(campaign=spring).values_list("customer_id", flat=True))
    points = reached.exclude(campaign=spring).values_list("customer_id", flat=True)
    assert cadence["buckets"][1]["reached"] == len(spring_ids & set(points))
    assert client.get("/campaigns/cadence/?days=31").status_code == 200

    # the cycle: runs 90 days before the last day and on it bracket both campaigns
    cycles = cycle_view()
    assert [c["available"] for c in cycles] == [True, True]
    for entry in cycles:
        for key, group in entry["groups"].items():
            members = set(
                Target.objects.filter(campaign_id=entry["campaign"]["id"], group=key).values_list(
                    "customer_id", flat=True
                )
            )
            tiers = {}
            for which in ("run_before", "run_after"):
                tiers[which] = dict(
                    CustomerScore.objects.filter(
                        run_id=entry[which]["id"], customer_id__in=members
                    ).values_list("customer_id", "value_tier")
                )
            expected: Counter[tuple[str, str]] = Counter(
                (tiers["run_before"].get(c, "(new)"), tiers["run_after"].get(c, "(lost)"))
                for c in members
                if c in tiers["run_before"] or c in tiers["run_after"]
            )
            shown = Counter(
                {
                    (row, column): n
                    for row, cells in zip(group["rows"], group["matrix"], strict=True)
                    for column, n in zip(group["columns"], cells, strict=True)
                    if n
                }
            )
            assert shown == expected
            assert group["upgrades"] + group["downgrades"] + group["same"] > 0
        assert {t["tier"] for t in entry["tiers"]} == {
            "very_high",
            "high",
            "moderate",
            "low",
            "very_low",
        }
    cycle_page = client.get("/campaigns/cycle/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "关系" in cycle_page and "对照组" in cycle_page

    # the global holdout: none in the demo; then customers held out of the spring campaign
    assert all(m["holdout"] == 0 for m in holdout_report()["months"])
    outside = list(_customers_without_targets(spring)[:200])
    Target.objects.bulk_create(
        Target(campaign=spring, customer_id=pk, group=Group.HOLDOUT, state=TargetState.SKIPPED,
               reason="holdout")
        for pk in outside
    )  # fmt: skip
    months = holdout_report()["months"]
    month = timezone.localtime(spring.launched_at).strftime("%Y-%m")
    entry = next(m for m in months if m["month"] == month)
    assert entry["holdout"] == len(outside)
    marketed = {
        t.customer_id
        for t in reached.select_related("campaign")
        if timezone.localtime(t.campaign.launched_at).strftime("%Y-%m") == month
    }
    assert entry["marketed"] == len(marketed)
    assert client.get("/campaigns/holdout/?format=json").json()["months"]


def _customers_without_targets(campaign: Campaign) -> Any:
    from patron.customers.models import Customer

    return (
        Customer.objects.exclude(targets__campaign=campaign)
        .exclude(targets__group=Group.TREATMENT)
        .values_list("pk", flat=True)
    )
