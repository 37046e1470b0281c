"""The purchase models' fit rows: distinct rows with counts, on a weekly grid above a cap."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from patron.analytics.clv import MBGNBD
from patron.analytics.clv.simulate import simulate_mbgnbd
from patron.analytics.fit_rows import fit_rows, week_grid


def _nearest_week(days: int) -> int:
    # an independent statement of the rule: the multiple of 7 nearest to ``days``
    return 7 * round(Fraction(days, 7))


def _customers(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    age = rng.integers(0, 730, n)
    x = rng.poisson(2.0, n)
    span = np.where(x > 0, np.floor(rng.random(n) * (age + 1)).astype(np.int64), 0)
    return x, span, age


def _grouped(frame: pd.DataFrame) -> pd.DataFrame:
    keys = list(frame.columns[:-1])
    out = frame.groupby(keys, as_index=False)["count"].sum()
    return out.sort_values(keys, ignore_index=True)


def _as_frame(rows: object) -> pd.DataFrame:
    columns = {f"c{i}": c for i, c in enumerate(rows.columns)}  # type: ignore[attr-defined]
    return pd.DataFrame({**columns, "count": rows.weights})  # type: ignore[attr-defined]


def test_week_grid_is_the_nearest_whole_week() -> None:
    days = np.arange(0, 2_000)
    assert week_grid(days).tolist() == [_nearest_week(int(d)) for d in days]


def test_below_the_cap_the_rows_are_the_distinct_day_rows() -> None:
    # given customers whose distinct rows number fewer than the cap
    x, span, age = _customers(5_000, seed=1)
    rows = fit_rows((x, span, age), max_rows=10_000)
    # then the rows and counts are pandas' distinct rows and sizes, at day resolution
    expected = _grouped(pd.DataFrame({"c0": x, "c1": span, "c2": age, "count": 1.0}))
    assert rows.grid == "days"
    pd.testing.assert_frame_equal(_as_frame(rows), expected, check_dtype=False)


def test_above_the_cap_the_rows_are_on_the_weekly_grid() -> None:
    # given more distinct rows than the cap, and a further column (the holdout purchases)
    x, span, age = _customers(20_000, seed=2)
    holdout = np.random.default_rng(3).poisson(0.5, x.size)
    rows = fit_rows((x, span, age, holdout), max_rows=1_000)
    # then span and age are rounded to the nearest week, the rest kept, and customers counted
    weekly = pd.DataFrame(
        {
            "c0": x,
            "c1": [_nearest_week(int(d)) for d in span],
            "c2": [_nearest_week(int(d)) for d in age],
            "c3": holdout,
            "count": 1.0,
        }
    )
    assert rows.grid == "weeks"
    pd.testing.assert_frame_equal(_as_frame(rows), _grouped(weekly), check_dtype=False)
    assert rows.weights.sum() == x.size
    assert (rows.columns[1] <= rows.columns[2]).all()  # t_x <= T survives the rounding


def test_rows_grouped_elsewhere_give_the_same_rows() -> None:
    # given the same customers, once one by one and once as distinct rows with counts (as
    # Spark hands them over, having decided the grid itself)
    x, span, age = _customers(20_000, seed=4)
    own = fit_rows((x, span, age), max_rows=1_000)
    frame = pd.DataFrame({"x": x, "s": span, "a": age}).value_counts().reset_index()
    grouped = fit_rows((frame["x"], frame["s"], frame["a"]), frame["count"].to_numpy(), weekly=True)
    # then both give the same rows and counts
    pd.testing.assert_frame_equal(_as_frame(grouped), _as_frame(own))


@pytest.mark.parametrize(
    ("columns", "match"),
    [
        (([1], [-1], [3]), "span days"),
        (([1], [1.5], [3]), "span days"),
        (([0.5], [1], [3]), "x must"),
        (([1, 2], [1], [3]), "shape"),
    ],
)
def test_bad_rows_are_refused(columns: tuple[list[float], ...], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        fit_rows(columns)


def test_a_fit_on_the_weekly_grid_recovers_the_same_parameters() -> None:
    # given 60,000 customers drawn from an MBG/NBD with known parameters, in whole days
    rng = np.random.default_rng(11)
    age = rng.integers(30, 730, 60_000)
    truth = {"r": 0.5, "alpha": 5.0, "a": 0.6, "b": 3.0}
    x, recency, _t = simulate_mbgnbd(age / 7.0, **truth, seed=rng)
    span = np.minimum(np.round(recency * 7.0), age).astype(np.int64)
    exact = fit_rows((x, span, age), max_rows=10**9)
    weekly = fit_rows((x, span, age), max_rows=0)
    assert weekly.columns[0].size < exact.columns[0].size
    # when the model is fitted on each
    fits = [MBGNBD().fit(*rows.weeks(), weights=rows.weights) for rows in (exact, weekly)]
    # then the weekly fit's parameters are within 2% of the exact fit's (measured: 0.2-0.5%,
    # where the exact fit's standard errors are 1.4-6%), and both near the truth
    for name, value in truth.items():
        on_days, on_weeks = fits[0].params_[name], fits[1].params_[name]
        assert abs(on_weeks - on_days) / on_days < 0.02, name
        assert abs(on_days - value) / value < 0.2, name
