"""Parquet files: typed columns spelled as CSV-export text, rows numbered from line 2."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from patron.ingest.cleaning import strip_wrappers
from patron.ingest.errors import IngestError, IngestErrorCode
from patron.ingest.i18n import gettext
from patron.ingest.reading._columns import _text_array, _unique_keys
from patron.ingest.reading.base import TableReader
from patron.ingest.reading.types import FileInfo, RawBatch, SourceFormat

PARQUET_SUFFIXES = frozenset({".parquet", ".pq"})


def column_text(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """A typed Parquet column as text cells, spelled as in a CSV export."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    kind = values.type
    if pa.types.is_dictionary(kind):
        values = values.dictionary_decode()
        kind = values.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return _text_array(pc.cast(values, pa.string()))
    if pa.types.is_floating(kind):
        # Float noise (1.776357e-15 for zero, 19.990000000000002): a double within a
        # millionth of a cent of a whole cent is that cent.
        hundredfold = pc.multiply(pc.cast(values, pa.float64()), 100.0)
        nearest = pc.round(hundredfold)
        noise = pc.less_equal(pc.abs(pc.subtract(hundredfold, nearest)), 1e-6)
        values = pc.if_else(pc.fill_null(noise, False), pc.divide(nearest, 100.0), values)
        whole = pc.and_(pc.equal(values, pc.floor(values)), pc.less(pc.abs(values), float(2**53)))
        as_int = pc.cast(pc.if_else(whole, values, 0.0), pa.int64())
        finite = pc.is_finite(values)
        text = pc.if_else(whole, pc.cast(as_int, pa.string()), pc.cast(values, pa.string()))
        return pc.if_else(finite, text, pa.scalar(None, pa.string()))
    if pa.types.is_timestamp(kind):
        suffix = "" if kind.tz is None else "+00:00"
        values = pc.cast(values, pa.timestamp(kind.unit))  # an aware one as its UTC wall time
        seconds = pc.cast(values, pa.timestamp("s"), safe=False)
        if pc.all(pc.equal(pc.cast(seconds, values.type), values)).as_py() is not False:
            values = seconds  # no fraction to show
        text = pc.strftime(values, format="%Y-%m-%d %H:%M:%S")
        return pc.binary_join_element_wise(text, suffix, "") if suffix else text
    if (
        pa.types.is_integer(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_decimal(kind)
        or pa.types.is_date(kind)
        or pa.types.is_time(kind)
    ):
        return pc.cast(values, pa.string())
    if pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        return _text_array(
            pa.array(
                [None if v is None else v.decode("utf-8", "replace") for v in values.to_pylist()],
                pa.string(),
            )
        )
    return _text_array(
        pa.array([None if v is None else str(v) for v in values.to_pylist()], pa.string())
    )


class _ParquetReader(TableReader):
    def _batches(self) -> Iterator[RawBatch]:
        import pyarrow.parquet as pq

        first = 2
        with pq.ParquetFile(self.info.path) as parquet:
            for record_batch in parquet.iter_batches(batch_size=self.batch_rows):
                n = record_batch.num_rows
                lines = np.arange(first, first + n, dtype=np.int64)
                first += n
                columns = {
                    key: column_text(record_batch.column(i))
                    for i, key in enumerate(self.info.column_names)
                }
                yield self._drop_blank(lines, columns)


def _open_parquet(path: Path, *, batch_rows: int, names: Sequence[str] | None) -> TableReader:
    import pyarrow.parquet as pq

    try:
        with pq.ParquetFile(path) as parquet:
            stored = list(parquet.schema_arrow.names)
    except (pa.ArrowException, OSError) as exc:
        raise IngestError(
            gettext("%(file)s cannot be read as Parquet (%(reason)s).")
            % {"file": path.name, "reason": exc},
            code=IngestErrorCode.UNREADABLE_FILE,
            extra={"path": str(path)},
        ) from None
    if names is not None and len(names) != len(stored):
        raise IngestError(
            gettext("%(file)s has %(columns)s columns but %(names)s names were given.")
            % {"file": path.name, "columns": len(stored), "names": len(names)},
            code=IngestErrorCode.UNREADABLE_FILE,
            extra={"path": str(path), "columns": stored},
        )
    written = tuple(strip_wrappers(n) for n in (stored if names is None else names))
    keys = _unique_keys(written)
    info = FileInfo(path, SourceFormat.PARQUET, None, None, written, 0, None, keys)
    return _ParquetReader(info, batch_rows=batch_rows)
