"""Customer migration between two runs: by hand, on CDNOW half-years, invariants."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import ibis
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patron.analytics.migration import LOST, NEW, customer_migration
from patron.analytics.rfm import rfm_scores
from patron.analytics.segments import SEGMENT_CODES, assign_segments
from patron.analytics.summary import customer_summary
from patron.analytics.tiers import TIER_CODES, value_tiers

Loader = Callable[[pd.DataFrame], ibis.Table]


def test_by_hand() -> None:
    # given
    before = pd.DataFrame(
        {"customer_id": ["a", "b", "c", "d"], "tier": ["high", "low", "low", "very_high"]}
    )
    after = pd.DataFrame(
        {"customer_id": ["a", "b", "d", "e"], "tier": ["moderate", "high", "very_high", "low"]}
    )
    # when
    m = customer_migration(before, after)
    # then
    assert (m.upgrades, m.downgrades, m.same, m.new, m.lost) == (1, 1, 1, 1, 1)
    assert m.counts.loc["high", "moderate"] == 1 and m.counts.loc["low", "high"] == 1
    assert m.counts.loc["low", LOST] == 1 and m.counts.loc[NEW, "low"] == 1
    assert m.counts.to_numpy().sum() == 5
    assert m.shares.loc["low", "high"] == 0.5 and m.shares.loc["low", LOST] == 0.5
    assert m.shares.loc["moderate"].sum() == 0.0  # an empty row
    assert m.moves.set_index("customer_id")["change"].to_dict() == {
        "a": "downgrade", "b": "upgrade", "c": "lost", "d": "same", "e": "new"
    }  # fmt: skip


def test_segments_named_new_do_not_clash_with_new_customers() -> None:
    before = pd.Series({"a": "new", "b": "champions"})
    after = pd.Series({"a": "champions", "c": "new"})
    m = customer_migration(before, after, levels=SEGMENT_CODES)
    assert m.counts.loc["new", "champions"] == 1  # segment "new" upgraded
    assert m.counts.loc[NEW, "new"] == 1  # a new customer in segment "new"
    assert m.counts.loc["champions", LOST] == 1
    assert (m.upgrades, m.new, m.lost) == (1, 1, 1)


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="unknown level"):
        customer_migration(pd.Series({"a": "gold"}), pd.Series({"a": "high"}))
    with pytest.raises(ValueError, match="duplicate"):
        customer_migration(
            pd.DataFrame({"customer_id": ["a", "a"], "tier": ["high", "low"]}),
            pd.Series({"a": "high"}),
        )


def test_cdnow_half_years_match_crosstab(cdnow: pd.DataFrame, duck: Loader) -> None:
    # given tiers and segments at the end of two consecutive half-years
    table = duck(cdnow)
    first = customer_summary(table, as_of=dt.date(1997, 12, 31))
    second = customer_summary(table, as_of=dt.date(1998, 6, 30))
    t1, t2 = value_tiers(first), value_tiers(second)
    # when
    m = customer_migration(t1, t2)
    # then: the same as pandas' crosstab of the merged assignments
    merged = t1.merge(t2, on="customer_id", how="outer", suffixes=("_1", "_2"))
    expected = pd.crosstab(merged["tier_1"].fillna(NEW), merged["tier_2"].fillna(LOST))
    expected = expected.reindex(index=[*TIER_CODES, NEW], columns=[*TIER_CODES, LOST], fill_value=0)
    np.testing.assert_array_equal(m.counts.to_numpy(), expected.to_numpy())
    rank = {c: i for i, c in enumerate(TIER_CODES)}
    both = merged.dropna()
    assert m.upgrades == int((both["tier_2"].map(rank) < both["tier_1"].map(rank)).sum())
    assert m.downgrades == int((both["tier_2"].map(rank) > both["tier_1"].map(rank)).sum())
    assert m.new == int(merged["tier_1"].isna().sum())
    # nobody is lost: tiers are over the whole history up to each date
    assert m.lost == 0 and m.upgrades > 0 and m.downgrades > 0
    s1 = assign_segments(rfm_scores(first))
    s2 = assign_segments(rfm_scores(second))
    seg = customer_migration(s1, s2, column="segment", levels=SEGMENT_CODES)
    assert seg.counts.to_numpy().sum() == len(merged)
    np.testing.assert_allclose(seg.shares.sum(axis=1).loc[lambda s: s > 0], 1.0)


levels = st.sampled_from(TIER_CODES)
assignments = st.dictionaries(st.sampled_from([f"c{i}" for i in range(30)]), levels, max_size=30)


@settings(max_examples=150, deadline=None)
@given(before=assignments, after=assignments)
def test_invariants(before: dict[str, str], after: dict[str, str]) -> None:
    m = customer_migration(pd.Series(before, dtype=object), pd.Series(after, dtype=object))
    everyone = set(before) | set(after)
    assert m.counts.to_numpy().sum() == len(everyone) == len(m.moves)
    assert m.upgrades + m.downgrades + m.same + m.new + m.lost == len(everyone)
    assert m.new == len(set(after) - set(before)) and m.lost == len(set(before) - set(after))
    assert m.counts.loc[NEW, LOST] == 0
    row_sums = m.shares.sum(axis=1).to_numpy()
    assert np.all((np.abs(row_sums - 1) < 1e-12) | (row_sums == 0))
    # the diagonal counts the customers who stayed
    assert np.trace(m.counts.loc[list(TIER_CODES), list(TIER_CODES)].to_numpy()) == m.same
