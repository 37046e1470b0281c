"""A fast path for plain delimited text: Arrow's CSV reader where it reads exactly as Python's.

Most large files are machine-written: one record per line, every line as wide as the header.
For those, Arrow's C++ reader gives the same cells as ``csv.reader`` (leading spaces aside,
which the readers trim anyway) and each record's line number is its position, several times
faster. A file is plain when, after its header:

- no line is blank, no carriage return stands alone and no NUL occurs;
- without any quote character: every line has exactly ``width - 1`` delimiters;
- with quotes (``="1930679858"``, ``"a,b"``): every line holds an even number of them, so
  no quoted cell runs over a line break, no quote follows a space or tab (where Python's
  ``skipinitialspace`` and Arrow differ), and a first pass of Arrow's parser finds every
  row exactly as wide as the header.

Anything else (quoted line breaks, trailers, ragged or blank rows) takes the row-by-row
path, so those keep their one behaviour and their exact line numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

_CHUNK = 16 << 20
_BLOCK = 1 << 20  # Arrow's read block
_MAX_LINE = _BLOCK // 2
# Byte-safe: in GB18030 the bytes of these characters never occur inside a multi-byte one.
_ENCODINGS = {"utf-8": "utf8", "utf-8-sig": "utf8", "gb18030": "gb18030"}
_DELIMITERS = {",", "\t", ";"}
_QUOTE, _NEWLINE, _RETURN, _NUL, _SPACE, _TAB = 0x22, 0x0A, 0x0D, 0x00, 0x20, 0x09


class _PerLine:
    """How often one byte occurs on each line, across chunks."""

    def __init__(self, byte: int) -> None:
        self.byte = byte
        self.carried = 0  # on the line that runs over from the previous chunk
        self.seen = False

    def counts(self, data: np.ndarray, start: int, newlines: np.ndarray) -> np.ndarray:
        """Counts on the lines ending at ``newlines`` (positions of this chunk)."""
        marks = np.flatnonzero(data[start:] == self.byte) + start
        self.seen = self.seen or bool(len(marks))
        before = np.searchsorted(marks, newlines)
        counts = np.diff(before, prepend=0)
        if len(counts):
            counts[0] += self.carried
            self.carried = len(marks) - int(before[-1])
        else:
            self.carried += len(marks)
        return counts


def plain_data_offset(
    path: Path, *, encoding: str, delimiter: str, header_line: int, width: int
) -> int | None:
    """The byte offset of the first data line when the file is plain, else None.

    ``header_line`` is the 1-based line of the header (see the module's docstring).
    """
    if encoding not in _ENCODINGS or delimiter not in _DELIMITERS or width < 2:
        return None
    want = width - 1
    separators, quotes = _PerLine(ord(delimiter)), _PerLine(_QUOTE)
    widths_ok = True  # every line has ``want`` delimiters (what counts without quotes)
    offset: int | None = None  # of the data, once the header line has ended
    lines_seen = 0
    tail_open = False  # bytes after the last newline so far
    position = 0
    return_at_end = False  # a CR ends the previous chunk: its LF must start this one
    last_byte = _NEWLINE
    line_start = 0  # where the current line began (bytes from the file's start)
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            data = np.frombuffer(chunk, dtype=np.uint8)
            if (data == _NUL).any():
                return None
            newlines = np.flatnonzero(data == _NEWLINE)
            # A line longer than Arrow's block cannot be parsed by it ("straddling object").
            ends = newlines + position
            if len(ends) and int(np.diff(ends, prepend=line_start).max()) > _MAX_LINE:
                return None
            line_start = int(ends[-1]) + 1 if len(ends) else line_start
            if position + len(data) - line_start > _MAX_LINE:
                return None
            returns = np.flatnonzero(data == _RETURN)
            if return_at_end and data[0] != _NEWLINE:  # the chunk cut a lone CR
                return None
            return_at_end = bool(len(returns)) and int(returns[-1]) == len(data) - 1
            inner = returns[:-1] if return_at_end else returns
            if len(inner) and not np.isin(inner + 1, newlines).all():
                return None
            previous, last_byte = last_byte, int(data[-1])
            if offset is None:
                needed = header_line - lines_seen
                if len(newlines) < needed:
                    lines_seen += len(newlines)
                    position += len(chunk)
                    continue
                data_from = int(newlines[needed - 1]) + 1
                offset = position + data_from
                newlines = newlines[needed:]
            else:
                data_from = 0
            quoted = np.flatnonzero(data[data_from:] == _QUOTE) + data_from
            if len(quoted):
                before = data[np.maximum(quoted - 1, 0)]
                if quoted[0] == 0:
                    before[0] = previous
                if ((before == _SPACE) | (before == _TAB)).any():
                    return None
            if (quotes.counts(data, data_from, newlines) % 2).any():
                return None
            if not quotes.seen:  # with quotes, Arrow's first pass checks widths (_rows_fit)
                counts = separators.counts(data, data_from, newlines)
                widths_ok = widths_ok and not (counts != want).any()
                if not widths_ok:
                    return None
            if len(newlines):
                tail_open = int(newlines[-1]) != len(data) - 1
            else:
                tail_open = tail_open or len(data) > data_from
            position += len(chunk)
    if return_at_end:  # the file ends in a lone CR
        return None
    if offset is None or offset >= position:  # no data lines: nothing to speed up
        return None
    if tail_open and quotes.carried % 2:
        return None
    if not quotes.seen:
        return offset if widths_ok and not (tail_open and separators.carried != want) else None
    return offset if _rows_fit(path, offset, encoding, delimiter, width) else None


def _rows_fit(path: Path, offset: int, encoding: str, delimiter: str, width: int) -> bool:
    """Arrow's parser finds every row ``width`` cells wide (a first pass, cells dropped)."""
    misfits = 0

    def misfit(row: object) -> str:
        nonlocal misfits
        misfits += 1
        return "skip"

    reader, source = _reader(path, offset, encoding, delimiter, width, on_misfit=misfit)
    try:
        for _batch in reader:
            if misfits:
                return False
    finally:
        source.close()
    return misfits == 0


def _reader(
    path: Path,
    offset: int,
    encoding: str,
    delimiter: str,
    width: int,
    *,
    on_misfit: Callable[[object], str] | None = None,
) -> tuple[pacsv.CSVStreamingReader, pa.NativeFile]:
    keys = [f"c{i}" for i in range(width)]
    source = pa.OSFile(str(path))  # not a memory map: its pages would count as ours
    source.seek(offset)
    reader = pacsv.open_csv(
        source,
        read_options=pacsv.ReadOptions(
            column_names=keys, encoding=_ENCODINGS[encoding], block_size=_BLOCK
        ),
        parse_options=pacsv.ParseOptions(
            delimiter=delimiter,
            quote_char='"',
            double_quote=True,
            newlines_in_values=False,
            ignore_empty_lines=False,
            invalid_row_handler=on_misfit,
        ),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(keys, pa.string()),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    return reader, source


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
    reader, source = _reader(path, offset, encoding, delimiter, len(names))
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
