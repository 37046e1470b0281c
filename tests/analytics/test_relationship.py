"""Kotler's relationship levels and the loyalty levers per tier."""

from __future__ import annotations

import pandas as pd
import pytest

from patron.analytics.relationship import (
    LOYALTY_LEVERS,
    RELATIONSHIP_LEVELS,
    RelationshipThresholds,
    loyalty_levers,
    relationship_by_tier,
    relationship_level,
)
from patron.analytics.tiers import TIER_CODES

# Kotler's grid: rows many / medium / few customers, columns high / medium / low margin
KOTLER = {
    ("many", "high"): "accountable",
    ("many", "medium"): "reactive",
    ("many", "low"): "basic",
    ("medium", "high"): "proactive",
    ("medium", "medium"): "accountable",
    ("medium", "low"): "reactive",
    ("few", "high"): "partnership",
    ("few", "medium"): "proactive",
    ("few", "low"): "accountable",
}
CUSTOMERS = {"many": 5000, "medium": 500, "few": 20}
MARGINS = {"high": 2000.0, "medium": 500.0, "low": 10.0}


@pytest.mark.parametrize(("cell", "level"), list(KOTLER.items()))
def test_grid(cell: tuple[str, str], level: str) -> None:
    customers, margin = cell
    assert relationship_level(CUSTOMERS[customers], MARGINS[margin]).code == level


def test_thresholds_are_inclusive_where_documented() -> None:
    th = RelationshipThresholds(many_customers=100, few_customers=10, high_margin=50, low_margin=5)
    assert relationship_level(100, 50, thresholds=th).code == "accountable"  # many, high
    assert relationship_level(9, 4.99, thresholds=th).code == "accountable"  # few, low
    assert relationship_level(10, 5, thresholds=th).code == "accountable"  # medium, medium
    with pytest.raises(ValueError):
        RelationshipThresholds(many_customers=10, few_customers=100)


def test_labels_are_bilingual() -> None:
    assert [lv.label["zh-hans"] for lv in RELATIONSHIP_LEVELS] == [
        "基本型", "被动型", "负责型", "能动型", "伙伴型"
    ]  # fmt: skip
    for lv in RELATIONSHIP_LEVELS:
        assert lv.description["en"] and lv.description["zh-hans"]


def test_by_tier() -> None:
    # given a pyramid: few very valuable customers at the top, many cheap ones below
    table = pd.DataFrame(
        {
            "level": list(TIER_CODES),
            "customers": [20, 80, 300, 0, 12000],
            "margin": [60000.0, 40000.0, 30000.0, 0.0, 24000.0],
        }
    )
    # when
    out = relationship_by_tier(table).set_index("level")
    # then
    assert out.loc["very_high", "relationship"] == "partnership"  # few, 3,000 each
    assert out.loc["high", "relationship"] == "proactive"  # few, 500 each
    assert out.loc["moderate", "relationship"] == "accountable"  # medium, 100 each
    assert out.loc["low", "relationship"] is None  # an empty tier
    assert out.loc["very_low", "relationship"] == "basic"  # many, 2 each
    assert out.loc["very_low", "label_zh"] == "基本型"


def test_levers_price_for_low_tiers_service_and_brand_for_high() -> None:
    assert set(LOYALTY_LEVERS) == set(TIER_CODES)
    for code in ("very_high", "high"):
        assert {lv.kind for lv in loyalty_levers(code)} & {"service", "brand"}
        assert "price" not in {lv.kind for lv in loyalty_levers(code)}
    for code in ("low", "very_low"):
        assert "price" in {lv.kind for lv in loyalty_levers(code)}
        assert not {lv.kind for lv in loyalty_levers(code)} & {"service", "brand"}
    for levers in LOYALTY_LEVERS.values():
        for lv in levers:
            assert set(lv.label) == {"en", "zh-hans"} and all(lv.label.values())
