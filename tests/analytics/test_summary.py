"""customer_summary: pandas reference on CDNOW, every engine, and the input contract."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import ibis
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patron.analytics.summary import SUMMARY_COLUMNS, customer_summary

AS_OF = dt.date(1998, 6, 30)
Loader = Callable[[pd.DataFrame], ibis.Table]


def test_cdnow_matches_pandas_reference(
    engine: tuple[str, Loader],
    cdnow: pd.DataFrame,
    cdnow_reference: pd.DataFrame,
    normalised: Callable[[pd.DataFrame], pd.DataFrame],
) -> None:
    # given the CDNOW log in an engine
    _, load = engine
    table = load(cdnow)
    # when
    ours = normalised(customer_summary(table, as_of=AS_OF).execute())
    # then: identical to what an analyst computes in pandas, money to the cent
    assert list(ours.columns) == list(SUMMARY_COLUMNS)
    assert len(ours) == 23_570
    pd.testing.assert_frame_equal(ours, cdnow_reference, check_exact=True, check_dtype=False)
    assert ours["orders"].sum() == 69_659  # duplicates and zero amounts are orders too


def test_cdnow_rich_matches_pandas_reference(
    engine: tuple[str, Loader],
    cdnow_rich: pd.DataFrame,
    summary_reference: Callable[[pd.DataFrame, dt.date], pd.DataFrame],
    normalised: Callable[[pd.DataFrame], pd.DataFrame],
) -> None:
    # given item lines with order ids, returns and partly unknown costs
    _, load = engine
    as_of = dt.date(1998, 3, 31)
    table = load(cdnow_rich)
    # when
    ours = normalised(customer_summary(table, as_of=as_of).execute())
    # then
    expected = summary_reference(cdnow_rich, as_of)
    pd.testing.assert_frame_equal(ours, expected, check_exact=True, check_dtype=False)
    assert (ours["returns"] > 0).any() and ours["last_purchase"].isna().any()
    assert ours["cost"].isna().any() and ours["cost"].notna().any()


def test_engines_agree_exactly(
    engine: tuple[str, Loader],
    cdnow_rich: pd.DataFrame,
    normalised: Callable[[pd.DataFrame], pd.DataFrame],
    duck: Loader,
) -> None:
    # given the same data on this engine and on DuckDB with float amounts
    _, load = engine
    since = dt.date(1997, 3, 1)
    ours = normalised(customer_summary(load(cdnow_rich), as_of=AS_OF, since=since).execute())
    base = normalised(customer_summary(duck(cdnow_rich), as_of=AS_OF, since=since).execute())
    # then every value, including float money, is bit-identical
    pd.testing.assert_frame_equal(ours, base, check_exact=True, check_dtype=False)


CONTRACT_ROWS = [
    # customer, date, amount, order_id, cost, is_return
    ("a", "2024-01-05", 10.00, "o1", 6.00, None),  # two lines of order o1
    ("a", "2024-01-05", 5.50, "o1", None, None),
    ("a", "2024-02-10", 20.00, "o2", 12.00, False),
    ("a", "2024-02-20", -5.50, "o1", None, True),  # a return of a line of o1
    ("a", "2024-03-01", 0.00, None, None, None),  # a null order id is its own order
    ("b", "2024-03-15", -7.25, "o9", -4.00, None),  # returns only (is_return null, amount < 0)
    ("c", "2024-03-31", 0.125, "o5", None, None),  # half a cent rounds up
    ("c", "2024-04-01", 99.00, "o6", None, None),  # after as_of
    ("d", "2023-12-31", 3.00, "o7", None, None),  # before since
]


@pytest.fixture(scope="module")
def contract_frame() -> pd.DataFrame:
    frame = pd.DataFrame(
        CONTRACT_ROWS,
        columns=["customer_id", "order_date", "amount", "order_id", "cost", "is_return"],
    )
    frame["order_date"] = pd.to_datetime(frame["order_date"]).dt.date
    frame["is_return"] = frame["is_return"].astype("boolean")
    return frame


def test_input_contract_by_hand(
    engine: tuple[str, Loader],
    contract_frame: pd.DataFrame,
    normalised: Callable[[pd.DataFrame], pd.DataFrame],
) -> None:
    # given
    _, load = engine
    table = load(contract_frame)
    # when
    out = normalised(
        customer_summary(table, as_of=dt.date(2024, 3, 31), since=dt.date(2024, 1, 1)).execute()
    ).set_index("customer_id")
    # then: the period keeps a, b, c (d is before since; c's April row is ignored)
    assert list(out.index) == ["a", "b", "c"]
    a = out.loc["a"]
    assert (a["orders"], a["returns"], a["purchase_days"]) == (3, 1, 3)
    assert a["revenue"] == 30.0  # 10 + 5.5 + 20 - 5.5 + 0
    assert a["cost"] == 18.0 and a["margin"] == 12.0  # (10-6) + (20-12)
    assert a["uncosted_revenue"] == 0.0  # 5.5 - 5.5 + 0
    assert a["first_purchase"] == pd.Timestamp("2024-01-05")
    assert a["last_purchase"] == pd.Timestamp("2024-03-01")
    assert (a["recency_days"], a["tenure_days"]) == (30, 86)
    b = out.loc["b"]
    assert (b["orders"], b["returns"], b["revenue"]) == (0, 1, -7.25)
    assert (b["cost"], b["margin"]) == (-4.0, -3.25)
    assert pd.isna(b["last_purchase"]) and np.isnan(b["recency_days"])
    c = out.loc["c"]
    assert (c["revenue"], c["recency_days"], c["orders"]) == (0.13, 0, 1)
    assert np.isnan(c["cost"]) and np.isnan(c["margin"]) and c["uncosted_revenue"] == 0.13


def test_timestamp_dates_are_truncated(duck: Loader) -> None:
    # given order_date as timestamps
    table = ibis.memtable(
        {
            "customer_id": ["a", "a"],
            "order_date": pd.to_datetime(["2024-01-01 09:00", "2024-01-01 18:00"]),
            "amount": [1.0, 2.0],
        }
    )
    # when
    out = customer_summary(table, as_of=dt.date(2024, 1, 1)).execute()
    # then two orders on one purchase day, as of the same day
    assert out[["orders", "purchase_days", "recency_days"]].values.tolist() == [[2, 1, 0]]


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"customer_id": "string", "amount": "float64"}, "required column 'order_date'"),
        (
            {"customer_id": "int64", "order_date": "date", "amount": "float64"},
            "'customer_id' must be a string",
        ),
        (
            {"customer_id": "string", "order_date": "date", "amount": "string"},
            "'amount' must be numeric",
        ),
        (
            {
                "customer_id": "string",
                "order_date": "date",
                "amount": "float64",
                "is_return": "int8",
            },
            "'is_return' must be boolean",
        ),
    ],
)
def test_contract_violations_are_named(schema: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        customer_summary(ibis.table(schema, name="t"), as_of=dt.date(2024, 1, 1))


def test_since_after_as_of_is_rejected() -> None:
    t = ibis.table({"customer_id": "string", "order_date": "date", "amount": "float64"}, name="t")
    with pytest.raises(ValueError, match="since"):
        customer_summary(t, as_of=dt.date(2024, 1, 1), since=dt.date(2024, 2, 1))


rows = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c", "d"]),
        st.dates(dt.date(2024, 1, 1), dt.date(2024, 3, 31)),
        st.integers(-5_000, 20_000).map(lambda c: c / 100),
        st.sampled_from(["o1", "o2", "o3", "o4", "o5"]),
        st.one_of(st.none(), st.integers(0, 10_000).map(lambda c: c / 100)),
    ),
    min_size=1,
    max_size=40,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=rows)
def test_random_logs_match_reference(
    data: list[tuple[str, dt.date, float, str, float | None]],
    duck: Loader,
    summary_reference: Callable[[pd.DataFrame, dt.date], pd.DataFrame],
    normalised: Callable[[pd.DataFrame], pd.DataFrame],
) -> None:
    frame = pd.DataFrame(data, columns=["customer_id", "order_date", "amount", "order_id", "cost"])
    frame["cost"] = frame["cost"].astype(np.float64)
    as_of = dt.date(2024, 3, 15)
    ours = normalised(customer_summary(duck(frame), as_of=as_of).execute())
    expected = summary_reference(frame, as_of)
    pd.testing.assert_frame_equal(ours, expected, check_exact=True, check_dtype=False)
