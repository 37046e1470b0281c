"""From transactions to model input, checked against lifetimes' pandas implementation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from clv_support import quiet

from patron.analytics.clv import calibration_holdout_split, summarize_transactions


@pytest.fixture(scope="module")
def cdnow_sample() -> pd.DataFrame:
    """Transactions of the 2,357-customer CDNOW sample (customer, date, amount)."""
    with quiet():
        from lifetimes.datasets import load_dataset

        df = load_dataset("CDNOW_sample.txt", header=None, sep=r"\s+")
    df.columns = ["customer", "customer_new", "date", "quantity", "amount"]
    df["date"] = pd.to_datetime(df["date"].astype(str), format="%Y%m%d")
    return df


def test_summary_matches_lifetimes_with_amounts(cdnow_sample: pd.DataFrame) -> None:
    with quiet():
        from lifetimes.utils import summary_data_from_transaction_data

        ref = summary_data_from_transaction_data(
            cdnow_sample,
            "customer",
            "date",
            monetary_value_col="amount",
            observation_period_end="1998-06-30",
        )
    s = summarize_transactions(
        cdnow_sample["customer"].to_numpy(),
        cdnow_sample["date"].to_numpy(),
        cdnow_sample["amount"].to_numpy(),
        observation_end="1998-06-30",
    )
    assert np.array_equal(s.customer_id, ref.index.to_numpy())
    assert np.array_equal(s.frequency, ref["frequency"].to_numpy())
    assert np.array_equal(s.recency, ref["recency"].to_numpy())
    assert np.array_equal(s.T, ref["T"].to_numpy())
    assert s.monetary_value == pytest.approx(ref["monetary_value"].to_numpy(), rel=1e-12)


def test_summary_matches_lifetimes_on_its_example_transactions() -> None:
    with quiet():
        from lifetimes.datasets import load_transaction_data
        from lifetimes.utils import summary_data_from_transaction_data

        tx = load_transaction_data()
        ref = summary_data_from_transaction_data(
            tx, "id", "date", observation_period_end="2014-12-31"
        )
    # ISO date strings (with a time of day) are accepted as they are
    s = summarize_transactions(
        tx["id"].to_numpy(), tx["date"].to_numpy(str), observation_end="2014-12-31"
    )
    assert np.array_equal(s.frequency, ref["frequency"].to_numpy())
    assert np.array_equal(s.recency, ref["recency"].to_numpy())
    assert np.array_equal(s.T, ref["T"].to_numpy())
    assert np.all(s.monetary_value == 0.0)


def test_calibration_holdout_matches_lifetimes(cdnow_sample: pd.DataFrame) -> None:
    with quiet():
        from lifetimes.utils import calibration_and_holdout_data

        ref = calibration_and_holdout_data(
            cdnow_sample,
            "customer",
            "date",
            calibration_period_end="1997-09-30",
            observation_period_end="1998-06-30",
            monetary_value_col="amount",
        )
    split = calibration_holdout_split(
        cdnow_sample["customer"].to_numpy(),
        cdnow_sample["date"].to_numpy(),
        cdnow_sample["amount"].to_numpy(),
        calibration_end="1997-09-30",
        observation_end="1998-06-30",
    )
    cal = split.calibration
    assert np.array_equal(cal.customer_id, ref.index.to_numpy())
    assert np.array_equal(cal.frequency, ref["frequency_cal"].to_numpy())
    assert np.array_equal(cal.recency, ref["recency_cal"].to_numpy())
    assert np.array_equal(cal.T, ref["T_cal"].to_numpy())
    assert cal.monetary_value == pytest.approx(ref["monetary_value_cal"].to_numpy(), rel=1e-12)
    assert np.array_equal(split.frequency_holdout, ref["frequency_holdout"].to_numpy())
    assert split.duration_holdout == ref["duration_holdout"].iloc[0] == 273
    # lifetimes averages holdout spend per transaction, we per purchase day (like the
    # calibration column); they agree wherever nobody bought twice on one holdout day
    per_day = cdnow_sample[cdnow_sample["date"] > "1997-09-30"].groupby(["customer", "date"]).size()
    single = ~np.isin(ref.index, per_day[per_day > 1].index.get_level_values(0))
    assert split.monetary_value_holdout[single] == pytest.approx(
        ref["monetary_value_holdout"].to_numpy()[single], rel=1e-12
    )


def test_units_and_same_day_purchases() -> None:
    ids = np.array([7, 7, 7, 7, 3])
    dates = np.array(
        ["2024-01-01T09:00", "2024-01-01T17:30", "2024-01-15", "2024-02-12", "2024-01-20"],
        dtype="datetime64[m]",
    )
    amounts = np.array([10.0, 5.0, 30.0, 50.0, 8.0])
    days = summarize_transactions(ids, dates, amounts, observation_end="2024-03-01")
    assert days.customer_id.tolist() == [3, 7]
    assert days.frequency.tolist() == [0, 2]  # two purchases on Jan 1 are one purchase day
    assert days.recency.tolist() == [0.0, 42.0]
    assert days.T.tolist() == [41.0, 60.0]
    assert days.monetary_value.tolist() == [0.0, 40.0]
    weeks = summarize_transactions(ids, dates, amounts, observation_end="2024-03-01", unit="weeks")
    assert pytest.approx(days.T / 7) == weeks.T
    months = summarize_transactions(
        ids, dates, amounts, observation_end="2024-03-01", unit="months"
    )
    assert months.recency == pytest.approx(days.recency / 30.4375)
    # transactions after the observation end are ignored, customers who start later too
    early = summarize_transactions(ids, dates, amounts, observation_end="2024-01-15")
    assert early.customer_id.tolist() == [7]
    assert early.frequency.tolist() == [1]


def test_holdout_leaves_out_customers_first_seen_in_the_holdout() -> None:
    ids = np.array(["a", "a", "b", "c", "c"])
    dates = np.array(
        ["2024-01-01", "2024-02-10", "2024-02-05", "2024-01-03", "2024-01-04"], "datetime64[D]"
    )
    split = calibration_holdout_split(
        ids,
        dates,
        [1.0, 2.0, 3.0, 4.0, 6.0],
        calibration_end="2024-01-31",
        observation_end="2024-02-29",
    )
    assert split.calibration.customer_id.tolist() == ["a", "c"]
    assert split.frequency_holdout.tolist() == [1, 0]
    assert split.monetary_value_holdout.tolist() == [2.0, 0.0]
    assert split.calibration.monetary_value.tolist() == [0.0, 6.0]
    assert split.duration_holdout == 29.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"date": np.array(["2024-01-01", "NaT"], "datetime64[D]")}, "date contains missing"),
        ({"date": np.array([1.5, 2.5])}, "date must be dates"),
        ({"customer_id": np.array([[1, 2]])}, "customer_id must be one-dimensional"),
        ({"amount": np.array([1.0, np.nan])}, "amount contains NaN"),
        ({"amount": np.array([1.0])}, "amount must have the shape"),
        ({"unit": "fortnights"}, "unit must be one of"),
        ({"observation_end": "2023-01-01"}, "observation_end is before"),
        ({"customer_id": np.array([1.0, np.nan])}, "customer_id contains NaN"),
    ],
)
def test_bad_transactions_are_rejected(kwargs, message) -> None:
    args = {
        "customer_id": np.array([1, 2]),
        "date": np.array(["2024-01-01", "2024-01-02"], "datetime64[D]"),
        "amount": np.array([1.0, 2.0]),
    } | kwargs
    with pytest.raises(ValueError, match=message):
        summarize_transactions(**args)


def test_bad_split_dates_are_rejected() -> None:
    ids, dates = np.array([1, 1]), np.array(["2024-01-01", "2024-02-01"], "datetime64[D]")
    with pytest.raises(ValueError, match="observation_end must be after calibration_end"):
        calibration_holdout_split(ids, dates, calibration_end="2024-02-01")
    with pytest.raises(ValueError, match="calibration_end is before"):
        calibration_holdout_split(ids, dates, calibration_end="2023-12-01")
