"""The rows the purchase models are fitted on: distinct rows with their customer counts, on a
weekly grid when there are too many of them at day resolution.

The purchase models' likelihoods depend on a customer only through (x, t_x, T), so customers
with the same row are fitted once, weighted by their count. At day resolution the distinct
rows grow with the customers (92,870 at 100,000 customers over two years, 723,548 at a
million), and with them the fits' time and the memory of the process that fits them: on
Spark, the driver. On a weekly grid (t_x and T rounded to whole weeks) they are bounded by
the grid instead, about ``x_max × 105 × 105 / 2`` over two years, whatever the number of
customers. Above :data:`FIT_MAX_ROWS` distinct rows the fits use the grid; below it (every
shop-sized data set) they are exact. Either way each customer is scored on their own days.

The rule is stated in whole days so that every engine applies it identically: numpy here,
Spark's SQL in :mod:`patron.insights.spark_predict`, and both fit the same rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from patron.analytics.clv import compress_rows

__all__ = ["FIT_MAX_ROWS", "FitRows", "Grid", "fit_rows", "week_grid"]

#: Most distinct (x, t_x, T) rows fitted at day resolution; above it the fits use weeks.
FIT_MAX_ROWS = 250_000

Grid = Literal["days", "weeks"]


def week_grid(days: NDArray[np.int64]) -> NDArray[np.int64]:
    """Whole days (>= 0) rounded to the nearest whole week, still in days: ``7·⌊(d+3)/7⌋``.

    A whole number of days is never half-way between two weeks, so there is no tie to break.
    """
    return np.asarray(7 * ((days + 3) // 7), dtype=np.int64)


@dataclass(frozen=True)
class FitRows:
    """Distinct rows, their customer counts and the grid they are on.

    ``columns``: repeat purchases (x), days from the first to the last purchase, days from the
    first purchase to the end, then any further columns given, as given.
    """

    columns: tuple[NDArray[np.int64], ...]
    weights: NDArray[np.float64]
    grid: Grid

    def weeks(self) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """(x, t_x, T) as the models take them: t_x and T in weeks."""
        x, span, age = self.columns[:3]
        return x.astype(np.float64), span / 7.0, age / 7.0


def fit_rows(
    columns: Sequence[ArrayLike],
    weights: ArrayLike | None = None,
    *,
    weekly: bool | None = None,
    max_rows: int | None = None,
) -> FitRows:
    """The distinct rows of ``columns`` (x, span days, age days, then further integer columns)
    with their counts; on the weekly grid when they number more than ``max_rows`` (default
    :data:`FIT_MAX_ROWS`), or when
    ``weekly`` says so (an engine that grouped the customers itself and already decided).

    ``weights``: customers per row, when the rows given are already grouped.

    Raises
    ------
    ValueError
        Columns of different lengths, or days that are negative or not whole.
    """
    arrays = [np.asarray(c) for c in columns]
    if len(arrays) < 3:
        raise ValueError("fit_rows needs at least x, span days and age days")
    n = arrays[0].shape[0]
    for array in arrays:
        if array.shape != (n,):
            raise ValueError(f"every column must have shape ({n},), got {array.shape}")
    for name, array in zip(("x", "span days", "age days"), arrays[:3], strict=True):
        if array.size and (not np.array_equal(array, np.round(array)) or np.min(array) < 0):
            raise ValueError(f"{name} must be whole numbers >= 0")
    ints = [np.asarray(a, dtype=np.int64) for a in arrays]
    w = None if weights is None else np.asarray(weights, dtype=np.float64)
    distinct, counts = compress_rows([a.astype(np.float64) for a in ints], w)
    if weekly is None:
        weekly = distinct[0].shape[0] > (FIT_MAX_ROWS if max_rows is None else max_rows)
    if weekly:
        grid = (week_grid(d.astype(np.int64)).astype(np.float64) for d in distinct[1:3])
        distinct, counts = compress_rows([distinct[0], *grid, *distinct[3:]], counts)
    return FitRows(
        columns=tuple(np.asarray(c, dtype=np.int64) for c in distinct),
        weights=np.asarray(counts, dtype=np.float64),
        grid="weeks" if weekly else "days",
    )
