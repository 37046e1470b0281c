"""The rows of a Parquet file that the set-based path (:mod:`patron.insights.parquet_fast`)
leaves to the text path, read as the Parquet reader reads them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from patron.ingest.reading import RawBatch
from patron.ingest.reading.base import TableReader

__all__ = ["fraction_shown", "rest_batches"]


def fraction_shown(column: pa.Array) -> bool:
    """Whether the text of a timestamp column shows fractions of a second: it does for every
    cell of a batch in which one cell has a fraction (column_text), so the text of some rows
    is then spelled from the whole batch; otherwise from those rows alone (far cheaper)."""
    if not pa.types.is_timestamp(column.type):
        return False
    naive = pc.cast(column, pa.timestamp(column.type.unit))
    seconds = pc.cast(pc.cast(naive, pa.timestamp("s"), safe=False), naive.type)
    return pc.all(pc.equal(seconds, naive)).as_py() is False


def rest_batches(
    path: Path, reader: TableReader, rows: np.ndarray, batch_rows: int
) -> Iterator[RawBatch]:
    """The rows at ``rows`` (sorted file row indices) as the Parquet reader gives them:
    the same batches, the same text, blank rows dropped."""
    import pyarrow.parquet as pq

    from patron.ingest.reading.parquet import column_text

    names = reader.info.column_names
    start = 0
    with pq.ParquetFile(path) as parquet:
        for record_batch in parquet.iter_batches(batch_size=batch_rows):
            n = record_batch.num_rows
            lo, hi = np.searchsorted(rows, [start, start + n])
            if hi > lo:
                take = pa.array(rows[lo:hi] - start)
                columns = {}
                for i, key in enumerate(names):
                    column = record_batch.column(i)
                    if fraction_shown(column):  # its text depends on the batch
                        columns[key] = column_text(column).take(take)
                    else:
                        columns[key] = column_text(column.take(take))
                batch = reader.drop_blank(rows[lo:hi] + 2, columns)
                if len(batch):
                    yield batch
            start += n
