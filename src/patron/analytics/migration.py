"""Customer migration (客户转型 / 升级与降级) between two runs.

Given the tier (or segment) of each customer in an earlier and a later run,
build the transition matrix and count upgrades, downgrades, new and lost
customers.

Rows of the matrix are the earlier level plus ``"(new)"`` (customers only in
the later run); columns are the later level plus ``"(lost)"`` (customers only in
the earlier run); the parentheses keep them apart from level codes such as the
segment ``"new"``. Row shares divide each row by its total. An upgrade is a
move to a level earlier in ``levels`` (levels are listed best first), a
downgrade a move to a later one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from patron.analytics.tiers import TIER_CODES

__all__ = ["LOST", "NEW", "Migration", "customer_migration"]

#: Row label of the customers absent from the earlier run.
NEW = "(new)"
#: Column label of the customers absent from the later run.
LOST = "(lost)"

UNKNOWN_LEVEL = "unknown level(s) {levels!r} in {which}; expected one of {expected!r}"
DUPLICATE_IDS = "{which} has duplicate customer_id values"


@dataclass(frozen=True)
class Migration:
    """The result of :func:`customer_migration`.

    Attributes
    ----------
    counts : pandas.DataFrame
        Transition counts, index ``levels + ("(new)",)`` (before), columns
        ``levels + ("(lost)",)`` (after); the ``("(new)", "(lost)")`` cell is
        always 0.
    shares : pandas.DataFrame
        ``counts`` divided by row totals (0 for an empty row).
    moves : pandas.DataFrame
        One row per customer in either run, sorted by ``customer_id``:
        ``customer_id``, ``before``, ``after`` (``"(new)"`` / ``"(lost)"``
        when absent) and ``change``: ``"upgrade"``, ``"downgrade"``, ``"same"``,
        ``"new"`` or ``"lost"``.
    upgrades, downgrades, same, new, lost : int
    """

    counts: pd.DataFrame
    shares: pd.DataFrame
    moves: pd.DataFrame
    upgrades: int
    downgrades: int
    same: int
    new: int
    lost: int


def _assignment(data: pd.DataFrame | pd.Series, column: str, which: str) -> pd.Series:
    if isinstance(data, pd.Series):
        series = data.copy()
        series.index = series.index.astype(str)
    else:
        series = pd.Series(
            data[column].to_numpy(), index=data["customer_id"].astype(str).to_numpy()
        )
    if series.index.duplicated().any():
        raise ValueError(DUPLICATE_IDS.format(which=which))
    return series.astype(object)


def customer_migration(
    before: pd.DataFrame | pd.Series,
    after: pd.DataFrame | pd.Series,
    *,
    column: str = "tier",
    levels: Sequence[str] = TIER_CODES,
) -> Migration:
    """Transition matrix and movements between two level assignments.

    Parameters
    ----------
    before, after : pandas.DataFrame or pandas.Series
        A DataFrame with ``customer_id`` and ``column``, or a Series of levels
        indexed by customer id.
    column : str, default "tier"
        The level column of the DataFrames (``"segment"`` for segments).
    levels : sequence of str, default the tier codes
        All levels, best first (for segments pass
        :data:`patron.analytics.segments.SEGMENT_CODES`).

    Returns
    -------
    Migration

    Raises
    ------
    ValueError
        On an unknown level or a duplicate customer id.

    Examples
    --------
    >>> import pandas as pd
    >>> b = pd.Series({"a": "high", "b": "low", "c": "low"})
    >>> a = pd.Series({"a": "moderate", "b": "high", "d": "very_low"})
    >>> m = customer_migration(b, a)
    >>> (m.upgrades, m.downgrades, m.new, m.lost)
    (1, 1, 1, 1)
    """
    order = list(levels)
    if NEW in order or LOST in order or len(set(order)) != len(order):
        raise ValueError(f"levels must be distinct and exclude {NEW!r} and {LOST!r}")
    rank = {level: i for i, level in enumerate(order)}
    b = _assignment(before, column, "before")
    a = _assignment(after, column, "after")
    for which, series in (("before", b), ("after", a)):
        unknown = sorted(set(series.dropna().unique()) - set(order), key=str)
        if unknown or series.isna().any():
            raise ValueError(
                UNKNOWN_LEVEL.format(levels=unknown or [None], which=which, expected=tuple(order))
            )
    ids = np.array(sorted(set(b.index) | set(a.index)), dtype=object)
    is_new = ~pd.Index(ids).isin(b.index)  # hashed; np.isin on objects is quadratic
    is_lost = ~pd.Index(ids).isin(a.index)
    before_levels = b.reindex(ids).to_numpy(dtype=object)
    after_levels = a.reindex(ids).to_numpy(dtype=object)
    before_levels[is_new] = NEW
    after_levels[is_lost] = LOST
    before_rank = pd.Series(before_levels).map(rank).fillna(-1).to_numpy(dtype=np.int64)
    after_rank = pd.Series(after_levels).map(rank).fillna(-1).to_numpy(dtype=np.int64)
    both = ~is_new & ~is_lost
    change = np.full(len(ids), "same", dtype=object)
    change[both & (after_rank < before_rank)] = "upgrade"
    change[both & (after_rank > before_rank)] = "downgrade"
    change[is_new] = "new"
    change[is_lost] = "lost"

    rows = [*order, NEW]
    cols = [*order, LOST]
    counts = pd.DataFrame(
        0, index=pd.Index(rows, name="before"), columns=pd.Index(cols, name="after")
    )
    if len(ids):
        table = pd.crosstab(
            pd.Series(before_levels, name="before"), pd.Series(after_levels, name="after")
        )
        counts = counts.add(table, fill_value=0).reindex(index=rows, columns=cols).fillna(0)
    counts = counts.astype(np.int64)
    totals = counts.sum(axis=1).to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        share_values = np.where(totals[:, None] > 0, counts.to_numpy() / totals[:, None], 0.0)
    shares = pd.DataFrame(share_values, index=counts.index, columns=counts.columns)
    moves = pd.DataFrame(
        {"customer_id": ids, "before": before_levels, "after": after_levels, "change": change}
    )
    return Migration(
        counts=counts,
        shares=shares,
        moves=moves,
        upgrades=int((change == "upgrade").sum()),
        downgrades=int((change == "downgrade").sum()),
        same=int((change == "same").sum()),
        new=int(is_new.sum()),
        lost=int(is_lost.sum()),
    )
