"""Predictions are put beside the right customer (an index lookup, checked against a merge)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from patron.analytics.predictive import PREDICTION_COLUMNS
from patron.insights.runs import _aligned


def test_predictions_follow_their_customer_and_a_missing_one_is_empty() -> None:
    # given predictions in the engine's order (not the customers'), and a customer with
    # returns only ("c") that has none
    rng = np.random.default_rng(3)
    ids = np.array([f"k{i:03d}" for i in rng.permutation(50)], dtype=object)
    predicted = pd.DataFrame(
        {
            "p_alive": rng.random(50),
            "expected_purchases": rng.random(50) * 3,
            "clv": rng.random(50) * 100,
            "value_at_risk": rng.random(50) * 50,
            "risk_level": rng.choice(["high", "medium", "low"], 50).astype(object),
            "risk_score": rng.integers(0, 100, 50),
            "risk_reasons_en": [f"reason {i}" for i in range(50)],
            "risk_reasons_zh": [f"原因 {i}" for i in range(50)],
        }
    )
    customers = pd.DataFrame({"customer_id": sorted([*ids[:30], "c", *ids[30:]])})
    # when
    ours = _aligned(predicted, pd.Series(ids), customers)
    # then the same as a left merge on customer_id
    merged = customers.merge(predicted.assign(customer_id=ids), on="customer_id", how="left")
    expected = merged.loc[:, list(PREDICTION_COLUMNS)]
    assert list(ours.columns) == list(PREDICTION_COLUMNS)
    pd.testing.assert_frame_equal(ours, expected, check_dtype=False)
    missing = customers.index[customers["customer_id"] == "c"][0]
    assert np.isnan(ours.loc[missing, "clv"]) and ours.loc[missing, "risk_level"] is None
    # and with every customer predicted, the columns keep their types
    full = _aligned(predicted, pd.Series(ids), pd.DataFrame({"customer_id": sorted(ids)}))
    assert full["risk_score"].dtype.kind == "i" and full["clv"].dtype.kind == "f"
