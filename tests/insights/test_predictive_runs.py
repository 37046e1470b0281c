"""Predictive value in stored runs: every score gets P(alive), CLV and a risk level, the run's
figures the fitted parameters, and the customer page shows them."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from django.test import Client
from typer.testing import CliRunner

from patron.analytics.predictive import predict_value
from patron.cli import app
from patron.customers.models import Customer
from patron.insights.models import AnalysisRun, CustomerScore, RunStatus
from patron.insights.prediction_inputs import predictive_inputs, repeat_days_by_day
from patron.insights.selectors import store_transactions

# The analysis reads the store on its own connection, so the data must be committed.
pytestmark = pytest.mark.django_db(transaction=True)
runner = CliRunner()


def invoke(*args: str) -> dict:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, f"{result.output} {result.exception!r}"
    return json.loads(result.stdout)


@pytest.fixture
def shop_file(tmp_path: Path) -> Path:
    """40 customers over a year: regular buyers, buyers who stopped, one-time buyers."""
    rows = ["order_id,customer_id,date,amount,status"]
    start = dt.date(2024, 1, 1)
    n = 0
    for c in range(40):
        visits = 1 if c % 4 == 0 else 2 + c % 7
        gap = 10 + 3 * (c % 5)
        first = start + dt.timedelta(days=c * 3)
        stop = 100 if c % 3 == 0 else 360  # a third stop buying early
        for v in range(visits):
            day = first + dt.timedelta(days=min(v * gap, stop))
            amount = 20 + (c * 7 + v * 13) % 90
            rows.append(f"O{n:05d},C{c:03d},{day},{amount:.2f},completed")
            n += 1
    rows.append(f"O{n:05d},C001,{start + dt.timedelta(days=40)},15.00,returned")
    path = tmp_path / "orders.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_a_run_stores_predictive_value_for_every_customer(shop_file: Path) -> None:
    # given the file imported into the store
    invoke("import", "transactions", str(shop_file))

    # when the store is analysed
    run = AnalysisRun.objects.get(pk=invoke("analyze", "--margin-rate", "0.4")["run"])

    # then every score has P(alive) in [0, 1], a CLV >= 0 and a risk level
    assert run.status == RunStatus.COMPLETED and run.customers == 40
    scores = list(CustomerScore.objects.filter(run=run).select_related("customer"))
    assert len(scores) == 40
    for s in scores:
        assert s.p_alive is not None and 0.0 <= s.p_alive <= 1.0, s.customer.external_id
        assert s.clv is not None and s.clv >= 0
        assert s.expected_purchases is not None and s.expected_purchases >= 0
        assert s.risk_level in {"high", "medium", "low"}
        assert 0.0 <= s.risk_score <= 1.0
        assert (s.risk_reasons_en == "") == (s.risk_reasons_zh == "")
    # the figures hold the parameters, the predicted value and the value at risk
    predictive = run.figures["predictive"]
    assert predictive["skipped"] is False
    chosen = predictive["model_choice"]["chosen"]
    assert chosen in {"mbgnbd", "paretonbd"} and predictive["params"]["purchase_model"] == chosen
    names = {"mbgnbd": {"r", "alpha", "a", "b"}, "paretonbd": {"r", "alpha", "s", "beta"}}
    assert set(predictive["params"][chosen]) == names[chosen]
    assert predictive["margin_rate"] == 0.4
    total = sum(float(s.clv) for s in scores)
    at_risk = sum(float(s.clv) for s in scores if s.risk_level == "high")
    assert predictive["predicted_value"] == pytest.approx(total, abs=0.01 * len(scores))
    assert predictive["value_at_risk"] == pytest.approx(at_risk, abs=0.01 * len(scores))
    assert sum(predictive["risk_levels"].values()) == 40
    # and the stored P(alive) is the model's on the inputs read from the store
    inputs = predictive_inputs(store_transactions(), as_of=run.as_of)
    again = predict_value(
        inputs["purchase_days"].to_numpy(),
        inputs["first_purchase"].to_numpy(),
        inputs["last_purchase"].to_numpy(),
        run.as_of,
        inputs["repeat_monetary"].to_numpy(),
        purchase_model=chosen,
    )
    expected = dict(zip(inputs["customer_id"], again.customers["p_alive"], strict=True))
    stored = {s.customer.external_id: s.p_alive for s in scores}
    np.testing.assert_allclose(
        [stored[k] for k in sorted(stored)], [expected[k] for k in sorted(stored)], atol=1e-9
    )
    one_time = inputs.loc[inputs["purchase_days"] == 1, "customer_id"]
    # a one-order customer is not alive for sure (the BG/NBD would say 1.0 for every one)
    assert len(one_time) and all(stored[c] < 1.0 for c in one_time)


def test_inputs_count_purchase_days_and_repeat_spend(shop_file: Path) -> None:
    invoke("import", "transactions", str(shop_file))

    inputs = predictive_inputs(store_transactions(), as_of=dt.date(2025, 1, 1))

    row = inputs.set_index("customer_id").loc["C001"]  # 3 visits, 13 days apart; the return
    assert row["purchase_days"] == 3  # the return is no purchase day
    assert row["first_purchase"] == np.datetime64("2024-01-04")
    assert row["last_purchase"] == np.datetime64("2024-01-30")
    assert row["repeat_monetary"] == pytest.approx(((7 + 13) % 90 + 20 + (7 + 26) % 90 + 20) / 2)


def test_the_customer_page_shows_the_risk_level(shop_file: Path, make_user: Any) -> None:
    invoke("import", "transactions", str(shop_file))
    first = AnalysisRun.objects.get(pk=invoke("analyze", "--as-of", "2024-07-01")["run"])
    latest = AnalysisRun.objects.get(pk=invoke("analyze")["run"])
    customer = Customer.objects.get(external_id="C003")  # stopped buying early
    score = CustomerScore.objects.get(run=latest, customer=customer)
    before = CustomerScore.objects.get(run=first, customer=customer)
    client = Client()
    client.force_login(make_user("boss", role="admin"))

    url = f"/customers/{customer.external_id}/"
    page = client.get(url, headers={"accept-language": "en"}).content.decode()
    page_zh = client.get(url, headers={"accept-language": "zh-hans"}).content.decode()

    assert f'data-risk="{score.risk_level}"' in page
    assert "P(alive)" in page and "Churn risk" in page and "Expected purchases" in page
    assert score.risk_reasons_en and score.risk_reasons_en.split("; ")[0] in page
    assert f"{100 * score.p_alive:.0f}%" in page and f"{100 * before.p_alive:.0f}%" in page
    assert "流失风险" in page_zh
    assert "历次分析的存活概率" in page_zh
    assert score.risk_reasons_zh and score.risk_reasons_zh.split("; ")[0] in page_zh


def test_the_value_panel_reads_every_run_in_three_queries(shop_file: Path, make_user: Any) -> None:
    from django.db import connection
    from django.test import RequestFactory
    from django.test.utils import CaptureQueriesContext
    from django.utils import translation

    from patron.web.panels import PanelContext, _value

    invoke("import", "transactions", str(shop_file))
    for as_of in ("2024-06-01", "2024-08-01", "2024-10-01"):
        invoke("analyze", "--as-of", as_of)
    customer = Customer.objects.get(external_id="C005")
    request = RequestFactory().get("/")
    request.user = make_user("boss", role="admin")

    with CaptureQueriesContext(connection) as queries, translation.override("en"):
        data = _value(PanelContext(request=request, customer=customer))

    # the latest two runs; the customer's scores across runs; and, live, the first purchase
    # after the latest run's date (the page says the figures are from before it)
    assert len(queries) == 3
    assert data["bought_since"] is None
    history = data["p_alive_history"]
    assert [h["as_of"] for h in history] == [
        dt.date(2024, 10, 1),
        dt.date(2024, 8, 1),
        dt.date(2024, 6, 1),
    ]
    assert data["risk_label"] in {"high", "medium", "low"}


@pytest.mark.parametrize("as_of", [dt.date(2024, 7, 1), dt.date(2025, 1, 1)])
def test_one_table_of_purchase_days_gives_what_each_grouping_gives_alone(
    shop_file: Path, as_of: dt.date
) -> None:
    # given the store's transactions (with order ids, a return, customers who stopped)
    from patron.analytics.kpis import kpis_and_cohorts
    from patron.analytics.report import AnalysisSettings
    from patron.insights.runs import kpis_and_inputs

    invoke("import", "transactions", str(shop_file))
    transactions = store_transactions()

    # when the KPIs and the predictions' inputs are read off one materialised table
    shared_kpis, shared_inputs = kpis_and_inputs(
        transactions, as_of=as_of, settings=AnalysisSettings()
    )
    assert shared_kpis is not None

    # then each equals its own grouping of the transactions
    kpis, cohorts = kpis_and_cohorts(transactions, as_of=as_of)
    pd.testing.assert_frame_equal(shared_kpis[0], kpis)
    pd.testing.assert_frame_equal(shared_kpis[1].counts, cohorts.counts)
    alone = predictive_inputs(transactions, as_of=as_of)
    order = ["customer_id"]
    pd.testing.assert_frame_equal(
        shared_inputs.sort_values(order).reset_index(drop=True),
        alone.sort_values(order).reset_index(drop=True),
    )
    pd.testing.assert_frame_equal(
        shared_inputs.attrs["repeat_by_day"].sort_values("day").reset_index(drop=True),
        alone.attrs["repeat_by_day"].sort_values("day").reset_index(drop=True),
    )
    # and without the KPIs the inputs are still there
    none, inputs = kpis_and_inputs(transactions, as_of=as_of, settings=AnalysisSettings(kpis=False))
    assert none is None and len(inputs) == len(alone)


def test_repeat_days_by_day_are_the_purchase_days_that_are_not_a_first() -> None:
    # purchase days of customers a (days 1, 3, 4), b (3, 4) and c (4, 9): by pandas, the
    # days after each customer's first, counted by day
    days = pd.DataFrame({"customer": list("aaabbcc"), "day": [1, 3, 4, 3, 4, 4, 9]})
    first = days.groupby("customer")["day"].transform("min")
    expected = days[days["day"] != first].groupby("day").size()
    per_day = days.groupby("day").size()
    births = days.groupby("customer")["day"].min().value_counts()  # days 1, 3 and 4

    repeat_day, repeats = repeat_days_by_day(
        (per_day.index.to_numpy(), per_day.to_numpy()),
        (births.index.to_numpy()[::-1], births.to_numpy()[::-1]),  # in any order
    )

    assert repeat_day.tolist() == expected.index.tolist() == [3, 4, 9]  # day 1: a first only
    assert repeats.tolist() == expected.tolist() == [1, 2, 1]
