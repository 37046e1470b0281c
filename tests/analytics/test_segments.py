"""Named RFM segments: the rule table written out as rules, CDNOW, labels."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from patron.analytics.rfm import rfm_scores
from patron.analytics.segments import (
    SEGMENT_CODES,
    SEGMENTS,
    assign_segments,
    segment,
    segment_codes,
    segment_summary,
)

CHINESE = {
    "champions": "冠军客户",
    "loyal": "忠诚客户",
    "potential_loyalists": "潜力客户",
    "new": "新客户",
    "promising": "有望客户",
    "need_attention": "需要关注",
    "about_to_sleep": "即将沉睡",
    "at_risk": "流失风险",
    "cant_lose": "不能失去",
    "hibernating": "休眠客户",
    "lost": "已流失",
}


def reference_rules(r: pd.Series, fm: pd.Series) -> np.ndarray:
    """The segment table of docs/analytics/value.md, one rule per segment."""
    rules = {
        "champions": ((r == 5) & fm.between(4, 5)) | ((r == 4) & (fm == 5)),
        "loyal": ((r == 4) & (fm == 4)) | ((r == 3) & fm.between(4, 5)),
        "potential_loyalists": r.between(4, 5) & fm.between(2, 3),
        "new": (r == 5) & (fm == 1),
        "promising": (r == 4) & (fm == 1),
        "need_attention": (r == 3) & fm.between(2, 3),
        "about_to_sleep": ((r == 3) & (fm == 1)) | ((r == 2) & (fm == 2)),
        "at_risk": ((r == 2) & fm.between(3, 4)) | ((r == 1) & (fm == 3)),
        "cant_lose": ((r == 2) & (fm == 5)) | ((r == 1) & fm.between(4, 5)),
        "hibernating": ((r == 2) & (fm == 1)) | ((r == 1) & (fm == 2)),
        "lost": (r == 1) & (fm == 1),
    }
    matches = pd.DataFrame(rules).astype(int)
    assert (matches.sum(axis=1) == 1).all(), "rules must not overlap or leave gaps"
    return matches.idxmax(axis=1).to_numpy()


def test_grid_equals_rules_for_all_125_scores() -> None:
    # given every (R, F, M)
    r, f, m = (np.array(x) for x in zip(*itertools.product(range(1, 6), repeat=3), strict=True))
    fm = np.floor((f + m) / 2 + 0.5).astype(int)  # mean rounded half up
    # when / then
    expected = reference_rules(pd.Series(r), pd.Series(fm))
    np.testing.assert_array_equal(segment_codes(r, f, m), expected)
    assert set(expected) == set(SEGMENT_CODES)  # every segment is reachable


def test_cdnow_segments_match_rules(cdnow_summary: pd.DataFrame) -> None:
    # given
    scores = rfm_scores(cdnow_summary)
    # when
    out = assign_segments(scores)
    # then
    fm = np.floor((out["f_score"] + out["m_score"]) / 2 + 0.5).astype(int)
    np.testing.assert_array_equal(out["segment"], reference_rules(out["r_score"], fm))
    assert list(out.columns) == [*scores.columns, "segment"]
    summary = segment_summary(out)
    assert summary["segment"].tolist() == list(SEGMENT_CODES)
    assert summary["customers"].sum() == len(out)
    counts = out["segment"].value_counts()
    assert summary.set_index("segment")["customers"].to_dict() == {
        code: int(counts.get(code, 0)) for code in SEGMENT_CODES
    }
    cents = np.round(out["monetary"] * 100).astype(np.int64)
    assert round(summary["monetary"].sum() * 100) == cents.sum()
    champions = out.loc[out["segment"] == "champions", "monetary"]
    lost = out.loc[out["segment"] == "lost", "monetary"]
    assert champions.mean() > 10 * lost.mean()  # the names mean something on real data


def test_labels_and_actions_are_bilingual() -> None:
    assert {s.code: s.label["zh-hans"] for s in SEGMENTS} == CHINESE
    for s in SEGMENTS:
        assert set(s.label) == {"en", "zh-hans"} and set(s.action) == {"en", "zh-hans"}
        assert all(s.label.values()) and all(s.action.values())
    assert segment("cant_lose").label["en"] == "Can't lose them"


def test_scores_out_of_range_are_rejected() -> None:
    with pytest.raises(ValueError, match="1 to 5"):
        segment_codes([6], [1], [1])
    with pytest.raises(ValueError, match="1 to 5"):
        segment_codes([1.5], [1], [1])
