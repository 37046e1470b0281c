"""The prediction charts against independent computations: the P(alive) grid against pandas on
the stored scores; the holdout calibration and the tracking curve against lifetimes and pandas
on the purchases the test itself generated (not read back through Patron's code)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest
from django.test import Client

from patron.customers.models import Customer
from patron.insights.models import CustomerScore
from patron.insights.prediction_inputs import HOLDOUT_DAYS
from patron.insights.predictions import MAX_FREQUENCY, holdout_check
from patron.insights.services import analysis_run_create
from patron.sales.models import Order

# The analysis and the holdout check read the store on their own connection: commit the data.
pytestmark = pytest.mark.django_db(transaction=True)

AS_OF = dt.date(2024, 6, 30)
START = dt.date(2023, 1, 2)


def _simulate(n: int, seed: int) -> pd.DataFrame:
    """BG/NBD purchase histories, event by event: (customer_id, date, status) rows."""
    rng = np.random.default_rng(seed)
    end = (AS_OF - START).days
    rows = []
    for c in range(n):
        rate = rng.gamma(0.9, 1 / 2.5) / 7  # purchases per day
        drop = rng.beta(0.7, 3.0)
        day = float(rng.integers(0, 180))
        days = [day]
        while True:
            day += rng.exponential(1 / rate)
            if day > end + 60:
                break
            days.append(day)
            if rng.random() < drop:
                break
        for k, d in enumerate(days):
            date = START + dt.timedelta(days=int(d))
            rows.append((f"C{c:04d}", date, "completed"))
            if k == 0 and c % 9 == 0:  # a second order on the same day is no extra purchase
                rows.append((f"C{c:04d}", date, "completed"))
        if c % 13 == 0:  # cancelled orders are no purchases
            rows.append((f"C{c:04d}", START + dt.timedelta(days=int(day) % end), "cancelled"))
    return pd.DataFrame(rows, columns=["customer_id", "date", "status"])


def _load(frame: pd.DataFrame) -> None:
    customers = {
        cid: Customer.objects.create(external_id=cid) for cid in sorted(frame.customer_id.unique())
    }
    Order.objects.bulk_create(
        Order(
            customer=customers[row.customer_id],
            external_id=f"O{i}",
            ordered_on=row.date,
            ordered_at=dt.datetime(row.date.year, row.date.month, row.date.day, 9, tzinfo=dt.UTC),
            amount=Decimal("20.00") + i % 50,
            status=row.status,
        )
        for i, row in enumerate(frame.itertuples())
    )


@pytest.fixture
def shop() -> pd.DataFrame:
    frame = _simulate(500, seed=11)
    _load(frame)
    return frame


@pytest.fixture
def analyst(make_user: Any) -> Client:
    client = Client()
    client.force_login(make_user("ann", "analyst"))
    return client


def _purchases(frame: pd.DataFrame) -> pd.DataFrame:
    """The purchase days up to AS_OF, straight from the generated rows."""
    bought = frame[(frame.status == "completed") & (frame.date <= AS_OF)]
    return bought[["customer_id", "date"]].drop_duplicates().reset_index(drop=True)


def test_p_alive_grid_matches_pandas_on_the_stored_scores(shop: pd.DataFrame, analyst: Client):
    # given a run of the store
    run, _ = analysis_run_create(as_of=AS_OF)

    # when the page opens
    page = analyst.get("/reports/predictions/", headers={"accept-language": "en"}).content.decode()

    # then every cell of the grid is pandas' mean P(alive) and count over the same bins
    scores = pd.DataFrame.from_records(
        CustomerScore.objects.filter(run=run, p_alive__isnull=False).values(
            "frequency", "recency_days", "p_alive"
        )
    )
    scores["f"] = pd.cut(scores.frequency, [0, 1, 2, 3, 5, 9, np.inf], labels=False)
    scores["r"] = pd.cut(scores.recency_days, [-1, 30, 60, 90, 180, 365, np.inf], labels=False)
    expected = scores.groupby(["f", "r"]).p_alive.agg(["mean", "count"])
    rows = ["1", "2", "3", "4–5", "6–9", "10+"]
    columns = ["0–30", "31–60", "61–90", "91–180", "181–365", "366+"]
    cells = re.findall(
        r'data-row="([^"]+)" data-column="([^"]+)" data-value="([^"]+)" data-count="(\d+)"', page
    )
    shown = {(rows.index(r), columns.index(c)): (float(v), int(n)) for r, c, v, n in cells}
    assert set(shown) == set(expected.index)
    for (f, r), (mean, count) in expected.iterrows():
        assert shown[(f, r)][0] == pytest.approx(mean, rel=1e-9), (f, r)
        assert shown[(f, r)][1] == count, (f, r)
    assert sum(n for _v, n in shown.values()) == len(scores) > 400


def _lifetimes_model(name: str, params: dict[str, float]) -> Any:
    from lifetimes import ModifiedBetaGeoFitter, ParetoNBDFitter

    model = {"mbgnbd": ModifiedBetaGeoFitter, "paretonbd": ParetoNBDFitter}[name]()
    model.params_ = pd.Series(params)
    return model


def test_holdout_calibration_and_tracking_match_lifetimes(shop: pd.DataFrame) -> None:
    from lifetimes.utils import calibration_and_holdout_data

    # when the run is made, it keeps its model choice and holdout check
    run, _ = analysis_run_create(as_of=AS_OF)
    cal_end = AS_OF - dt.timedelta(days=HOLDOUT_DAYS)
    check = holdout_check(run=run)
    assert check is not None and check.skipped is None

    # then the calibration summary and the fit agree with lifetimes on the generated purchases
    purchases = _purchases(shop)
    purchases["date"] = pd.to_datetime(purchases.date)
    summary = calibration_and_holdout_data(
        purchases,
        "customer_id",
        "date",
        calibration_period_end=pd.Timestamp(cal_end),
        observation_period_end=pd.Timestamp(AS_OF),
        freq="D",
        freq_multiplier=7,
    )
    assert check.calibration_end == cal_end and check.customers == len(summary)
    assert check.penalizer == 0.0
    # the chosen model is the candidate of the lowest holdout RMSE, and one that lets a
    # one-order customer leave
    assert check.chosen in {"mbgnbd", "paretonbd"}
    assert {s.model for s in check.scores} == {"mbgnbd", "paretonbd"}
    assert min(check.scores, key=lambda s: s.rmse).model == check.chosen

    # the holdout by calibration frequency: lifetimes' prediction with our parameters, grouped
    ours = _lifetimes_model(check.chosen, check.params)
    summary["predicted"] = ours.conditional_expected_number_of_purchases_up_to_time(
        summary.duration_holdout, summary.frequency_cal, summary.recency_cal, summary.T_cal
    )
    summary["bin"] = summary.frequency_cal.clip(upper=MAX_FREQUENCY).astype(int)
    grouped = summary.groupby("bin").agg(
        n=("predicted", "size"),
        predicted=("predicted", "mean"),
        actual=("frequency_holdout", "mean"),
    )
    assert check.frequency == grouped.index.tolist()
    assert check.frequency_customers == grouped.n.tolist()
    np.testing.assert_allclose(check.frequency_expected, grouped.predicted, rtol=1e-6)
    np.testing.assert_allclose(check.frequency_actual, grouped.actual, rtol=1e-12)
    error = summary.predicted - summary.frequency_holdout
    assert check.mae == pytest.approx(error.abs().mean(), rel=1e-6)
    assert check.rmse == pytest.approx(np.sqrt((error**2).mean()), rel=1e-6)
    assert check.actual_total == summary.frequency_holdout.sum()

    # the tracking curve: weeks from the first purchase; repeat purchase days counted by pandas,
    # expected ones from lifetimes' unconditional expectation at each customer's age
    first_day = purchases.date.min().date()
    week_ends = [
        first_day + dt.timedelta(days=6 + 7 * k) for k in range(((AS_OF - first_day).days + 1) // 7)
    ]
    assert check.week_end == week_ends
    order = purchases.sort_values(["customer_id", "date"])
    is_first = ~order.customer_id.duplicated()
    births = order[is_first].date.dt.date
    repeats = order[~is_first].date.dt.date
    actual = [int((repeats <= e).sum()) for e in week_ends]
    expected = [
        float(
            ours.expected_number_of_purchases_up_to_time(
                np.array([(e - b).days / 7 for b in births if b <= e])
            ).sum()
        )
        for e in week_ends
    ]
    assert check.tracking_actual == actual
    np.testing.assert_allclose(check.tracking_expected, expected, rtol=1e-6)


def test_the_page_draws_the_holdout_figures_the_run_stored(
    shop: pd.DataFrame, analyst: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    run, _ = analysis_run_create(as_of=AS_OF)
    check = holdout_check(run=run)
    assert check is not None

    # when the page opens, no model is fitted
    from patron.analytics.clv import base

    def no_fit(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the page fitted a model")

    monkeypatch.setattr(base._CountModel, "fit", no_fit)
    page = analyst.get("/reports/predictions/", headers={"accept-language": "en"}).content.decode()
    page_zh = analyst.get(
        "/reports/predictions/", headers={"accept-language": "zh-hans"}
    ).content.decode()

    # the model chosen and each candidate's holdout error are named
    chosen = re.search(r'<tr data-model="(\w+)" class="chosen">(.*?)</tr>', page, re.S)
    assert chosen is not None and chosen.group(1) == check.chosen
    assert f"{check.rmse:.4f}" in chosen.group(2) and check.label in page
    assert check.label in page_zh and "留出" in page_zh

    # the calibration table and chart carry the check's figures
    for f, n, expected, actual in zip(
        check.frequency,
        check.frequency_customers,
        check.frequency_expected,
        check.frequency_actual,
        strict=True,
    ):
        row = re.search(rf'<tr data-frequency="{f}">(.*?)</tr>', page, re.S)
        assert row is not None, f
        cells = re.findall(r'<td class="num">([^<]+)</td>', row.group(1))
        assert cells == [f"{n:,}", f"{expected:.3f}", f"{actual:.3f}"], f
    calibration = page.split('id="calibration"')[1].split('id="tracking"')[0]
    points = re.findall(r'data-series="(\w+)" data-month="[^"]*" data-value="([^"]+)"', calibration)
    assert [float(v) for s, v in points if s == "actual"] == check.frequency_actual
    tracking = page.split('id="tracking"')[1]
    points = re.findall(r'data-series="(\w+)" data-month="([^"]*)" data-value="([^"]+)"', tracking)
    weeks = [m for s, m, _v in points if s == "actual"]
    assert weeks == [d.isoformat() for d in check.week_end]
    assert [float(v) for s, _m, v in points if s == "expected"] == pytest.approx(
        check.tracking_expected, rel=1e-12
    )


def test_a_short_history_says_why_there_is_no_holdout(analyst: Client) -> None:
    frame = _simulate(60, seed=3)
    frame = frame[frame.date <= START + dt.timedelta(days=100)]
    _load(frame)
    analysis_run_create(as_of=START + dt.timedelta(days=100))

    page = analyst.get("/reports/predictions/", headers={"accept-language": "en"}).content.decode()

    assert 'id="holdout-error"' in page and "too short to keep 91 days apart" in page
    assert "MBG/NBD" in page
    assert 'id="p-alive-grid"' in page and "data-count=" in page


def test_without_a_run_the_page_says_what_to_do(analyst: Client) -> None:
    page = analyst.get("/reports/predictions/", headers={"accept-language": "en"})
    assert page.status_code == 200 and "patron analyze" in page.content.decode()
