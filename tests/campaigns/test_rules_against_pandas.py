"""Segment rules evaluated in the database equal an independent pandas filter, row by row, on
the demo business (300 customers, their orders and consents, plus an analysis run of seeded
scores) for 30 random rule trees (hypothesis), on SQLite and on PostgreSQL; and bad rules are
refused with the valid fields or operators named."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patron.campaigns.errors import CampaignError
from patron.campaigns.rules import segment_count, segment_queryset
from patron.customers.models import Consent, Customer
from patron.insights.models import AnalysisRun, CustomerScore, RunStatus
from patron.sales.models import Order, OrderLine

pytestmark = pytest.mark.django_db

TIERS = ["very_high", "high", "moderate", "low", "very_low"]
PROFIT_GROUPS = ["high", "medium", "low", "no_profit"]
MEMBER_TIERS = ["silver", "gold", "platinum"]
RISKS = ["high", "medium", "low"]
SEGMENTS = ["champions", "loyal", "at_risk", "hibernating", "new"]


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any) -> Iterator[dict[str, Any]]:
    """The demo business and a completed run with seeded scores (some customers unscored,
    some without a P(alive)), loaded once for the module; frames of it for pandas."""
    from patron.demo.loader import demo_load

    with django_db_blocker.unblock():
        demo_load(customers=300, seed=11, runs=False)
        rng = np.random.default_rng(5)
        run = AnalysisRun.objects.create(
            as_of=dt.date(2024, 1, 1), code_version="t", status=RunStatus.COMPLETED
        )
        ids = list(Customer.objects.values_list("pk", flat=True))
        scores = []
        for pk in ids:
            if rng.random() < 0.1:
                continue  # not scored in this run
            scores.append(
                CustomerScore(
                    run=run,
                    customer_id=pk,
                    recency_days=int(rng.integers(0, 400)),
                    frequency=int(rng.integers(1, 30)),
                    monetary=Decimal(int(rng.integers(10, 5000))),
                    r_score=int(rng.integers(1, 6)),
                    f_score=int(rng.integers(1, 6)),
                    m_score=int(rng.integers(1, 6)),
                    segment=str(rng.choice(SEGMENTS)),
                    value_tier=str(rng.choice(TIERS)),
                    revenue=Decimal(100),
                    cost_to_serve=Decimal(0),
                    clv=None if rng.random() < 0.2 else Decimal(int(rng.integers(0, 3000))),
                    p_alive=None if rng.random() < 0.2 else float(rng.random()),
                    risk_level=None if rng.random() < 0.2 else str(rng.choice(RISKS)),
                    profit_group=None if rng.random() < 0.1 else str(rng.choice(PROFIT_GROUPS)),
                )
            )
        CustomerScore.objects.bulk_create(scores)
        today = Order.objects.order_by("-ordered_on").values_list("ordered_on", flat=True)[0]
        today += dt.timedelta(days=30)
        members, ledger = _members(rng, ids, today)
        customers = pd.DataFrame.from_records(
            Customer.objects.values(
                "pk",
                "region",
                "city",
                "gender",
                "occupation",
                "acquisition_channel",
                "acquired_on",
                "tags",
            )
        ).set_index("pk")
        score = pd.DataFrame.from_records(
            CustomerScore.objects.filter(run=run).values(
                "customer_id",
                "segment",
                "value_tier",
                "risk_level",
                "r_score",
                "f_score",
                "m_score",
                "clv",
                "p_alive",
                "frequency",
                "monetary",
                "profit_group",
            )
        ).set_index("customer_id")
        orders = pd.DataFrame.from_records(
            Order.objects.values("pk", "customer_id", "ordered_on", "status", "amount")
        )
        lines = pd.DataFrame.from_records(OrderLine.objects.values("order_id", "product__category"))
        consents = pd.DataFrame.from_records(
            Consent.objects.filter(granted=True).values("customer_id", "channel")
        )
    yield {
        "customers": customers,
        "scores": score,
        "orders": orders,
        "lines": lines,
        "consents": consents,
        "today": today,
        "members": members,
        "ledger": ledger,
    }
    with django_db_blocker.unblock():
        _remove_demo()


def _members(
    rng: np.random.Generator, ids: list[int], today: dt.date
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Members for half the customers (some without a tier) and ledger lines for most of
    them: earned, spent, pending, not yet available or available before ``today``."""
    from patron.loyalty.models import EntryKind, LedgerEntry, Member, Tier
    from patron.loyalty.services import programme_get

    programme = programme_get()
    tiers = {
        code: Tier.objects.get_or_create(
            programme=programme, code=code, defaults={"name_en": code, "name_zh": code, "rank": i}
        )[0]
        for i, code in enumerate(MEMBER_TIERS, start=1)
    }
    now = timezone.now()
    members = []
    for i, pk in enumerate(ids):
        if rng.random() < 0.5:
            continue
        tier = None if rng.random() < 0.2 else tiers[str(rng.choice(MEMBER_TIERS))]
        members.append(
            Member(
                customer_id=pk,
                card_number=f"9{i:011d}",
                referral_code=f"R{i:07d}",
                tier=tier,
                enrolled_at=now,
            )
        )
    Member.objects.bulk_create(members)
    entries = []
    for member in Member.objects.all():
        for j in range(int(rng.integers(0, 4))):
            points = int(rng.integers(-200, 1500)) or 1
            available = None
            if rng.random() < 0.3:
                available = today + dt.timedelta(days=int(rng.integers(-20, 20)))
            entries.append(
                LedgerEntry(
                    member=member,
                    kind=EntryKind.EARN if points > 0 else EntryKind.SPEND,
                    points=points,
                    pending=bool(rng.random() < 0.15),
                    source=f"t:{member.pk}:{j}",
                    effective_on=today - dt.timedelta(days=40),
                    available_on=available,
                    created_at=now,
                )
            )
    LedgerEntry.objects.bulk_create(entries)
    frame = pd.DataFrame.from_records(
        Member.objects.values("pk", "customer_id", "tier__code")
    ).set_index("customer_id")
    ledger = pd.DataFrame.from_records(
        LedgerEntry.objects.values("member_id", "points", "pending", "available_on"),
        columns=["member_id", "points", "pending", "available_on"],
    )
    return frame, ledger


