"""Churn risk, RFM segment and P(alive) do not contradict each other, on the demo's stored
run and on the CDNOW log: no "Lost" or "At risk" customer silent for more than a year is of
"low" churn risk, and a one-order customer is never alive for sure."""

from __future__ import annotations

from pathlib import Path

import lifetimes
import numpy as np
import pandas as pd
import pytest

CDNOW = Path(lifetimes.__file__).parent / "datasets" / "CDNOW_master.txt"
SILENT_DAYS = 365


def _contradictions(frame: pd.DataFrame) -> pd.DataFrame:
    """Customers of a lapsed segment, silent for over a year, called low risk."""
    lapsed = frame["segment"].isin(["lost", "at_risk"])
    return frame[lapsed & (frame["recency_days"] > SILENT_DAYS) & (frame["risk_level"] == "low")]


def _check(frame: pd.DataFrame) -> None:
    assert len(frame) > 0
    assert _contradictions(frame).empty
    one = frame[frame["frequency"] == 1]
    # one-order customers: P(alive) below 1, and lower after a long silence than a short one
    assert len(one) and (one["p_alive"] < 1.0).all()
    long_ago = one.loc[one["recency_days"] > SILENT_DAYS, "p_alive"]
    recent = one.loc[one["recency_days"] <= 90, "p_alive"]
    if len(long_ago) and len(recent):
        assert long_ago.mean() < recent.mean()
    # the value at risk is (1 - P(alive)) x CLV if alive, never negative
    assert (frame["value_at_risk"].astype(float) >= 0).all()


@pytest.mark.django_db(transaction=True)
def test_the_demos_stored_run_agrees_with_itself() -> None:
    from patron.demo.loader import demo_load
    from patron.insights.models import CustomerScore
    from patron.insights.selectors import analysis_run_latest

    # given the demo business with its stored runs
    demo_load(customers=600, seed=7)
    run = analysis_run_latest()
    assert run is not None

    # then the run chose a model in which a one-order customer can have left, on a holdout
    predictive = run.figures["predictive"]
    choice = predictive["model_choice"]
    assert choice["chosen"] in {"mbgnbd", "paretonbd"} and "skipped" not in choice
    assert {s["model"] for s in choice["scores"]} == {"mbgnbd", "paretonbd"}
    assert choice["scores"][0]["model"] == choice["chosen"]
    assert predictive["params"]["gammagamma_skipped"] is None
    # and no stored score contradicts itself
    frame = pd.DataFrame.from_records(
        CustomerScore.objects.filter(run=run, p_alive__isnull=False).values(
            "segment", "recency_days", "frequency", "risk_level", "p_alive", "value_at_risk"
        )
    )
    _check(frame)


def test_cdnow_agrees_with_itself_and_every_customer_has_a_clv() -> None:
    from patron.insights.runs import analyze_file

    # given the CDNOW log, whose one customer with a $0.00 repeat purchase used to make the
    # spend model fail ("recency must be 0 where frequency is 0") and every CLV fall back
    raw = pd.read_csv(CDNOW, sep=r"\s+", header=0, names=["c", "d", "n", "amount"])
    assert ((raw.groupby("c").size() > 1) & (raw.groupby("c").amount.min() == 0)).any()

    # when it is analysed
    result = analyze_file(CDNOW)

    # then the spend model was fitted, every customer has a finite CLV, and nothing
    # contradicts itself
    predictive = result.analysis.figures["predictive"]
    assert predictive["params"]["gammagamma_skipped"] is None
    assert predictive["params"]["clv_basis"] == "gammagamma"
    assert predictive["model_choice"]["chosen"] in {"mbgnbd", "paretonbd"}
    frame = result.analysis.customers
    assert np.isfinite(frame["clv"].astype(float)).all()
    _check(frame)
