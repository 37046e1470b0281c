"""Monthly KPIs and cohorts: by hand, pandas reference on CDNOW, every engine."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable

import ibis
import numpy as np
import pandas as pd
import pytest

from patron.analytics.kpis import KPI_COLUMNS, cohort_retention, kpis_and_cohorts, monthly_kpis

AS_OF = dt.date(1998, 6, 30)
Loader = Callable[[pd.DataFrame], ibis.Table]


@pytest.fixture(scope="module")
def small() -> pd.DataFrame:
    rows = [
        ("a", "2024-01-10", 10.0),
        ("a", "2024-01-20", 20.0),
        ("a", "2024-03-15", 30.0),  # 55 days later: back after being lost
        ("b", "2024-02-05", 5.0),
        ("b", "2024-02-06", -2.0),  # a return: not a purchase day
        ("c", "2024-04-29", 7.5),  # two orders on one day
        ("c", "2024-04-29", 2.5),
        ("c", "2024-05-02", 99.0),  # after as_of
    ]
    frame = pd.DataFrame(rows, columns=["customer_id", "order_date", "amount"])
    frame["order_date"] = pd.to_datetime(frame["order_date"]).dt.date
    return frame


def test_small_log_by_hand(engine: tuple[str, Loader], small: pd.DataFrame) -> None:
    # given a 40-day window: a is lost on Mar 1 and Apr 25, b on Mar 17
    _, load = engine
    # when
    k = monthly_kpis(load(small), as_of=dt.date(2024, 4, 30), lost_after_days=40)
    # then
    assert list(k.columns) == list(KPI_COLUMNS)
    assert k["month"].tolist() == [dt.date(2024, m, 1) for m in (1, 2, 3, 4)]
    assert k["complete"].tolist() == [True, True, True, True]
    assert k["active_customers"].tolist() == [1, 1, 1, 1]
    assert k["new_customers"].tolist() == [1, 1, 0, 1]
    assert k["reactivated_customers"].tolist() == [0, 0, 1, 0]
    assert k["lost_customers"].tolist() == [0, 0, 2, 1]
    assert k["customers_at_start"].tolist() == [0, 1, 2, 1]
    np.testing.assert_array_equal(k["churn_rate"], [np.nan, 0.0, 1.0, 1.0])
    np.testing.assert_array_equal(k["retention_rate"], [np.nan, 0.0, 0.0, 0.0])
    assert k["repeat_customers"].tolist() == [1, 0, 1, 1]
    np.testing.assert_array_equal(k["repeat_purchase_rate"], [1.0, 0.0, 1.0, 1.0])
    assert k["orders"].tolist() == [2, 1, 1, 2]
    assert k["revenue"].tolist() == [30.0, 3.0, 30.0, 10.0]
    assert k["revenue_per_customer"].tolist() == [30.0, 3.0, 30.0, 10.0]
    np.testing.assert_array_equal(k["avg_interval_days"], [10.0, np.nan, 55.0, np.nan])


def test_kpis_and_cohorts_together_equal_each_alone(
    engine: tuple[str, Loader], small: pd.DataFrame
) -> None:
    _, load = engine
    as_of = dt.date(2024, 4, 30)
    kpis, cohorts = kpis_and_cohorts(load(small), as_of=as_of, lost_after_days=40)
    pd.testing.assert_frame_equal(kpis, monthly_kpis(load(small), as_of=as_of, lost_after_days=40))
    alone = cohort_retention(load(small), as_of=as_of)
    pd.testing.assert_frame_equal(cohorts.counts, alone.counts)
    pd.testing.assert_frame_equal(cohorts.shares, alone.shares)
    with pytest.raises(ValueError, match="lost_after_days"):
        kpis_and_cohorts(load(small), as_of=as_of, lost_after_days=0)


def test_small_cohorts_by_hand(engine: tuple[str, Loader], small: pd.DataFrame) -> None:
    _, load = engine
    c = cohort_retention(load(small), as_of=dt.date(2024, 4, 30))
    assert c.sizes.to_dict() == {
        dt.date(2024, 1, 1): 1,
        dt.date(2024, 2, 1): 1,
        dt.date(2024, 4, 1): 1,
    }
    assert c.counts.to_numpy().tolist() == [[1, 0, 1, 0], [1, 0, 0, 0], [1, 0, 0, 0]]
    np.testing.assert_array_equal(
        c.shares.to_numpy(),
        [[1, 0, 1, 0], [1, 0, 0, np.nan], [1, np.nan, np.nan, np.nan]],
    )


def test_partial_last_month_and_bad_window(small: pd.DataFrame, duck: Loader) -> None:
    k = monthly_kpis(duck(small), as_of=dt.date(2024, 4, 29))
    assert k["complete"].tolist() == [True, True, True, False]
    with pytest.raises(ValueError, match="lost_after_days"):
        monthly_kpis(duck(small), as_of=dt.date(2024, 4, 29), lost_after_days=0)


def reference_kpis(tx: pd.DataFrame, as_of: dt.date, window: int) -> pd.DataFrame:
    """An analyst's monthly KPIs in pandas (CDNOW: each row one order, no returns)."""
    df = tx.loc[tx["order_date"] <= as_of].copy()
    df["order_date"] = pd.to_datetime(df["order_date"])
    df["month"] = df["order_date"].dt.to_period("M")
    df["cents"] = np.round(df["amount"] * 100).astype(np.int64)
    days = (
        df.groupby(["customer_id", "order_date"])
        .size()
        .rename("orders")
        .reset_index()
        .sort_values(["customer_id", "order_date"])
    )
    days["month"] = days["order_date"].dt.to_period("M")
    by_customer = days.groupby("customer_id")["order_date"]
    days["gap"] = (days["order_date"] - by_customer.shift(1)).dt.days
    days["next_gap"] = (by_customer.shift(-1) - days["order_date"]).dt.days
    months = pd.period_range(df["month"].min(), pd.Period(as_of, "M"), freq="M")
    out = pd.DataFrame(index=months)
    out["active"] = days.groupby("month")["customer_id"].nunique()
    out["new"] = days.loc[days["gap"].isna()].groupby("month").size()
    out["reactivated"] = days.loc[days["gap"] > window].groupby("month").size()
    lapse = days.loc[days["next_gap"].isna() | (days["next_gap"] > window), "order_date"]
    lost_on = lapse + pd.Timedelta(days=window + 1)
    lost_on = lost_on.loc[lost_on <= pd.Timestamp(as_of)]
    out["lost"] = lost_on.dt.to_period("M").value_counts()
    # alive at the start of a month: last purchase before it at most W days before its eve
    at_start = []
    for month in months:
        start = month.start_time
        last = days.loc[days["order_date"] < start].groupby("customer_id")["order_date"].max()
        at_start.append(int((last >= start - pd.Timedelta(days=1 + window)).sum()))
    out["at_start"] = at_start
    active_sets = days.groupby("month")["customer_id"].agg(set)
    retained = [np.nan]
    for prev, cur in itertools.pairwise(months):
        before = active_sets.get(prev, set())
        now = active_sets.get(cur, set())
        retained.append(len(before & now) / len(before) if before else np.nan)
    out["retention"] = retained
    cm = days.groupby(["customer_id", "month"])["orders"].sum().reset_index()
    cm["cum"] = cm.groupby("customer_id")["orders"].cumsum()
    out["repeat"] = cm.loc[cm["cum"] >= 2].groupby("month").size()
    out["orders"] = days.groupby("month")["orders"].sum()
    out["cents"] = df.groupby("month")["cents"].sum()
    out["interval"] = days.groupby("month")["gap"].mean()
    out = out.fillna(
        {c: 0 for c in ("active", "new", "reactivated", "lost", "repeat", "orders", "cents")}
    )
    return out


