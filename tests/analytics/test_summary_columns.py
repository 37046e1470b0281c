"""customer_summary(columns=...) and the path without order ids: the same values on every
engine as the full summary with order ids."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import ibis
import pandas as pd
import pytest

from patron.analytics.summary import SUMMARY_COLUMNS, customer_summary

AS_OF = dt.date(1998, 6, 30)
Loader = Callable[[pd.DataFrame], ibis.Table]


@pytest.mark.parametrize(
    "columns",
    [
        ("customer_id", "orders", "revenue", "recency_days"),
        ("first_purchase", "orders", "cost", "margin", "uncosted_revenue", "tenure_days"),
        ("purchase_days", "returns"),
    ],
)
def test_a_subset_equals_those_columns_of_the_full_summary(
    engine: tuple[str, Loader],
    cdnow_rich: pd.DataFrame,
    normalised: Callable[[pd.DataFrame], pd.DataFrame],
    columns: tuple[str, ...],
) -> None:
    # given item lines with order ids, returns and partly known costs on this engine
    _, load = engine
    table = load(cdnow_rich)
    full = customer_summary(table, as_of=AS_OF).execute()
    # when
    part = customer_summary(table, as_of=AS_OF, columns=columns).execute()
    # then: customer_id first, the rest in summary order, values as in the full summary
    expected = ["customer_id", *[c for c in SUMMARY_COLUMNS[1:] if c in columns]]
    assert list(part.columns) == expected
    full = full.sort_values("customer_id").reset_index(drop=True)[expected]
    part = part.sort_values("customer_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(part, full, check_exact=True, check_dtype=False)


def test_without_order_ids_every_row_is_an_order(
    engine: tuple[str, Loader],
    cdnow_rich: pd.DataFrame,
    normalised: Callable[[pd.DataFrame], pd.DataFrame],
) -> None:
    # given the same rows with one distinct order id per row, and without the column
    _, load = engine
    with_ids = cdnow_rich.assign(order_id=[f"r{i}" for i in range(len(cdnow_rich))])
    without = cdnow_rich.drop(columns=["order_id"])
    # when
    a = normalised(customer_summary(load(with_ids), as_of=AS_OF).execute())
    b = normalised(customer_summary(load(without), as_of=AS_OF).execute())
    # then: identical, purchase_days included (the per-day pre-aggregation)
    pd.testing.assert_frame_equal(b, a, check_exact=True, check_dtype=False)


def test_unknown_columns_are_named(duck: Loader, cdnow_rich: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="unknown summary column"):
        customer_summary(duck(cdnow_rich), as_of=AS_OF, columns=["customer_id", "clv"])
