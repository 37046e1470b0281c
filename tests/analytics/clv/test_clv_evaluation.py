"""Holdout evaluation, tracking curve and model choice."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from clv_support import quiet

from patron.analytics.clv import (
    BGNBD,
    MBGNBD,
    ParetoNBD,
    calibration_holdout_split,
    holdout_score,
    select_model,
    tracking_curve,
)


@pytest.fixture(scope="module")
def transactions() -> tuple[np.ndarray, np.ndarray]:
    with quiet():
        from lifetimes.datasets import load_dataset

        df = load_dataset("CDNOW_sample.txt", header=None, sep=r"\s+")
    dates = pd.to_datetime(df[2].astype(str), format="%Y%m%d").to_numpy()
    return df[0].to_numpy(), dates


@pytest.fixture(scope="module")
def split(transactions):
    ids, dates = transactions
    return calibration_holdout_split(
        ids, dates, calibration_end="1997-09-30", observation_end="1998-06-30", unit="weeks"
    )


def test_holdout_score_compares_predictions_with_actual_purchases(split) -> None:
    cal = split.calibration
    model = BGNBD().fit(cal.frequency, cal.recency, cal.T)
    score = holdout_score(model, split)
    predicted = model.expected_purchases(split.duration_holdout, cal.frequency, cal.recency, cal.T)
    err = predicted - split.frequency_holdout
    assert score.model == "BGNBD"
    assert score.n_customers == 2357
    assert score.mae == pytest.approx(np.mean(np.abs(err)))
    assert score.rmse == pytest.approx(np.sqrt(np.mean(err**2)))
    assert score.actual_total == split.frequency_holdout.sum()
    # the BG/NBD forecasts CDNOW's holdout well in aggregate (Fader, Hardie & Lee 2005)
    assert score.predicted_total == pytest.approx(score.actual_total, rel=0.15)


def test_select_model_ranks_models_and_reports_failures(split) -> None:
    candidates = [BGNBD(), ParetoNBD(), MBGNBD(), BGNBD(max_iter=1)]
    choice = select_model(candidates, split, metric="mae")
    names = [s.model for s in choice.scores]
    assert sorted(names) == ["BGNBD", "MBGNBD", "ParetoNBD"]
    maes = [s.mae for s in choice.scores]
    assert maes == sorted(maes)
    assert type(choice.best).__name__ == names[0]
    assert list(choice.failures) == ["BGNBD#3"]
    assert not hasattr(candidates[0], "params_")  # the estimators passed in are untouched
    with pytest.raises(ValueError, match="metric"):
        select_model(candidates, split, metric="mape")  # type: ignore[arg-type]


def test_tracking_curve_follows_the_actual_repeat_purchases(transactions, split) -> None:
    ids, dates = transactions
    cal = split.calibration
    model = BGNBD().fit(cal.frequency, cal.recency, cal.T)
    curve = tracking_curve(model, ids, dates, period_days=7, unit="weeks", end="1998-06-30")
    assert curve.period_end[0] == np.datetime64("1997-01-07")
    assert curve.actual.shape == curve.expected.shape == (78,)
    assert np.all(np.diff(curve.actual) >= 0) and np.all(np.diff(curve.expected) >= 0)
    assert curve.actual_per_period.sum() == curve.actual[-1]
    # calibration period (first 39 weeks) and holdout both tracked within 10% cumulatively
    assert curve.expected[38] == pytest.approx(curve.actual[38], rel=0.1)
    assert curve.expected[-1] == pytest.approx(curve.actual[-1], rel=0.1)
    # same counting as the summary: repeat purchase days
    summary_total = split.calibration.frequency.sum()
    assert (
        curve.actual[np.searchsorted(curve.period_end, np.datetime64("1997-09-30"))]
        >= summary_total
    )
