"""The purchase models' fit rows: distinct rows with counts, on a coarser grid above a cap."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from patron.analytics.clv import MBGNBD
from patron.analytics.clv.simulate import simulate_mbgnbd
from patron.analytics.fit_rows import GRID_WIDTHS, fit_rows, on_grid


def _nearest(days: int, width: int) -> int:
    # an independent statement of the rule: the multiple of ``width`` nearest to ``days``,
    # half-way up
    return width * math.floor(Fraction(days, width) + Fraction(1, 2))


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


@pytest.mark.parametrize("width", GRID_WIDTHS)
def test_the_grid_is_the_nearest_multiple_of_its_width(width: int) -> None:
    days = np.arange(0, 2_000)
    assert on_grid(days, width).tolist() == [_nearest(int(d), width) for d in days]


def test_below_the_cap_the_rows_are_the_distinct_day_rows() -> None:
    # given customers whose distinct rows number fewer than the cap
    x, span, age = _customers(5_000, seed=1)
    rows = fit_rows((x, span, age), max_rows=10_000)
    # then the rows and counts are pandas' distinct rows and sizes, at day resolution
    expected = _grouped(pd.DataFrame({"c0": x, "c1": span, "c2": age, "count": 1.0}))
    assert rows.grid == "days"
    pd.testing.assert_frame_equal(_as_frame(rows), expected, check_dtype=False)


def _on_grid_by_pandas(columns: tuple[np.ndarray, ...], width: int) -> pd.DataFrame:
    x, span, age, *more = columns
    frame = {
        "c0": x,
        "c1": [_nearest(int(d), width) for d in span],
        "c2": [_nearest(int(d), width) for d in age],
        **{f"c{3 + i}": c for i, c in enumerate(more)},
        "count": 1.0,
    }
    return _grouped(pd.DataFrame(frame))


def test_above_the_cap_the_rows_are_on_the_finest_grid_within_it() -> None:
    # given customers with a further column (the holdout purchases), and the number of rows
    # each grid gives them (by pandas, from the independent rule)
    x, span, age = _customers(20_000, seed=2)
    holdout = np.random.default_rng(3).poisson(0.5, x.size)
    expected = {w: _on_grid_by_pandas((x, span, age, holdout), w) for w in GRID_WIDTHS}
    sizes = [len(expected[w]) for w in GRID_WIDTHS]
    assert sizes == sorted(sizes, reverse=True)
    names = {1: "days", 7: "weeks", 14: "2 weeks", 28: "4 weeks"}
    for chosen, cap in [(1, sizes[0]), (7, sizes[0] - 1), (7, sizes[1]), (14, sizes[1] - 1),
                        (28, sizes[2] - 1), (28, 0)]:  # fmt: skip
        # when the cap is just above, at or below a grid's rows
        rows = fit_rows((x, span, age, holdout), max_rows=cap)
        # then the finest grid within it is taken (the coarsest when none is), the rest kept
        assert rows.grid_days == chosen and rows.grid == names[chosen], cap
        pd.testing.assert_frame_equal(_as_frame(rows), expected[chosen], check_dtype=False)
        assert rows.weights.sum() == x.size
        assert (rows.columns[1] <= rows.columns[2]).all()  # t_x <= T survives the rounding


def test_rows_grouped_elsewhere_give_the_same_rows() -> None:
    # given the same customers, once one by one and once as distinct rows with counts (as
    # Spark hands them over, having decided the grid itself)
    x, span, age = _customers(20_000, seed=4)
    own = fit_rows((x, span, age), max_rows=1_000)
    frame = pd.DataFrame({"x": x, "s": span, "a": age}).value_counts().reset_index()
    columns = (frame["x"], frame["s"], frame["a"])
    grouped = fit_rows(columns, frame["count"].to_numpy(), grid_days=own.grid_days)
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


@pytest.mark.parametrize(("width", "tolerance"), [(7, 0.02), (14, 0.03), (28, 0.06)])
def test_a_fit_on_a_grid_recovers_nearly_the_same_parameters(width: int, tolerance: float) -> None:
    # given 60,000 customers drawn from an MBG/NBD with known parameters, in whole days
    rng = np.random.default_rng(11)
    age = rng.integers(30, 730, 60_000)
    truth = {"r": 0.5, "alpha": 5.0, "a": 0.6, "b": 3.0}
    x, recency, _t = simulate_mbgnbd(age / 7.0, **truth, seed=rng)
    span = np.minimum(np.round(recency * 7.0), age).astype(np.int64)
    exact = fit_rows((x, span, age), max_rows=10**9)
    coarse = fit_rows((x, span, age), grid_days=width)
    assert coarse.columns[0].size < exact.columns[0].size
    # when the model is fitted on each
    fits = [MBGNBD().fit(*rows.weeks(), weights=rows.weights) for rows in (exact, coarse)]
    # then the grid's parameters are near the exact fit's (measured: 0.2-0.5% on weeks, 0.6-2%
    # on 2 weeks, 2.6-4.9% on 4 weeks, where the exact fit's standard errors are 1.4-6%)
    for name, value in truth.items():
        on_days, on_grid = fits[0].params_[name], fits[1].params_[name]
        assert abs(on_grid - on_days) / on_days < tolerance, name
        assert abs(on_days - value) / value < 0.2, name


def test_a_grid_that_is_not_offered_is_refused() -> None:
    with pytest.raises(ValueError, match="grid_days"):
        fit_rows(([1], [1], [3]), grid_days=10)
