"""Arrow helpers shared by the parsers: input coercion, masks, nulling and width folding."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

ArrayLike: TypeAlias = pa.Array | pa.ChunkedArray | Sequence[str | None]

_NULL_TEXT = pa.scalar(None, pa.string())


def _as_text(values: ArrayLike) -> pa.Array:
    """One contiguous ``pa.string()`` array from whatever column the caller has."""
    if isinstance(values, pa.ChunkedArray):
        values = (
            values.combine_chunks()
            if values.num_chunks
            else pa.array([], values.type if values.type != pa.null() else pa.string())
        )
    if not isinstance(values, pa.Array):
        return pa.array(list(values), pa.string())
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    if values.type != pa.string():
        values = pc.cast(values, pa.string())
    return values


def _mask(condition: pa.Array) -> np.ndarray:
    """A boolean Arrow array as a NumPy mask, null counted as False."""
    return np.asarray(pc.fill_null(condition, False).to_numpy(zero_copy_only=False), dtype=bool)


def _null_where(condition: pa.Array, values: pa.Array) -> pa.Array:
    if not pc.any(condition).as_py():
        return values
    return pc.if_else(condition, pa.scalar(None, values.type), values)


def _nfkc(values: pa.Array) -> pa.Array:
    """Fold full width to half width (``１２３．４５`` -> ``123.45``), skipped for pure ASCII."""
    if pc.all(pc.string_is_ascii(values)).as_py() is False:
        return pc.utf8_normalize(values, form="NFKC")
    return values
