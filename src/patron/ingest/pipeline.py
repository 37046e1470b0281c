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
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from patron.core.errors import PatronError
from patron.ingest.mapping import ColumnMapping
from patron.ingest.reading import RawBatch, RowProblem, TableReader
from patron.ingest.validation import DateFormatHolder, RowError, validate_batch

# Below this size a second process costs more than it saves.
SUBPROCESS_MIN_BYTES = 8 * 1024 * 1024

Prepare = Callable[[dict[str, Any], Any], Any]


@dataclass
class BatchResult:
    read: int
    rejected: int
    errors: list[RowError]
    reject_rows: list[list[Any]]  # line, columns, reasons, then the row as in the file
    prepared: Any  # what the sink writes, None when no row was good


@dataclass
class ReadSummary:
    problems: list[RowProblem] = field(default_factory=list)
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


def process(
    batches: Iterator[RawBatch],
    mapping: ColumnMapping,
    *,
    tz: str,
    date_format: DateFormatHolder,
    prepare: Prepare,
) -> Iterator[BatchResult]:
    for batch in batches:
        validated = validate_batch(batch, mapping, tz=tz, date_format=date_format)
        prepared = None
        if validated.good.any():
            prepared = prepare(validated.good_columns(), batch.lines[validated.good])
        yield BatchResult(
            read=len(batch.lines),
            rejected=int((~validated.good).sum()),
            errors=validated.errors,
            reject_rows=_reject_rows(batch, validated.errors),
            prepared=prepared,
        )


def _child(
    connection: Any,
    reader: TableReader,
    mapping: ColumnMapping,
    tz: str,
    date_format: DateFormatHolder,
    prepare: Prepare,
) -> None:
    try:
        for result in process(
            reader.batches(), mapping, tz=tz, date_format=date_format, prepare=prepare
        ):
            connection.send(("batch", result))
        summary = ReadSummary(list(reader.problems), len(reader.skipped), date_format.fmt)
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
) -> Iterator[BatchResult]:
    """Yield batch results; fill ``summary`` at the end. Falls back to reading in process."""
    size = reader.info.path.stat().st_size if reader.info.path.exists() else 0
    if (
        size < SUBPROCESS_MIN_BYTES
        or sys.platform == "win32"
        or os.environ.get("PATRON_IMPORT_IN_PROCESS")
    ):
        yield from process(
            reader.batches(), mapping, tz=tz, date_format=date_format, prepare=prepare
        )
        summary.problems = list(reader.problems)
        summary.skipped = len(reader.skipped)
        summary.date_format = date_format.fmt
        return
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(
        target=_child,
        args=(send, reader, mapping, tz, date_format, prepare),
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
                    "The file reader stopped unexpectedly.", code="ingest.reader_died"
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
