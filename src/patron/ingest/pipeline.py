"""Read and validate a file on the second core while the database takes the rows.

The reading side (CSV parsing, validation, preparing staging columns) is Python-heavy and
the writing side holds the GIL while it binds parameters, so two threads would take turns.
A forked reader process instead hands over prepared Arrow tables through a pipe; the parent
keeps the one database connection. Small files and platforms without ``fork`` read in
process.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from patron.core.errors import PatronError
from patron.ingest.amount_check import amount_doubt, column_examples
from patron.ingest.i18n import gettext
from patron.ingest.mapping import ColumnMapping
from patron.ingest.reading import RawBatch, RowProblem, TableReader
from patron.ingest.reading.limits import Tally
from patron.ingest.validation import (
    DateFormatHolder,
    RowError,
    StatusOf,
    generic_status,
    validate_batch,
)

# Below this size a second process costs more than it saves.
SUBPROCESS_MIN_BYTES = 8 * 1024 * 1024

Prepare = Callable[[dict[str, Any], Any], Any]


@dataclass
class BatchResult:
    read: int
    skipped: int  # trailer and summary rows, not errors
    rejected: int
    errors: list[RowError]
    reject_rows: list[list[Any]]  # line, columns, reasons, then the row as in the file
    prepared: Any  # what the sink writes, None when no row was good
    # the first batch only: a few cells of each mapped column, for the report's mapping line
    examples: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class ReadSummary:
    problems: Tally[RowProblem] | list[RowProblem] = field(default_factory=list)
    skipped: int = 0
    date_format: str | None = None


def _reject_rows(batch: RawBatch, errors: list[RowError]) -> list[list[Any]]:
    by_line: dict[int, list[RowError]] = {}
    for error in errors:
        by_line.setdefault(error.line, []).append(error)
    if not by_line:
        return []
    index = {int(line): i for i, line in enumerate(batch.lines) if int(line) in by_line}
    rows = []
    for line, row_errors in sorted(by_line.items()):
        i = index[line]
        cells = [batch.columns[c][i].as_py() for c in batch.columns]
        rows.append(
            [
                line,
                "; ".join(e.column for e in row_errors),
                "; ".join(e.message for e in row_errors),
                *["" if v is None else v for v in cells],
            ]
        )
    return rows


class TrailerCut:
    """Drops the table's closing summary: from the first row whose first filled cell looks
    like a trailer ('#----', '总交易单数', '合计', a preset's own marks) to the end."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        self.reached = False

    def __call__(self, batch: RawBatch) -> tuple[RawBatch, int]:
        n = len(batch.lines)
        if self.reached:
            return _take(batch, np.zeros(n, dtype=bool)), n
        first = pc.coalesce(*batch.columns.values()) if batch.columns else pa.nulls(n)
        text = pc.utf8_trim_whitespace(pc.cast(first, pa.string()))
        hits = np.flatnonzero(
            np.asarray(pc.fill_null(pc.match_substring_regex(text, self.pattern.pattern), False))
        )
        if not len(hits):
            return batch, 0
        self.reached = True
        keep = np.arange(n) < hits[0]
        return _take(batch, keep), int(n - hits[0])


class FillDown:
    """Item rows that leave the order's own cells blank after its first row (Shopify): each
    blank order-level cell takes the value above it within the same order, across batches."""

    def __init__(self, order_column: str, columns: list[str]) -> None:
        self.order_column = order_column
        self.columns = [c for c in columns if c != order_column]
        self.last: dict[str, Any] | None = None

    def __call__(self, batch: RawBatch) -> RawBatch:
        n = len(batch.lines)
        if not n or self.order_column not in batch.columns:
            return batch
        orders = batch.columns[self.order_column].to_pylist()
        filled = dict(batch.columns)
        for column in self.columns:
            if column not in batch.columns:
                continue
            values = batch.columns[column].to_pylist()
            previous_order = self.last["__order__"] if self.last else None
            previous = self.last.get(column) if self.last else None
            for i in range(n):  # runs of one order are short; a plain pass is cheapest
                if values[i] is None and orders[i] is not None and orders[i] == previous_order:
                    values[i] = previous
                previous_order, previous = orders[i], values[i]
            filled[column] = pa.array(values, pa.string())
        self.last = {
            "__order__": orders[-1],
            **{c: filled[c][-1].as_py() for c in self.columns if c in filled},
        }
        return RawBatch(lines=batch.lines, columns=filled)


def _take(batch: RawBatch, keep: np.ndarray) -> RawBatch:
    mask = pa.array(keep)
    return RawBatch(
        lines=batch.lines[keep],
        columns={name: values.filter(mask) for name, values in batch.columns.items()},
    )


def process(
    batches: Iterator[RawBatch],
    mapping: ColumnMapping,
    *,
    tz: str,
    date_format: DateFormatHolder,
    prepare: Prepare,
    status_of: StatusOf = generic_status,
    trailers: TrailerCut | None = None,
    fill_down: FillDown | None = None,
) -> Iterator[BatchResult]:
    first = True
    for batch in batches:
        skipped = 0
        if trailers is not None:
            batch, skipped = trailers(batch)
        if fill_down is not None:
            batch = fill_down(batch)
        examples: dict[str, list[str]] = {}
        if first:  # the amount column is asked about before any row is taken
            first = False
            if (doubt := amount_doubt(mapping, batch.columns)) is not None:
                raise doubt
            examples = column_examples(mapping, batch.columns)
        validated = validate_batch(
            batch, mapping, tz=tz, date_format=date_format, status_of=status_of
        )
        prepared = None
        if validated.good.any():
            prepared = prepare(validated.good_columns(), batch.lines[validated.good])
        yield BatchResult(
            read=len(batch.lines),
            skipped=skipped,
            rejected=int((~validated.good).sum()),
            errors=validated.errors,
            reject_rows=_reject_rows(batch, validated.errors),
            prepared=prepared,
            examples=examples,
        )


def _child(
    connection: Any,
    reader: TableReader,
    mapping: ColumnMapping,
    tz: str,
    date_format: DateFormatHolder,
    prepare: Prepare,
    status_of: StatusOf,
    trailers: TrailerCut | None,
    fill_down: FillDown | None,
) -> None:
    try:
        for result in process(
            reader.batches(),
            mapping,
            tz=tz,
            date_format=date_format,
            prepare=prepare,
            status_of=status_of,
            trailers=trailers,
            fill_down=fill_down,
        ):
            connection.send(("batch", result))
        summary = ReadSummary(reader.problems, len(reader.skipped), date_format.fmt)
        connection.send(("done", summary))
    except PatronError as error:
        connection.send(("patron_error", (type(error), error.message, error.code, error.extra)))
    except BaseException as error:
        connection.send(("error", f"{type(error).__name__}: {error}"))
    finally:
        connection.close()


def read_in_background(
    reader: TableReader,
    mapping: ColumnMapping,
    *,
    tz: str,
    date_format: DateFormatHolder,
    prepare: Prepare,
    summary: ReadSummary,
    status_of: StatusOf = generic_status,
    trailers: TrailerCut | None = None,
    fill_down: FillDown | None = None,
) -> Iterator[BatchResult]:
    """Yield batch results; fill ``summary`` at the end. Falls back to reading in process."""
    size = reader.info.path.stat().st_size if reader.info.path.exists() else 0
    if (
        size < SUBPROCESS_MIN_BYTES
        or sys.platform == "win32"
        or os.environ.get("PATRON_IMPORT_IN_PROCESS")
    ):
        yield from process(
            reader.batches(),
            mapping,
            tz=tz,
            date_format=date_format,
            prepare=prepare,
            status_of=status_of,
            trailers=trailers,
            fill_down=fill_down,
        )
        summary.problems = reader.problems  # a Tally: the first kept, all counted
        summary.skipped = len(reader.skipped)
        summary.date_format = date_format.fmt
        return
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(
        target=_child,
        args=(send, reader, mapping, tz, date_format, prepare, status_of, trailers, fill_down),
        name="patron-import-reader",
        daemon=True,
    )
    child.start()
    send.close()
    try:
        while True:
            try:
                kind, payload = receive.recv()
            except EOFError:
                raise PatronError(
                    gettext("The file reader stopped unexpectedly."), code="ingest.reader_died"
                ) from None
            if kind == "batch":
                yield payload
            elif kind == "done":
                summary.problems = payload.problems
                summary.skipped = payload.skipped
                summary.date_format = payload.date_format
                return
            elif kind == "patron_error":
                error_type, message, code, extra = payload
                raise error_type(message, code=code, extra=extra)
            else:
                raise RuntimeError(f"import reader failed: {payload}")
    finally:
        receive.close()
        if child.is_alive():
            child.terminate()
        child.join()
