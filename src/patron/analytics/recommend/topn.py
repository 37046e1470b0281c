"""Top-n selection over sparse and dense score matrices, vectorised (no loop per customer)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from .data import FloatArray, IntArray, unique_sorted

__all__ = ["NotFittedError", "TopN", "pairs_in", "top_n_dense", "top_n_sparse"]


class NotFittedError(ValueError, AttributeError):
    """``recommend`` was called before ``fit``."""


@dataclass(frozen=True)
class TopN:
    """Ranked items per customer: ``items[i, j]`` is the j-th item of ``customers[i]`` (-1 pads)."""

    customers: IntArray
    items: IntArray
    scores: FloatArray

    @property
    def counts(self) -> IntArray:
        return np.asarray((self.items >= 0).sum(axis=1), dtype=np.int64)

    @property
    def items_flat(self) -> IntArray:
        return self.items[self.items >= 0]

    @property
    def scores_flat(self) -> FloatArray:
        return self.scores[self.items >= 0]

    @staticmethod
    def concat(parts: Sequence[TopN], customers: IntArray) -> TopN:
        if not parts:
            return TopN(customers, np.zeros((0, 0), np.int64), np.zeros((0, 0)))
        width = max(p.items.shape[1] for p in parts)
        items = np.vstack([_pad(p.items, width, -1) for p in parts]).astype(np.int64)
        scores = np.vstack([_pad(p.scores, width, 0.0) for p in parts])
        return TopN(customers=customers, items=items, scores=scores)


def _pad(a: npt.NDArray[np.generic], width: int, fill: float) -> npt.NDArray[np.generic]:
    if a.shape[1] == width:
        return a
    out = np.full((a.shape[0], width), fill, dtype=a.dtype)
    out[:, : a.shape[1]] = a
    return out


def top_n_sparse(s: sp.spmatrix, n: int) -> TopN:
    """The ``n`` largest stored entries of each row of ``s``; ties by smaller column.

    Rows are padded to the next power of 4 of their length and ranked along the row, bucket
    by bucket, which is several times faster than sorting all entries at once.
    """
    s = sp.csr_matrix(s)
    s.sort_indices()
    n_rows = s.shape[0]
    items = np.full((n_rows, n), -1, dtype=np.int64)
    scores = np.zeros((n_rows, n), dtype=np.float64)
    lengths = np.diff(s.indptr)
    if s.nnz == 0:
        return TopN(np.arange(n_rows, dtype=np.int64), items, scores)
    width_of = np.where(lengths > 0, 4 ** np.ceil(np.log(np.maximum(lengths, 1)) / np.log(4)), 0)
    for width in np.unique(width_of[lengths > 0]).astype(np.int64):
        rows = np.flatnonzero(width_of == width)
        pos = s.indptr[rows][:, None] + np.arange(width)[None, :]
        valid = np.arange(width)[None, :] < lengths[rows][:, None]
        pos = np.where(valid, pos, 0)
        vals = np.where(valid, s.data[pos], -np.inf)
        take = min(n, int(width))
        part, pv = _top_rows(vals, take)
        cols = s.indices[np.take_along_axis(pos, part, axis=1)]
        ok = np.isfinite(pv)
        items[rows, :take] = np.where(ok, cols, -1)
        scores[rows, :take] = np.where(ok, pv, 0.0)
    return TopN(customers=np.arange(n_rows, dtype=np.int64), items=items, scores=scores)


def top_n_dense(s: npt.NDArray[np.floating], n: int, columns: IntArray | None = None) -> TopN:
    """The ``n`` largest finite entries per row of a dense matrix (``-inf`` = not allowed).

    ``columns`` maps the matrix's columns to item codes.
    """
    n_rows, n_cols = s.shape
    m = min(n, n_cols)
    items = np.full((n_rows, n), -1, dtype=np.int64)
    scores = np.zeros((n_rows, n), dtype=np.float64)
    if m == 0 or n_rows == 0:
        return TopN(np.arange(n_rows, dtype=np.int64), items, scores)
    part, vals = _top_rows(s, m)
    ok = np.isfinite(vals)
    codes = part if columns is None else columns[part]
    items[:, :m] = np.where(ok, codes, -1)
    scores[:, :m] = np.where(ok, vals, 0.0)
    # finite entries first: -inf sorted last already
    return TopN(np.arange(n_rows, dtype=np.int64), items, scores)


def _top_rows(vals: npt.NDArray[np.floating], m: int) -> tuple[IntArray, npt.NDArray[np.floating]]:
    """Column positions and values of the ``m`` largest entries of each row, best first,
    ties by smaller position (a partition, then the tie at the boundary settled by position)."""
    rows, width = vals.shape
    if m >= width:
        order = np.argsort(-vals, axis=1, kind="stable")
        return order.astype(np.int64), np.take_along_axis(vals, order, axis=1)
    threshold = -np.partition(-vals, m - 1, axis=1)[:, m - 1 : m]
    above = vals > threshold
    tied = vals == threshold
    room = m - above.sum(axis=1, keepdims=True)
    chosen = above | tied
    # only rows with more ties at the boundary than places left need the (costly) cumsum
    excess = np.flatnonzero(tied.sum(axis=1) > room[:, 0])
    if excess.shape[0]:
        t = tied[excess]
        chosen[excess] = above[excess] | (t & (np.cumsum(t, axis=1) <= room[excess]))
    pos = np.nonzero(chosen)[1].reshape(rows, m)  # row-major: positions in order
    got = np.take_along_axis(vals, pos, axis=1)
    order = np.argsort(-got, axis=1, kind="stable")
    return (
        np.take_along_axis(pos, order, axis=1).astype(np.int64),
        np.take_along_axis(got, order, axis=1),
    )


def pairs_in(rows: IntArray, cols: IntArray, matrix: sp.spmatrix) -> npt.NDArray[np.bool_]:
    """Whether each (row, col) pair is a stored nonzero of ``matrix``."""
    m = sp.coo_matrix(matrix)
    if m.nnz == 0 or rows.shape[0] == 0:
        return np.zeros(rows.shape[0], dtype=bool)
    width = np.int64(m.shape[1])
    keys = unique_sorted(m.row.astype(np.int64)[m.data != 0] * width + m.col[m.data != 0])
    if keys.shape[0] == 0:
        return np.zeros(rows.shape[0], dtype=bool)
    q = rows.astype(np.int64) * width + cols
    pos = np.minimum(np.searchsorted(keys, q), keys.shape[0] - 1)
    return np.asarray(keys[pos] == q)