def _remove_demo() -> None:
    """Written outside the tests' transactions for the module: removed after it, so later
    tests start from an empty store."""
    from django.contrib.auth import get_user_model

    from patron.campaigns.models import Campaign, Segment
    from patron.core.models import SystemSetting
    from patron.customers.models import Interaction
    from patron.loyalty.models import LedgerEntry, Member, Tier
    from patron.sales.models import Product

    LedgerEntry.objects.all().delete()
    Member.objects.all().delete()
    Tier.objects.all().delete()
    Campaign.objects.all().delete()
    Segment.objects.all().delete()
    AnalysisRun.objects.all().delete()
    OrderLine.objects.all().delete()
    Order.objects.filter(original_order__isnull=False).delete()
    Order.objects.all().delete()
    for model in (Interaction, Consent, Customer, Product):
        model.objects.all().delete()
    SystemSetting.objects.filter(key="demo").delete()
    get_user_model().objects.filter(username="demo").delete()


# --- the independent reference -------------------------------------------------------------


def _purchases(demo: Any) -> pd.DataFrame:
    o = demo["orders"]
    return o[o["status"].isin(["completed", "open", "refunded"]) & (o["amount"] > 0)]


def _compare(series: pd.Series, op: str, value: Any) -> pd.Series:
    present = series.notna()
    if op == "=":
        return present & (series == value)
    if op == "!=":
        return present & (series != value)
    if op == "in":
        return present & series.isin(value)
    if op == "not_in":
        return present & ~series.isin(value)
    if op == "between":
        return present & (series >= value[0]) & (series <= value[1])
    result = {
        ">": series > value,
        ">=": series >= value,
        "<": series < value,
        "<=": series <= value,
    }[op]
    return present & result.fillna(False).astype(bool)


