"""A fast path for plain delimited text: Arrow's CSV reader where it reads exactly as Python's.

Most large files are machine-written: no quotes, one record per line, every line as wide as
the header. For those, Arrow's C++ reader gives the same cells as ``csv.reader`` (leading
spaces aside, which the readers trim anyway) and each record's line number is its position,
several times faster. A file that is not plain in every byte after its header (a quote, a
blank or ragged line, a lone carriage return, a NUL) takes the row-by-row path instead, so
quoted line breaks, padding and the exact line numbers of errors keep their one behaviour.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

_CHUNK = 16 << 20
# Byte-safe: in GB18030 the bytes of these characters never occur inside a multi-byte one.
_ENCODINGS = {"utf-8": "utf8", "utf-8-sig": "utf8", "gb18030": "gb18030"}
_DELIMITERS = {",", "\t", ";"}
_QUOTE, _NEWLINE, _RETURN, _NUL = 0x22, 0x0A, 0x0D, 0x00


def plain_data_offset(
    path: Path, *, encoding: str, delimiter: str, header_line: int, width: int
) -> int | None:
    """The byte offset of the first data line when the file is plain, else None.

    ``header_line`` is the 1-based line of the header; plain means no quote anywhere up to
    the end of the file (so records are lines), no lone carriage return or NUL, and every
    line after the header with exactly ``width - 1`` delimiters (so none is blank).
    """
    if encoding not in _ENCODINGS or delimiter not in _DELIMITERS or width < 2:
        return None
    separator = ord(delimiter)
    want = width - 1
    offset: int | None = None  # of the data, once the header line has ended
    lines_seen = 0
    carried = 0  # delimiters on the line that runs over from the previous chunk
    tail_open = False  # bytes after the last newline so far
    position = 0
    return_at_end = False  # a CR ends the previous chunk: its LF must start this one
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            data = np.frombuffer(chunk, dtype=np.uint8)
            if (data == _QUOTE).any() or (data == _NUL).any():
                return None
            newlines = np.flatnonzero(data == _NEWLINE)
            returns = np.flatnonzero(data == _RETURN)
            if return_at_end and data[0] != _NEWLINE:  # the chunk cut a lone CR
                return None
            return_at_end = bool(len(returns)) and int(returns[-1]) == len(data) - 1
            inner = returns[:-1] if return_at_end else returns
            if len(inner) and not np.isin(inner + 1, newlines).all():
                return None
            if offset is None:
                needed = header_line - lines_seen
                if len(newlines) < needed:
                    lines_seen += len(newlines)
                    position += len(chunk)
                    continue
                start = int(newlines[needed - 1]) + 1
                offset = position + start
                newlines = newlines[needed:]
                data_from = start
            else:
                data_from = 0
            marks = np.flatnonzero(data[data_from:] == separator) + data_from
            # Delimiters per line: those before each newline, minus those before the last.
            before = np.searchsorted(marks, newlines)
            counts = np.diff(before, prepend=0)
            if len(counts):
                counts[0] += carried
                if (counts != want).any():
                    return None
                carried = len(marks) - int(before[-1])
                tail_open = int(newlines[-1]) != len(data) - 1
            else:
                carried += len(marks)
                tail_open = tail_open or len(data) > data_from
            position += len(chunk)
    if return_at_end:  # the file ends in a lone CR
        return None
    if offset is None or offset >= position:  # no data lines: nothing to speed up
        return None
    if tail_open and carried != want:  # the last line has no newline
        return None
    return offset


def plain_batches(
    path: Path,
    *,
    offset: int,
    encoding: str,
    delimiter: str,
    names: tuple[str, ...],
    batch_rows: int,
) -> Iterator[pa.Table]:
    """Tables of at most ``batch_rows`` rows, every column text, read from ``offset`` on."""
    keys = [f"c{i}" for i in range(len(names))]
    source = pa.OSFile(str(path))  # not a memory map: its pages would count as ours
    source.seek(offset)
    reader = pacsv.open_csv(
        source,
        read_options=pacsv.ReadOptions(
            column_names=keys, encoding=_ENCODINGS[encoding], block_size=8 << 20
        ),
        parse_options=pacsv.ParseOptions(
            delimiter=delimiter, quote_char=False, ignore_empty_lines=False
        ),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(keys, pa.string()),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    pending: list[pa.RecordBatch] = []
    size = 0
    try:
        for batch in reader:
            pending.append(batch)
            size += batch.num_rows
            while size >= batch_rows:
                table = pa.Table.from_batches(pending)
                yield table.slice(0, batch_rows).rename_columns(list(names))
                rest = table.slice(batch_rows)
                pending, size = rest.to_batches(), rest.num_rows
        if size:
            yield pa.Table.from_batches(pending).rename_columns(list(names))
    finally:
        source.close()
