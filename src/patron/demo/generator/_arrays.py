"""Array aliases and NumPy/Arrow helpers shared by the generator: ids, money, times, draws."""

from __future__ import annotations

from datetime import date

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from patron.demo.generator.rates import HOURLY_TRAFFIC, SHOP_HOURS, SHOP_OPENS_H, UTC_OFFSET_H
from patron.demo.generator.schemas import MONEY, TIMESTAMP

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]


_HOUR_CDF = np.r_[0.0, np.cumsum(HOURLY_TRAFFIC) / sum(HOURLY_TRAFFIC)]
_EPOCH = date(1970, 1, 1)


def _quantile(x: Floats) -> Floats:
    q = np.empty(x.size)
    q[np.argsort(x, kind="stable")] = (np.arange(x.size) + 0.5) / max(x.size, 1)
    return q


def _categorical_rows(rng: np.random.Generator, weights: Floats) -> Ints:
    cum = np.cumsum(weights, axis=1)
    u = rng.random(weights.shape[0]) * cum[:, -1]
    picked: Ints = np.minimum((cum < u[:, None]).sum(axis=1), weights.shape[1] - 1)
    return picked


def _norm(w: list[float] | tuple[float, ...]) -> Floats:
    a: Floats = np.asarray(w, dtype=np.float64)
    out: Floats = a / a.sum()
    return out


def _ids(prefix: str, numbers: Ints, width: int) -> pa.Array:
    if numbers.size:
        width = max(width, len(str(int(numbers.max()))))
    s = pc.utf8_lpad(pc.cast(pa.array(numbers, pa.int64()), pa.string()), width, "0")
    return pc.utf8_replace_slice(s, 0, 0, prefix)


def _take(values: pa.Array, idx: npt.NDArray[np.integer]) -> pa.Array:
    return values.take(pa.array(np.asarray(idx, dtype=np.int64)))


def _money(cents: Ints, null: Bools | None = None) -> pa.Array:
    """decimal128(12, 2) straight from integer cents (two's complement, little endian)."""
    c = np.ascontiguousarray(cents, dtype=np.int64)
    words = np.empty((c.size, 2), dtype=np.int64)
    words[:, 0] = c
    words[:, 1] = c >> 63
    validity = None
    nulls = 0
    if null is not None and null.any():
        validity = pa.py_buffer(np.packbits(~null, bitorder="little"))
        nulls = int(null.sum())
        words[null] = 0
    return pa.Array.from_buffers(MONEY, c.size, [validity, pa.py_buffer(words)], null_count=nulls)


def _timestamps(t: Floats, start: date) -> pa.Array:
    """Model time (days since start) -> UTC timestamps.

    Each model day is warped onto the shop day, 10:00-22:00 local, busiest at lunch and dinner;
    the warp is monotone, so it keeps the order of events and their calendar day.
    """
    day = np.floor(t)
    sec = np.floor(np.interp(t - day, _HOUR_CDF, np.arange(SHOP_HOURS + 1.0)) * 3600.0)
    sec = np.minimum(sec, SHOP_HOURS * 3600 - 1)
    local = (day + (start - _EPOCH).days) * 86400.0 + SHOP_OPENS_H * 3600.0 + sec
    return pa.array(((local - UTC_OFFSET_H * 3600.0) * 1e6).astype(np.int64), TIMESTAMP)


def _dates(t: Floats, start: date) -> pa.Array:
    """Model time -> local date32 (NaN -> null)."""
    null = np.isnan(t)
    days = np.floor(np.where(null, 0.0, t)).astype(np.int64) + (start - _EPOCH).days
    return pa.array(days.astype(np.int32), pa.date32(), mask=null)