def reference(node: dict[str, Any], demo: Any) -> pd.Series:
    index = demo["customers"].index
    if "all" in node:
        result = pd.Series(True, index=index)
        for child in node["all"]:
            result &= reference(child, demo)
        return result
    if "any" in node:
        result = pd.Series(False, index=index)
        for child in node["any"]:
            result |= reference(child, demo)
        return result
    if "not" in node:
        return ~reference(node["not"], demo)
    field, op, value = node["field"], node["op"], node["value"]
    customers = demo["customers"]
    score_columns = {
        "rfm_segment": "segment",
        "value_tier": "value_tier",
        "churn_risk": "risk_level",
        "r_score": "r_score",
        "clv": "clv",
        "p_alive": "p_alive",
        "profit_group": "profit_group",
    }
    if field in ("region", "gender", "acquisition_channel"):
        series = customers[field].astype(object)
    elif field == "acquired_on":
        series = customers[field]
        value = (
            [dt.date.fromisoformat(v) for v in value]
            if isinstance(value, list)
            else (dt.date.fromisoformat(value))
        )
    elif field == "tags":
        has = customers["tags"].map(lambda tags: value in tags)
        return has if op == "contains" else ~has
    elif field in score_columns:
        series = demo["scores"][score_columns[field]].reindex(index)
        if field == "clv":
            series = series.astype(float)
    elif field == "days_since_last_purchase":
        last = _purchases(demo).groupby("customer_id")["ordered_on"].max().reindex(index)
        series = last.map(lambda d: (demo["today"] - d).days if pd.notna(d) else np.nan)
    elif field == "orders":
        series = _purchases(demo).groupby("customer_id").size().reindex(index).fillna(0)
    elif field == "spend":
        spend = _purchases(demo).groupby("customer_id")["amount"].sum()
        series = spend.astype(float).reindex(index).fillna(0.0)
    elif field == "loyalty_tier":
        series = demo["members"]["tier__code"].reindex(index)
    elif field == "loyalty_points":
        ledger = demo["ledger"]
        available = ledger["available_on"].map(lambda d: d is None or d <= demo["today"])
        spendable = ledger[~ledger["pending"].astype(bool) & available.astype(bool)]
        points = spendable.groupby("member_id")["points"].sum()
        members = demo["members"]
        series = members["pk"].map(points).fillna(0).reindex(index)
    elif field == "category":
        bought = _purchases(demo).merge(demo["lines"], left_on="pk", right_on="order_id")
        buyers = set(bought.loc[bought["product__category"].isin(value), "customer_id"])
        has = pd.Series(index.isin(list(buyers)), index=index)
        return has if op == "in" else ~has
    elif field.startswith("consent_"):
        channel = field.split("_", 1)[1]
        consents = demo["consents"]
        holders = set(consents.loc[consents["channel"] == channel, "customer_id"])
        has = pd.Series(index.isin(list(holders)), index=index)
        return has if value else ~has
    else:
        raise AssertionError(field)
    return _compare(series, op, value).astype(bool)


# --- random rule trees drawn from the data's own values ------------------------------------

NUMBER_OPS = ["=", "!=", ">", ">=", "<", "<=", "between"]
STRING_OPS = ["=", "!=", "in", "not_in"]


def leaves(demo: Any) -> st.SearchStrategy[dict[str, Any]]:
    customers = demo["customers"]
    regions = sorted(set(customers["region"])) or ["x"]
    channels = sorted(set(customers["acquisition_channel"])) or ["x"]
    tags = sorted({t for ts in customers["tags"] for t in ts}) or ["vip"]
    categories = sorted(set(demo["lines"]["product__category"].dropna())) or ["x"]
    dates = sorted(d.isoformat() for d in customers["acquired_on"].dropna()) or ["2023-01-01"]

    def strings(field: str, values: list[str]) -> st.SearchStrategy[dict[str, Any]]:
        return st.sampled_from(STRING_OPS).flatmap(
            lambda op: (
                st.lists(st.sampled_from(values), min_size=1, max_size=3, unique=True)
                if op in ("in", "not_in")
                else st.sampled_from(values)
            ).map(lambda v: {"field": field, "op": op, "value": v})
        )

    def numbers(field: str, low: float, high: float, ints: bool = True) -> Any:
        value = (
            st.integers(int(low), int(high))
            if ints
            else st.floats(low, high).map(lambda x: round(x, 2))
        )
        return st.sampled_from(NUMBER_OPS).flatmap(
            lambda op: (
                st.tuples(value, value).map(sorted).map(list) if op == "between" else value
            ).map(lambda v: {"field": field, "op": op, "value": v})
        )

    return st.one_of(
        strings("region", regions),
        strings("gender", ["m", "f", "u"]),
        strings("acquisition_channel", channels),
        strings("value_tier", TIERS),
        strings("churn_risk", RISKS),
        strings("rfm_segment", SEGMENTS),
        strings("profit_group", PROFIT_GROUPS),
        strings("loyalty_tier", MEMBER_TIERS),
        numbers("loyalty_points", -300, 3000),
        numbers("r_score", 1, 5),
        numbers("clv", 0, 3000),
        numbers("p_alive", 0, 1, ints=False),
        numbers("days_since_last_purchase", 0, 400),
        numbers("orders", 0, 15),
        numbers("spend", 0, 5000),
        st.sampled_from(NUMBER_OPS).flatmap(
            lambda op: (
                st.tuples(st.sampled_from(dates), st.sampled_from(dates)).map(sorted).map(list)
                if op == "between"
                else st.sampled_from(dates)
            ).map(lambda v: {"field": "acquired_on", "op": op, "value": v})
        ),
        st.sampled_from(["contains", "not_contains"]).flatmap(
            lambda op: st.sampled_from(tags).map(lambda v: {"field": "tags", "op": op, "value": v})
        ),
        st.sampled_from(["in", "not_in"]).flatmap(
            lambda op: st.lists(
                st.sampled_from(categories), min_size=1, max_size=2, unique=True
            ).map(lambda v: {"field": "category", "op": op, "value": v})
        ),
        st.sampled_from(["consent_email", "consent_sms"]).flatmap(
            lambda f: st.booleans().map(lambda v: {"field": f, "op": "=", "value": v})
        ),
    )


