"""The TableReader base class: batching, row fitting and blank-row dropping shared by readers."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from patron.ingest.i18n import gettext, gettext_noop
from patron.ingest.reading._columns import _text_array
from patron.ingest.reading.limits import Tally
from patron.ingest.reading.types import FileInfo, RawBatch, RowProblem, SkippedLine

BAD_TEXT = "row.bad_text"  # RowErrorCode.BAD_TEXT (readers do not import the importer's codes)
NUL_IN_CELL = gettext_noop(
    "line %(line)s, column %(column)s: the cell holds a NUL byte, which no text holds: the "
    "file is damaged or is not a text export; nothing of this row was imported"
)
BOM_IN_CELL = gettext_noop(
    "line %(line)s, column %(column)s: the cell holds a byte-order mark (U+FEFF), an invisible "
    "character that would become part of the value (files joined together leave one): "
    "remove it"
)
_DAMAGE = (("\x00", NUL_IN_CELL), ("\ufeff", BOM_IN_CELL))


def _may_hold(array: pa.Array, marker: str) -> bool:
    """Whether a cell of ``array`` may hold ``marker``: False when its UTF-8 bytes are nowhere
    in the array's character data (every cell's bytes, back to back), a search far cheaper
    than one cell by cell; a hit only sends the cells to that search."""
    if not isinstance(array, pa.Array) or not (
        pa.types.is_string(array.type) or pa.types.is_large_string(array.type)
    ):
        return True
    _, offsets, data = array.buffers()
    if not len(array) or data is None:
        return False
    width = np.int64 if pa.types.is_large_string(array.type) else np.int32
    start, end = np.frombuffer(offsets, dtype=width)[[array.offset, array.offset + len(array)]]
    return marker.encode() in memoryview(data)[int(start) : int(end)].tobytes()


class TableReader:
    """Reads one file in batches; ``skipped``, ``problems`` and ``rows_read`` fill while
    iterating (and start afresh on each call of :meth:`batches`)."""

    def __init__(self, info: FileInfo, *, batch_rows: int, preamble: Iterable[int] = ()) -> None:
        self.info = info
        self.batch_rows = max(1, batch_rows)
        self._preamble = tuple(preamble)
        # Counted, with the first few kept: a file of millions of blank lines stays small.
        self.skipped: Tally[SkippedLine] = Tally(SkippedLine(n, "preamble") for n in self._preamble)
        self.problems: Tally[RowProblem] = Tally()
        self.rows_read = 0
        # Set when only the first rows will be read (a preview): readers then skip work
        # that pays off over the whole file only, such as the plain-text scan.
        self.sample_only = False

    def batches(self) -> Iterator[RawBatch]:
        """Yield the data rows in batches of at most ``batch_rows``, streaming the file."""
        self.skipped = Tally(SkippedLine(n, "preamble") for n in self._preamble)
        self.problems = Tally()
        self.rows_read = 0
        for batch in self._batches():
            if len(batch):
                self.rows_read += len(batch)
                yield batch

    def _batches(self) -> Iterator[RawBatch]:
        raise NotImplementedError

    # Shared by the row-wise readers (text and Excel).
    def _fit(self, row: list[str], line: int, width: int) -> list[str] | None:
        """A row of another width than the header, padded or trimmed; None when it is blank
        (recorded in ``skipped``) or has more filled cells than names (``problems``)."""
        filled = [i for i, cell in enumerate(row) if cell.strip()]
        if not filled:
            self.skipped.append(SkippedLine(line, "blank"))
            return None
        if len(row) > width:
            if filled[-1] >= width:
                message = gettext(
                    "line %(line)s has %(cells)s cells but the header has %(names)s names"
                )
                self.problems.append(
                    RowProblem(
                        line, message % {"line": line, "cells": filled[-1] + 1, "names": width}
                    )
                )
                return None
            return row[:width]
        return row + [""] * (width - len(row))

    def _batch(self, rows: list[list[str]], lines: list[int]) -> RawBatch:
        names = self.info.column_names
        arrays = [_text_array(pa.array(column, pa.string())) for column in zip(*rows, strict=True)]
        return self._drop_blank(
            np.array(lines, dtype=np.int64), dict(zip(names, arrays, strict=True))
        )

    def _drop_damaged(self, lines: np.ndarray, columns: dict[str, pa.Array]) -> RawBatch:
        """Drop rows with a cell holding a NUL byte or a byte-order mark, each a row problem
        naming the line and the column: kept, they would change ids without a word."""
        bad = np.zeros(len(lines), dtype=bool)
        found: list[tuple[int, int, str, str]] = []
        for name, array in columns.items():
            for marker, message in _DAMAGE:
                if not _may_hold(array, marker):
                    continue
                hit = pc.fill_null(pc.match_substring(array, marker), False)
                if not pc.any(hit).as_py():
                    continue
                for i in np.flatnonzero(np.asarray(hit.to_numpy(zero_copy_only=False)) & ~bad):
                    found.append((int(lines[i]), int(i), name, message))
                    bad[i] = True
        if not found:
            return RawBatch(lines, columns)
        for line, _, name, message in sorted(found):
            text = gettext(message) % {"line": line, "column": name}
            self.problems.append(RowProblem(line, text, BAD_TEXT))
        keep = pa.array(~bad)
        return RawBatch(lines[~bad], {name: a.filter(keep) for name, a in columns.items()})

    def _drop_blank(self, lines: np.ndarray, columns: dict[str, pa.Array]) -> RawBatch:
        """Drop rows whose cells are all empty, recording them as blank lines (and damaged
        rows as problems: :meth:`_drop_damaged`)."""
        empty = functools.reduce(pc.and_, (pc.is_null(a) for a in columns.values()))
        if pc.any(empty).as_py():
            blank = np.asarray(empty.to_numpy(zero_copy_only=False), dtype=bool)
            blank_lines = lines[blank]
            room = max(0, self.skipped.keep - len(self.skipped.kept))
            self.skipped.extend(SkippedLine(int(n), "blank") for n in blank_lines[:room])
            self.skipped.add_count(max(0, len(blank_lines) - room))
            keep = pa.array(~blank)
            columns = {name: a.filter(keep) for name, a in columns.items()}
            lines = lines[~blank]
        return self._drop_damaged(lines, columns)

    #: Public for the readers' peers: the Parquet fast path reads the rows it cannot take
    #: set-based through the reader's own batches (:mod:`patron.insights.parquet_fast`).
    drop_blank = _drop_blank
