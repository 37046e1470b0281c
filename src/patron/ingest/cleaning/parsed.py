"""The result types of the column parsers: values plus the invalid mask."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa


@dataclass(frozen=True)
class Parsed:
    """A parsed column: typed ``values`` and the ``invalid`` mask (non-null but unparseable)."""

    values: pa.Array
    invalid: np.ndarray


@dataclass(frozen=True)
class ParsedDatetime(Parsed):
    """Parsed timestamps, with the format used and whether the cells carried a time of day.

    ``has_time`` is False for a date-only format and also when every valid cell is at local
    midnight (a date column exported as ``2024-01-31 00:00:00``): item lines are then grouped
    into purchases per day.
    """

    fmt: str | None
    has_time: bool


@dataclass(frozen=True)
class ParsedPhone(Parsed):
    """Normalised phone numbers; ``masked`` flags cells kept as written (``138****5678``)."""

    masked: np.ndarray
