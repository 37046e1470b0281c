"""Segment diagnosis: shares, lift, tests against SciPy, statements in both languages."""

from __future__ import annotations

from collections.abc import Callable

import ibis
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from patron.analytics.diagnosis import (
    DIAGNOSIS_COLUMNS,
    diagnose_attributes,
    diagnose_categories,
    proportion_test,
)
from patron.analytics.tiers import tier

VERY_LOW = tier("very_low").group_label
LABELS = {
    "occupation": {"en": "occupation", "zh-hans": "职业"},
    "gender": {"en": "gender", "zh-hans": "性别"},
}


@pytest.fixture(scope="module")
def population() -> tuple[pd.DataFrame, np.ndarray]:
    """1,000 customers; the first 200 are the group. Students: 60 of 200 vs 80 of 800."""
    occupation = ["学生"] * 60 + ["职员"] * 140 + ["学生"] * 80 + ["职员"] * 600 + ["退休"] * 120
    gender = (["女", "男"] * 500)[:1000]
    frame = pd.DataFrame(
        {
            "customer_id": [f"c{i:04d}" for i in range(1000)],
            "occupation": occupation,
            "gender": gender,
        }
    )
    frame.loc[999, "gender"] = None  # missing values are left out
    in_group = np.arange(1000) < 200
    return frame, in_group


def test_attributes(population: tuple[pd.DataFrame, np.ndarray]) -> None:
    # given
    frame, in_group = population
    # when
    out = diagnose_attributes(
        frame,
        in_group=in_group,
        columns=["occupation", "gender"],
        group_label=VERY_LOW,
        labels=LABELS,
    )
    # then
    assert list(out.columns) == list(DIAGNOSIS_COLUMNS)
    rows = out.set_index(["attribute", "value"])
    student = rows.loc[("occupation", "学生")]
    counts = ("group_count", "group_size", "rest_count", "rest_size")
    assert student[list(counts)].tolist() == [60, 200, 80, 800]
    assert student["group_share"] == 0.3 and student["rest_share"] == 0.1
    assert student["lift"] == pytest.approx(3.0) and student["direction"] == "over"
    chi2 = stats.chi2_contingency([[60, 140], [80, 720]], correction=False)
    assert student["test"] == "z" and student["p_value"] == pytest.approx(chi2.pvalue, rel=1e-9)
    assert student["significant"]
    assert student["statement_en"] == (
        "学生 (occupation) are 3.0× as common in the very-low tier as among other customers "
        "(30% vs 10%)"
    )
    assert student["statement_zh"] == "学生（职业）在很低层级中的比例是其他客户的3.0倍（30%对10%）"
    retired = rows.loc[("occupation", "退休")]
    assert (
        retired["group_count"] == 0 and retired["lift"] == 0.0 and retired["direction"] == "under"
    )
    gender = rows.loc[("gender", "女")]
    assert gender["rest_size"] == 799 and not gender["significant"]  # one missing value skipped
    # Benjamini-Hochberg over all five rows
    np.testing.assert_allclose(out["q_value"], stats.false_discovery_control(out["p_value"]))
    assert out["significant"].tolist() == sorted(out["significant"].tolist(), reverse=True)


def test_fisher_for_small_counts_and_only_in_group() -> None:
    frame = pd.DataFrame({"region": ["北京"] * 3 + ["上海"] * 17})
    in_group = np.arange(20) < 5
    out = diagnose_attributes(frame, in_group=in_group, columns=["region"]).set_index("value")
    beijing = out.loc["北京"]
    assert beijing["test"] == "fisher"
    assert beijing["p_value"] == pytest.approx(stats.fisher_exact([[3, 2], [0, 15]]).pvalue)
    assert np.isinf(beijing["lift"])
    assert beijing["statement_en"] == "北京 (region) occur only in the group (60% of it)"
    assert beijing["statement_zh"] == "北京（region）只出现在该客户群中（占60%）"


def test_categories_count_customers_not_lines(
    population: tuple[pd.DataFrame, np.ndarray], duck: Callable[[pd.DataFrame], ibis.Table]
) -> None:
    # given purchase lines: group customers buy vegetarian dishes, several lines each
    frame, in_group = population
    ids = frame["customer_id"].to_numpy()
    lines = pd.DataFrame(
        {
            "customer_id": np.concatenate(
                [ids[:100], ids[:100], ids[200:300], ids, ["zz-not-a-customer"]]
            ),
            "category": ["素食"] * 200 + ["素食"] * 100 + ["饮料"] * 1000 + ["素食"],
        }
    )
    # when
    out = diagnose_categories(lines, customer_ids=ids, in_group=in_group, group_label=VERY_LOW)
    from_table = diagnose_categories(
        duck(lines),
        customer_ids=ids,
        in_group=in_group,
        group_label=VERY_LOW,
    )
    # then
    veg = out.set_index("value").loc["素食"]
    assert (veg["group_count"], veg["rest_count"]) == (100, 100)  # repeated lines count once
    assert veg["lift"] == pytest.approx((100 / 200) / (100 / 800))
    pd.testing.assert_frame_equal(out, from_table)


def test_proportion_test_matches_chi_square() -> None:
    name, p = proportion_test(40, 100, 20, 100)
    assert name == "z"
    assert p == pytest.approx(stats.chi2_contingency([[40, 60], [20, 80]], correction=False).pvalue)
    assert proportion_test(0, 50, 0, 50) == ("fisher", 1.0)


def test_bad_group() -> None:
    frame = pd.DataFrame({"x": ["a", "b"]})
    with pytest.raises(ValueError, match="boolean"):
        diagnose_attributes(frame, in_group=[1, 0], columns=["x"])
    with pytest.raises(ValueError, match="at least one"):
        diagnose_attributes(frame, in_group=np.array([True, True]), columns=["x"])
