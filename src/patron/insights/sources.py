"""Transactions for an analysis from a file, with the importer's reading and validation.

No Django here: ``patron analyze --source FILE`` reads the file with
:func:`patron.ingest.reading.open_table`, maps its columns with
:func:`~patron.ingest.mapping.resolve_columns` and validates every batch with
:func:`~patron.ingest.validation.validate_batch`, exactly as ``patron import transactions``
does, then hands the good rows to DuckDB (in memory, through Arrow) as an Ibis table in the
input contract of :mod:`patron.analytics.summary`.

What each row becomes, as in the store after an import:

- ``order_date``: the business date of the row's time in the shop's time zone;
- ``amount`` and ``cost``: exact cents; a row with status "returned" is a return and its
  amount (and cost) are made negative, whatever sign the file used; a negative amount on a
  completed row is a return too; cancelled rows are left out;
- ``order_id``: the file's order id; without one, item lines (files with product columns)
  of one customer at one time form one order, and otherwise every row is an order.

Large files are validated on two processes (the validation is column-wise Arrow work, but
Python-bound between kernels); the first batch is validated first so that the detected date
format is the same for the whole file.

Parquet files whose columns DuckDB reads natively take a set-based path instead
(:mod:`patron.insights.parquet_fast`): DuckDB reads the file and sorts every row, in one pass, into
*plain* rows, whose cells are in a form for which the importer's result is known in closed
form (an id that starts and ends with a letter or digit and is no placeholder and no
scientific notation, an amount that is a whole number of cents, a date on a day without a
time-zone transition, a known status), and the *rest*. The rest (normally nothing) goes
through the importer's own reader conversion and :func:`validate_batch`, batch by batch as
the text path would have read it, so bad rows are reported with the same lines, columns,
values and messages, and odd but valid cells are read as an import reads them. The plain rows
never leave DuckDB: the analysis reads them through a view over the file. Anything the
closed forms do not cover (other typed fields, item lines without an order id, an explicit
date format that differs from the column's) takes the text path.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

import pyarrow as pa

from patron.ingest.mapping import EntityKind, known_column_names, resolve_columns
from patron.ingest.reading import open_table
from patron.ingest.reading.types import SourceFormat
from patron.ingest.validation import DateFormatHolder, RowError
from patron.insights.file_rows import (
    NO_ROWS,
    PARALLEL_MIN_BYTES,
    REJECTED_ROWS,
    AnalysisSourceError,
    FileTransactions,
    duckdb_backend,
    in_contract,
    tally,
    time_zone,
    validated_batches,
)

__all__ = [
    "AnalysisSourceError",
    "FileTransactions",
    "duckdb_backend",
    "in_contract",
    "read_transactions_file",
    "time_zone",
]


def read_transactions_file(
    path: str | Path,
    *,
    mapping: Mapping[str, str] | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
    date_format: str | None = None,
    skip_bad: bool = False,
    tz: str | None = None,
    workers: int | None = None,
    batch_rows: int = 250_000,
    progress: Callable[[int], None] | None = None,
) -> FileTransactions:
    """Read and validate a transaction file for an analysis (no database).

    Raises
    ------
    IngestError
        The file cannot be read or lacks a required column.
    AnalysisSourceError
        Some rows are invalid (and ``skip_bad`` is off), or no row is valid.
    """
    path = Path(path)
    if path.is_dir():  # a lake's folder of Parquet files
        from patron.insights.parquet_lake import read_parquet_directory

        return read_parquet_directory(path, mapping=mapping, skip_bad=skip_bad)
    tz = tz or time_zone()
    if workers is None:
        big = path.stat().st_size >= PARALLEL_MIN_BYTES if path.is_file() else False
        workers = min(2, os.cpu_count() or 1) if big and os.name == "posix" else 1
    reader = open_table(
        path,
        encoding=encoding,
        delimiter=delimiter,
        sheet=sheet,
        known_columns=known_column_names(EntityKind.TRANSACTIONS),
        batch_rows=batch_rows,
    )
    columns = resolve_columns(reader.info.header, EntityKind.TRANSACTIONS, mapping)
    holder = DateFormatHolder(date_format, explicit=date_format is not None)
    out = FileTransactions(
        path=path,
        columns=dict(columns.columns),
        reading="order lines" if columns.is_item_lines else "orders",
        encoding=reader.info.encoding,
        has_order_id="order_id" in columns.columns or columns.is_item_lines,
    )
    if reader.info.format is SourceFormat.PARQUET:
        from patron.insights import parquet_fast

        backend = duckdb_backend()
        plan = parquet_fast.parquet_plan(
            backend, reader, columns, holder, tz=tz, batch_rows=batch_rows
        )
        if plan is not None:
            return parquet_fast.read_parquet_fast(
                backend,
                plan,
                out,
                reader,
                tz=tz,
                skip_bad=skip_bad,
                workers=workers,
                progress=progress,
            )
    tables: list[pa.Table] = []
    for result in validated_batches(reader.batches(), columns, tz, holder, workers=workers):
        tally(out, result, tables)
        if progress is not None:
            progress(out.read)
    for problem in reader.problems:
        out.rejected += 1
        out.errors.append(RowError(problem.line, "", None, problem.message))
    out.errors.sort(key=lambda e: e.line)
    out.date_format = holder.fmt
    if out.rejected and not skip_bad:
        raise AnalysisSourceError(
            REJECTED_ROWS.format(rejected=out.rejected, read=out.read, name=path.name),
            extra={"errors": [e.as_dict() for e in out.errors[:20]]},
        )
    if not tables:
        raise AnalysisSourceError(NO_ROWS.format(name=path.name))
    out.table_ = pa.concat_tables(tables)
    out.rows = out.table_.num_rows
    return out
