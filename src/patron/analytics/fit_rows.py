"""The rows the purchase models are fitted on: distinct rows with their customer counts, on a
coarser grid of days when there are too many of them at day resolution.

The purchase models' likelihoods depend on a customer only through (x, t_x, T), so customers
with the same row are fitted once, weighted by their count. At day resolution the distinct
rows grow with the customers (92,870 at 100,000 customers over two years, 723,548 at a
million), and with them the fits' time and the memory of the process that fits them: on
Spark, the driver. On a grid of whole weeks (t_x and T rounded to the nearest week) they grow
far more slowly, and on a grid of 2 or 4 weeks more slowly still. The fits take the finest
grid of :data:`GRID_WIDTHS` on which there are at most :data:`FIT_MAX_ROWS` rows, so the rows,
and the fitting process's memory, stay bounded whatever the number of customers (on the
4-week grid, by the grid itself: about ``x_max × 27 × 27 / 2`` rows over two years). Below the cap
(every shop-sized data set) the fits are exact. Either way each customer is scored on their
own days.

The rule is stated in whole days so that every engine applies it identically: numpy here,
Spark's SQL in :mod:`patron.insights.spark_predict`, and both fit the same rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from patron.analytics.clv import compress_rows

__all__ = ["FIT_MAX_ROWS", "GRID_WIDTHS", "FitRows", "fit_rows", "grid_name", "on_grid"]

#: Most distinct (x, t_x, T) rows the purchase models are fitted on; above it, a coarser grid.
FIT_MAX_ROWS = 250_000

#: The grids tried, finest first, as their width in days: days, weeks, 2 and 4 weeks. Coarser
#: grids move the parameters too far over two years of data (on 60,000 simulated MBG/NBD
#: customers: 0.2-0.5% on weeks, 0.6-2% on 2 weeks, 2.6-4.9% on 4 weeks, 12-20% on 8 weeks).
GRID_WIDTHS = (1, 7, 14, 28)


def on_grid(days: NDArray[np.int64], width: int) -> NDArray[np.int64]:
    """Whole days (>= 0) rounded to the nearest multiple of ``width`` days, in days:
    ``width·⌊(d + ⌊width/2⌋)/width⌋``. Half-way (even widths only) rounds up."""
    return np.asarray(width * ((days + width // 2) // width), dtype=np.int64)


def grid_name(width: int) -> str:
    """How runs record a grid: ``days``, ``weeks``, then ``2 weeks``, ``4 weeks``..."""
    if width == 1:
        return "days"
    if width == 7:
        return "weeks"
    if width % 7:
        raise ValueError(f"a fit grid is days or whole weeks, not {width} days")
    return f"{width // 7} weeks"


@dataclass(frozen=True)
class FitRows:
    """Distinct rows, their customer counts and the grid they are on.

    ``columns``: repeat purchases (x), days from the first to the last purchase, days from the
    first purchase to the end, then any further columns given, as given. ``grid_days``: the
    grid's width in days (1: exact).
    """

    columns: tuple[NDArray[np.int64], ...]
    weights: NDArray[np.float64]
    grid_days: int

    @property
    def grid(self) -> str:
        return grid_name(self.grid_days)

    def weeks(self) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """(x, t_x, T) as the models take them: t_x and T in weeks."""
        x, span, age = self.columns[:3]
        return x.astype(np.float64), span / 7.0, age / 7.0


def fit_rows(
    columns: Sequence[ArrayLike],
    weights: ArrayLike | None = None,
    *,
    grid_days: int | None = None,
    max_rows: int | None = None,
) -> FitRows:
    """The distinct rows of ``columns`` (x, span days, age days, then further integer columns)
    with their counts, on the finest grid of :data:`GRID_WIDTHS` with at most ``max_rows``
    rows (default :data:`FIT_MAX_ROWS`; the coarsest grid if none is), or on ``grid_days``
    when given (an engine that grouped the customers itself and already chose the grid).

    ``weights``: customers per row, when the rows given are already grouped.

    Raises
    ------
    ValueError
        Columns of different lengths, days that are negative or not whole, or a grid that is
        not one of :data:`GRID_WIDTHS`.
    """
    arrays = [np.asarray(c) for c in columns]
    if len(arrays) < 3:
        raise ValueError("fit_rows needs at least x, span days and age days")
    if grid_days is not None and grid_days not in GRID_WIDTHS:
        raise ValueError(f"grid_days must be one of {GRID_WIDTHS}, got {grid_days}")
    n = arrays[0].shape[0]
    for array in arrays:
        if array.shape != (n,):
            raise ValueError(f"every column must have shape ({n},), got {array.shape}")
    for name, array in zip(("x", "span days", "age days"), arrays[:3], strict=True):
        if array.size and (not np.array_equal(array, np.round(array)) or np.min(array) < 0):
            raise ValueError(f"{name} must be whole numbers >= 0")
    ints = [np.asarray(a, dtype=np.int64) for a in arrays]
    w = None if weights is None else np.asarray(weights, dtype=np.float64)
    exact, exact_counts = compress_rows([a.astype(np.float64) for a in ints], w)
    cap = FIT_MAX_ROWS if max_rows is None else max_rows
    widths = GRID_WIDTHS if grid_days is None else (grid_days,)
    for width in widths:
        # always from the exact rows: rounding to weeks, then to 2 weeks, is not rounding to 2
        # weeks (4 days is 7 days, then 14; but 0 days on the 2-week grid)
        distinct, counts = exact, exact_counts
        if width > 1:
            days = (on_grid(d.astype(np.int64), width).astype(np.float64) for d in exact[1:3])
            distinct, counts = compress_rows([exact[0], *days, *exact[3:]], exact_counts)
        if distinct[0].shape[0] <= cap:
            break
    return FitRows(
        columns=tuple(np.asarray(c, dtype=np.int64) for c in distinct),
        weights=np.asarray(counts, dtype=np.float64),
        grid_days=width,
    )