def test_cdnow_kpis_match_reference(cdnow: pd.DataFrame, duck: Loader) -> None:
    # when
    ours = monthly_kpis(duck(cdnow), as_of=AS_OF, lost_after_days=90)
    ref = reference_kpis(cdnow, AS_OF, 90)
    # then
    assert len(ours) == 18 and ours["month"].iloc[0] == dt.date(1997, 1, 1)
    pairs = {
        "active_customers": "active",
        "new_customers": "new",
        "reactivated_customers": "reactivated",
        "lost_customers": "lost",
        "customers_at_start": "at_start",
        "repeat_customers": "repeat",
        "orders": "orders",
    }
    for ours_col, ref_col in pairs.items():
        np.testing.assert_array_equal(
            ours[ours_col], ref[ref_col].astype(np.int64), err_msg=ours_col
        )
    np.testing.assert_array_equal(ours["revenue"], ref["cents"] / 100)
    np.testing.assert_array_equal(ours["retention_rate"], ref["retention"])
    np.testing.assert_array_equal(ours["avg_interval_days"], ref["interval"])
    with np.errstate(invalid="ignore", divide="ignore"):
        churn = np.where(ref["at_start"] > 0, ref["lost"] / ref["at_start"], np.nan)
    np.testing.assert_array_equal(ours["churn_rate"], churn)
    np.testing.assert_array_equal(ours["repeat_purchase_rate"], ref["repeat"] / ref["active"])
    per = np.floor(ref["cents"] / ref["active"] + 0.5) / 100
    np.testing.assert_array_equal(ours["revenue_per_customer"], per)
    assert ours["new_customers"].sum() == 23_570  # CDNOW: everyone joined in Q1 1997
    assert ours["new_customers"].iloc[3:].sum() == 0