def trees(demo: Any) -> st.SearchStrategy[dict[str, Any]]:
    return st.recursive(
        leaves(demo),
        lambda children: st.one_of(
            st.lists(children, max_size=3).map(lambda c: {"all": c}),
            st.lists(children, max_size=3).map(lambda c: {"any": c}),
            children.map(lambda c: {"not": c}),
        ),
        max_leaves=6,
    )


def test_thirty_random_rule_sets_equal_the_pandas_filter(demo: Any) -> None:
    @settings(
        max_examples=30,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(rules=trees(demo))
    def check(rules: dict[str, Any]) -> None:
        # when the rules run in the database
        found = set(segment_queryset(rules=rules, today=demo["today"]).values_list("pk", flat=True))
        # then they select exactly the customers pandas selects
        expected = reference(rules, demo)
        assert found == set(expected[expected].index), rules
        # and the count (read within one of the sets when it can) is theirs
        assert segment_count(rules=rules, today=demo["today"]) == len(found), rules

    check()


def test_the_issue_example_and_everyone(demo: Any) -> None:
    rules = {
        "all": [
            {"field": "value_tier", "op": "in", "value": ["very_high", "high"]},
            {
                "any": [
                    {"field": "days_since_last_purchase", "op": ">", "value": 90},
                    {"field": "churn_risk", "op": "=", "value": "high"},
                ]
            },
        ]
    }
    found = set(segment_queryset(rules=rules, today=demo["today"]).values_list("pk", flat=True))
    expected = reference(rules, demo)
    assert found == set(expected[expected].index) and found
    assert segment_count(rules=rules, today=demo["today"]) == len(found)
    assert segment_queryset(rules={"all": []}).count() == len(demo["customers"])


@pytest.mark.parametrize(
    ("rules", "named"),
    [
        ({"all": [{"field": "shoe_size", "op": "=", "value": 1}]}, "valid fields: acquired_on"),
        ({"all": [{"field": "clv", "op": "like", "value": 1}]}, "valid operators: =, !=, >"),
        ({"all": [{"field": "clv", "op": ">", "value": "lots"}]}, "expected a number"),
        ({"all": [{"field": "value_tier", "op": "=", "value": "gold"}]}, "valid: very_high"),
        ({"any": [{"field": "acquired_on", "op": ">", "value": "2024-02-30"}]}, "YYYY-MM-DD"),
        ({"all": [{"field": "orders", "op": "between", "value": [5, 1]}]}, "low value is above"),
        ({"every": []}, "a condition is"),
        ("{not json", "not valid JSON"),
    ],
)
def test_bad_rules_are_refused_with_what_is_valid(rules: Any, named: str) -> None:
    with pytest.raises(CampaignError) as raised:
        segment_queryset(rules=rules)
    assert named in raised.value.message and raised.value.code == "campaigns.invalid_rules"


def test_bad_rules_are_explained_in_chinese() -> None:
    from django.utils import translation

    with translation.override("zh-hans"), pytest.raises(CampaignError) as raised:
        segment_queryset(rules={"all": [{"field": "shoe_size", "op": "=", "value": 1}]})
    assert "未知字段" in raised.value.message


def test_demo_campaigns_carry_their_known_effect(demo: Any) -> None:
    # given the demo's past campaigns (written by the demo builder with a known uplift)
    from patron.campaigns.models import Campaign, Group
    from patron.campaigns.selectors import campaign_account, campaign_results
    from patron.core.models import SystemSetting

    truth = SystemSetting.objects.get(key="demo").value["campaigns"]
    assert len(truth) == 2
    for name, known in truth.items():
        campaign = Campaign.objects.get(pk=known["campaign_id"])
        # then every target is accounted for, controls are held out by the launch's hash
        account = campaign_account(campaign=campaign)
        assert (
            account.targeted
            == account.sent + account.held_out
            == (known["reached"] + known["control"])
        ), name
        # and the extra orders are the generator's, all by reached customers in the window
        extra = Order.objects.filter(
            source="demo-campaign", external_id__startswith=f"{campaign.pk}-"
        )
        assert extra.count() == known["extra_orders"]
        reached = set(
            campaign.targets.filter(group=Group.TREATMENT).values_list("customer_id", flat=True)
        )
        assert set(extra.values_list("customer_id", flat=True)) <= reached
        results = campaign_results(campaign=campaign)
        assert results["treatment"].customers == known["reached"]
        assert results["control"].customers == known["control"]
        buyers_with_extra = len(set(extra.values_list("customer_id", flat=True)))
        assert results["treatment"].buyers >= buyers_with_extra


@pytest.mark.parametrize(
    "condition",
    [
        {"field": "profit_group", "op": "in", "value": ["high", "no_profit"]},
        {"field": "profit_group", "op": "!=", "value": "low"},
        {"field": "loyalty_tier", "op": "=", "value": "gold"},
        {"field": "loyalty_tier", "op": "not_in", "value": ["silver"]},
        {"field": "loyalty_points", "op": ">=", "value": 500},
        {"field": "loyalty_points", "op": "<", "value": 1},
        {"field": "loyalty_points", "op": "between", "value": [-100, 800]},
        {"field": "days_since_last_purchase", "op": "<", "value": 60.5},
        {"field": "days_since_last_purchase", "op": "between", "value": [30.5, 200]},
        {"field": "days_since_last_purchase", "op": "!=", "value": 45},
        {"field": "orders", "op": "<=", "value": 2},
        {"field": "orders", "op": "!=", "value": 0},
        {"field": "spend", "op": "between", "value": [0, 250.5]},
    ],
)
def test_each_summary_loyalty_and_profit_field_equals_pandas(
    demo: Any, condition: dict[str, Any]
) -> None:
    # given a rule on a field read from the purchase summary, the loyalty ledger or the run
    for rules in ({"all": [condition]}, {"not": condition}):
        # when it runs in the database, then it selects what pandas selects
        found = set(segment_queryset(rules=rules, today=demo["today"]).values_list("pk", flat=True))
        expected = reference(rules, demo)
        assert found == set(expected[expected].index), rules
        assert segment_count(rules=rules, today=demo["today"]) == len(found), rules
    assert found and len(found) < len(demo["customers"])
    # and within another set (the count reads the set's rows, not the customers)
    rules = {"all": [{"field": "value_tier", "op": "in", "value": ["high", "low"]}, condition]}
    expected = reference(rules, demo)
    assert segment_count(rules=rules, today=demo["today"]) == int(expected.sum())


def test_an_unknown_membership_tier_is_refused_with_the_tiers(demo: Any) -> None:
    rules = {"all": [{"field": "loyalty_tier", "op": "=", "value": "diamond"}]}
    with pytest.raises(CampaignError, match="valid: silver, gold, platinum"):
        segment_queryset(rules=rules)


def test_the_builder_offers_the_new_fields_in_both_languages(demo: Any) -> None:
    from patron.campaigns.rules import field_list

    fields = {f["field"]: f for f in field_list()}
    assert fields["loyalty_tier"]["choices"] == MEMBER_TIERS  # the programme's tiers, by rank
    assert fields["profit_group"]["choices"] == PROFIT_GROUPS
    assert fields["loyalty_points"]["kind"] == "number"
    labels = {name: fields[name]["label"] for name in ("loyalty_tier", "loyalty_points")}
    assert labels["loyalty_tier"] == {"en": "Membership tier", "zh-hans": "会员等级"}
    assert labels["loyalty_points"] == {"en": "Points balance", "zh-hans": "可用积分"}
    assert fields["profit_group"]["label"]["zh-hans"] == "利润分组"
