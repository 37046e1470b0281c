"""Whatever rules the shop sets, no excluded, not-for-sale, out-of-stock or returned item is
ever recommended, "try new" never holds an item the customer bought, "buy again" only holds
items they bought, and the per-category cap holds (hypothesis over random data and rules)."""

from __future__ import annotations

from collections import Counter

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patron.analytics.recommend import Lines, Pin, Recommender, Rules, day_number

SKUS = [f"P{i}" for i in range(12)]
CATEGORIES = ["tea", "cake", "gift", ""]
CUSTOMERS = [f"C{i}" for i in range(8)]
START = day_number("2024-01-01")


@st.composite
def shop(draw: st.DrawFn) -> tuple[Lines, Rules, dict[str, set[str]]]:
    n = draw(st.integers(5, 80))
    rows = draw(
        st.lists(
            st.tuples(st.sampled_from(CUSTOMERS), st.sampled_from(SKUS), st.integers(0, 120)),
            min_size=n,
            max_size=n,
        )
    )
    c, p, d = zip(*rows, strict=True)
    lines = Lines.from_columns(
        {"customer": c, "product": p, "day": np.array(d) + START, "quantity": np.ones(n)},
        products=SKUS,
    )
    bought: dict[str, set[str]] = {}
    for cid, sku, _ in rows:
        bought.setdefault(cid, set()).add(sku)
    subset = st.frozensets(st.sampled_from(SKUS), max_size=5)
    categories = draw(st.dictionaries(st.sampled_from(SKUS), st.sampled_from(CATEGORIES)))
    rules = Rules(
        not_for_sale=draw(subset),
        never=draw(subset),
        excluded_categories=draw(st.frozensets(st.sampled_from(CATEGORIES[:3]), max_size=2)),
        categories=categories,
        margins=draw(st.dictionaries(st.sampled_from(SKUS), st.floats(-0.5, 0.9))),
        margin_floor=draw(st.none() | st.floats(-0.2, 0.5)),
        max_per_category=draw(st.none() | st.integers(1, 3)),
        pinned=tuple(
            Pin(sku=s, start=START + 60, end=None)
            for s in draw(st.lists(st.sampled_from(SKUS), max_size=3))
        ),
        returned=draw(st.dictionaries(st.sampled_from(CUSTOMERS), subset)),
    )
    return lines, rules, bought


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shop(), st.integers(1, 6))
def test_rules_are_never_broken(case: tuple[Lines, Rules, dict[str, set[str]]], n: int) -> None:
    lines, rules, bought = case
    # when
    rec = Recommender().fit(lines, as_of=START + 121)
    table = rec.recommend(CUSTOMERS, n, rules=rules)
    # then
    blocked = set(rules.not_for_sale) | set(rules.never)
    for row in table.itertuples(index=False):
        assert row.sku not in blocked
        assert rules.categories.get(row.sku, "") not in rules.excluded_categories
        if rules.margin_floor is not None and row.sku in rules.margins:
            assert rules.margins[row.sku] >= rules.margin_floor
        assert row.sku not in rules.returned.get(row.customer_id, frozenset())
        owned = bought.get(row.customer_id, set())
        if row.list == "try_new":
            assert row.sku not in owned
        else:
            assert row.sku in owned
    for (_customer, _list), group in table.groupby(["customer_id", "list"]):
        assert len(group) <= n
        assert group["sku"].is_unique
        assert list(group["rank"]) == list(range(1, len(group) + 1))
        if rules.max_per_category is not None:
            counts = Counter(rules.categories.get(s, "") or s for s in group["sku"])
            assert max(counts.values()) <= rules.max_per_category


def test_pinned_items_come_first_and_only_in_their_period() -> None:
    days = np.array([0, 5, 10, 10, 20]) + START
    lines = Lines.from_columns(
        {
            "customer": ["A", "A", "A", "B", "B"],
            "product": ["tea", "tea", "cake", "cake", "milk"],
            "day": days,
            "quantity": np.ones(5),
        }
    )
    rec = Recommender().fit(lines, as_of=START + 30)
    now = Rules(pinned=(Pin("milk", start=START + 25, end=START + 40),))
    later = Rules(pinned=(Pin("milk", start=START + 31),))
    a_now = rec.recommend(["A"], 3, rules=now)
    a_new = a_now[a_now["list"] == "try_new"]
    assert a_new["sku"].iloc[0] == "milk"
    assert a_new["reason_en"].iloc[0] == "recommended by the shop"
    assert a_new["reason_zh"].iloc[0] == "本店推荐"
    b_now = rec.recommend(["B"], 3, rules=now)
    assert b_now[b_now["list"] == "buy_again"]["sku"].iloc[0] == "milk"
    a_later = rec.recommend(["A"], 3, rules=later)
    assert "recommended by the shop" not in set(a_later["reason_en"])