def test_cdnow_cohorts_match_crosstab(cdnow: pd.DataFrame, duck: Loader) -> None:
    # when
    c = cohort_retention(duck(cdnow), as_of=AS_OF)
    # then
    df = cdnow.assign(month=pd.to_datetime(cdnow["order_date"]).dt.to_period("M"))
    first = df.groupby("customer_id")["month"].transform("min")
    df["since"] = (df["month"] - first).apply(lambda offset: offset.n)
    df["cohort"] = first
    expected = df.groupby(["cohort", "since"])["customer_id"].nunique().unstack(fill_value=0)
    assert [d.strftime("%Y-%m") for d in c.counts.index] == ["1997-01", "1997-02", "1997-03"]
    np.testing.assert_array_equal(c.counts.to_numpy()[:, : expected.shape[1]], expected.to_numpy())
    np.testing.assert_array_equal(c.sizes.to_numpy(), [7846, 8476, 7248])
    assert np.isnan(c.shares.iloc[2, 16]) and not np.isnan(
        c.shares.iloc[2, 15]
    )  # Mar + 16 > Jun 98
    np.testing.assert_array_equal(c.shares.iloc[:, 0], 1.0)


def test_every_engine_agrees_on_rich_log(
    engine: tuple[str, Loader], cdnow_rich: pd.DataFrame, duck: Loader
) -> None:
    # given order ids, returns and decimal or float money on each engine
    _, load = engine
    table = load(cdnow_rich)
    # when / then: the same frames as DuckDB with float amounts, bit for bit
    pd.testing.assert_frame_equal(
        monthly_kpis(table, as_of=AS_OF, lost_after_days=60),
        monthly_kpis(duck(cdnow_rich), as_of=AS_OF, lost_after_days=60),
        check_exact=True,
    )
    ours, base = (
        cohort_retention(table, as_of=AS_OF),
        cohort_retention(duck(cdnow_rich), as_of=AS_OF),
    )
    pd.testing.assert_frame_equal(ours.counts, base.counts, check_exact=True)
    pd.testing.assert_frame_equal(ours.shares, base.shares, check_exact=True)
