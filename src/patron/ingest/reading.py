"""Streaming readers for import files: CSV/TSV/whitespace text, Excel (.xlsx) and Parquet.

A reader finds the header row, then yields :class:`RawBatch` es of text cells (Arrow string
arrays, whitespace stripped, empty -> null) with the file line of every row, so that a later
stage can report a rejected row by its line. Nothing here knows what the columns mean; values
are cleaned and parsed by :mod:`patron.ingest.cleaning`. No Django import.

Line numbers count like a text editor: a quoted line break inside a cell, a blank line and a
preamble all count, and a row is numbered by the line where it starts. Excel rows are sheet row
numbers; Parquet rows are numbered as if line 1 held the header (row index + 2).
"""

from __future__ import annotations

import codecs
import csv
import functools
import math
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from patron.ingest.cleaning import normalise_header, strip_wrappers
from patron.ingest.errors import IngestError, IngestErrorCode


class SourceFormat(StrEnum):
    CSV = "csv"
    TSV = "tsv"
    WHITESPACE = "whitespace"
    XLSX = "xlsx"
    PARQUET = "parquet"


@dataclass(frozen=True)
class SkippedLine:
    """A line that is not data: ``"preamble"`` (before the header) or ``"blank"``."""

    line: int
    reason: str


@dataclass(frozen=True)
class RowProblem:
    """A row that cannot be read as a row (more filled cells than the header has names)."""

    line: int
    message: str


@dataclass(frozen=True)
class FileInfo:
    """What the reader found out about a file before reading its rows.

    ``header`` holds the names as written (wrappers and whitespace stripped, duplicates kept);
    ``column_names`` the keys of :attr:`RawBatch.columns` in the same order (duplicates made
    unique with ``" (2)"``, unnamed columns called ``"column 3"``).
    """

    path: Path
    format: SourceFormat
    encoding: str | None
    delimiter: str | None
    header: tuple[str, ...]
    header_line: int
    sheet: str | None
    column_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class RawBatch:
    """Rows of text cells: ``lines`` (int64, the file line of each row) and one
    ``pa.string()`` array per column, null for an empty cell."""

    lines: np.ndarray
    columns: dict[str, pa.Array]

    def __len__(self) -> int:
        return len(self.lines)


TEXT_SUFFIXES = frozenset({".csv", ".txt", ".tsv", ".dat"})
XLSX_SUFFIXES = frozenset({".xlsx", ".xlsm"})
PARQUET_SUFFIXES = frozenset({".parquet", ".pq"})
HEADER_SEARCH_ROWS = 60
_ENCODING_SAMPLE = 1 << 20
_SNIFF_CHARS = 1 << 18
_SNIFF_LINES = 200
_DELIMITERS = (",", "\t", ";", "|")
_DELIMITER_ALIASES = {
    "tab": "\t",
    "\\t": "\t",
    "comma": ",",
    "semicolon": ";",
    "pipe": "|",
    " ": None,
    "space": None,
    "whitespace": None,
    "\\s+": None,
}
_DIALECT: dict[str, Any] = {"quotechar": '"', "doublequote": True, "skipinitialspace": True}


class TableReader:
    """Reads one file in batches; ``skipped``, ``problems`` and ``rows_read`` fill while
    iterating (and start afresh on each call of :meth:`batches`)."""

    def __init__(self, info: FileInfo, *, batch_rows: int, preamble: Iterable[int] = ()) -> None:
        self.info = info
        self.batch_rows = max(1, batch_rows)
        self._preamble = tuple(preamble)
        self.skipped: list[SkippedLine] = [SkippedLine(n, "preamble") for n in self._preamble]
        self.problems: list[RowProblem] = []
        self.rows_read = 0

    def batches(self) -> Iterator[RawBatch]:
        """Yield the data rows in batches of at most ``batch_rows``, streaming the file."""
        self.skipped = [SkippedLine(n, "preamble") for n in self._preamble]
        self.problems = []
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
                self.problems.append(
                    RowProblem(
                        line,
                        f"line {line} has {filled[-1] + 1} cells but the header has {width} names",
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

    def _drop_blank(self, lines: np.ndarray, columns: dict[str, pa.Array]) -> RawBatch:
        """Drop rows whose cells are all empty, recording them as blank lines."""
        empty = functools.reduce(pc.and_, (pc.is_null(a) for a in columns.values()))
        if pc.any(empty).as_py():
            blank = np.asarray(empty.to_numpy(zero_copy_only=False), dtype=bool)
            self.skipped.extend(SkippedLine(int(n), "blank") for n in lines[blank])
            keep = pa.array(~blank)
            columns = {name: a.filter(keep) for name, a in columns.items()}
            lines = lines[~blank]
        return RawBatch(lines, columns)


def _text_array(values: pa.Array) -> pa.Array:
    """Cells with surrounding whitespace stripped and empty ones made null."""
    values = pc.utf8_trim_whitespace(values)
    empty = pc.equal(values, "")
    if pc.any(empty).as_py():
        values = pc.if_else(empty, pa.scalar(None, pa.string()), values)
    return values


def _unique_keys(names: Iterable[str]) -> tuple[str, ...]:
    """Column keys: a repeated name gets ``" (2)"``, ``" (3)"``…; an empty one ``"column 3"``."""
    keys: list[str] = []
    seen: set[str] = set()
    for i, name in enumerate(names):
        base = name or f"column {i + 1}"
        key, n = base, 1
        while key in seen:
            n += 1
            key = f"{base} ({n})"
        seen.add(key)
        keys.append(key)
    return tuple(keys)


def _names(header: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Header names as written (trailing empty cells dropped) and the column keys."""
    written = [strip_wrappers(cell) for cell in header]
    while written and not written[-1]:
        written.pop()
    return tuple(written), _unique_keys(written)


def _find_header(rows: Iterable[tuple[int, list[str]]], known: Collection[str]) -> int | None:
    """Index (in ``rows``) of the header: the first row naming a known column within the first
    :data:`HEADER_SEARCH_ROWS` non-blank rows, else the first non-blank row."""
    folded = {normalise_header(name) for name in known} - {""}
    first: int | None = None
    seen = 0
    for i, (_, row) in enumerate(rows):
        if not any(cell.strip() for cell in row):
            continue
        if first is None:
            first = i
            if not folded:
                break
        if any(normalise_header(cell) in folded for cell in row):
            return i
        seen += 1
        if seen >= HEADER_SEARCH_ROWS:
            break
    return first


# --------------------------------------------------------------------------- text files


def detect_encoding(path: Path) -> str:
    """BOM -> ``utf-8-sig`` / ``utf-16`` / ``utf-32``; valid UTF-8 in the first MiB ->
    ``utf-8``; anything else -> ``gb18030`` (a superset of GBK)."""
    with path.open("rb") as f:
        head = f.read(_ENCODING_SAMPLE + 1)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = head[:_ENCODING_SAMPLE]
    try:
        # An incremental decoder accepts a multi-byte character cut at the end of the sample.
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=len(head) <= len(sample))
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


def _records(
    lines: list[str], delimiter: str | None, *, complete: bool
) -> list[tuple[int, list[str]]]:
    """Parse the sample lines into (start line, cells); unless the sample is the whole file,
    its last record (perhaps cut short) is dropped."""
    if delimiter is None:
        rows = [(n, line.split()) for n, line in enumerate(lines, start=1)]
        return rows if complete else rows[:-1]
    reader = csv.reader(iter(lines), delimiter=delimiter, **_DIALECT)
    out: list[tuple[int, list[str]]] = []
    try:
        prev = 0
        for row in reader:
            out.append((prev + 1, row))
            prev = reader.line_num
    except csv.Error:
        pass
    return out if complete else out[:-1]


def _sniff_score(records: list[tuple[int, list[str]]], known: set[str]) -> tuple[int, int, int]:
    """(known names found in one row, rows with the usual cell count, that count)."""
    counts = [len(row) for _, row in records if any(cell.strip() for cell in row)]
    wide = Counter(c for c in counts if c >= 2)
    if not wide:
        return (0, 0, 0)
    width, freq = wide.most_common(1)[0]
    hits = max(
        (sum(normalise_header(cell) in known for cell in row) for _, row in records), default=0
    )
    return (hits, freq, width)


def _sniff_delimiter(lines: list[str], known: Collection[str], *, complete: bool) -> str | None:
    """The delimiter of a text sample, or None for runs of whitespace (CDNOW style): the one
    that shows a known column name, then the one giving most rows the same cell count (ties go
    to comma, tab, semicolon, pipe, whitespace in that order)."""
    folded = {normalise_header(name) for name in known} - {""}
    best: tuple[tuple[int, int, int], str | None] = ((0, 0, 0), ",")
    for candidate in (*_DELIMITERS, None):
        score = _sniff_score(_records(lines, candidate, complete=complete), folded)
        if score > best[0]:
            best = (score, candidate)
    return best[1]


def _resolve_delimiter(delimiter: str) -> str | None:
    if delimiter in _DELIMITER_ALIASES:
        return _DELIMITER_ALIASES[delimiter]
    if len(delimiter) != 1:
        raise IngestError(
            f"The delimiter must be one character (or 'tab', 'whitespace'), not {delimiter!r}.",
            code=IngestErrorCode.UNREADABLE_FILE,
            extra={"delimiter": delimiter},
        )
    return delimiter


class _TextReader(TableReader):
    def __init__(
        self,
        info: FileInfo,
        *,
        batch_rows: int,
        preamble: Iterable[int],
        skip_records: int,
    ) -> None:
        super().__init__(info, batch_rows=batch_rows, preamble=preamble)
        self._skip_records = skip_records
        self._last_line = 0

    def _batches(self) -> Iterator[RawBatch]:
        encoding = self.info.encoding or "utf-8"
        try:
            with self.info.path.open(encoding=encoding, newline="", buffering=1 << 20) as f:
                if self.info.format is SourceFormat.WHITESPACE:
                    yield from self._whitespace_batches(f)
                else:
                    yield from self._csv_batches(f)
        except UnicodeDecodeError as exc:
            line = self._last_line + 1
            raise IngestError(
                f"The text near line {line} is not valid {self.info.encoding}: pass --encoding "
                f"(for example gb18030 or utf-8).",
                code=IngestErrorCode.DECODE_ERROR,
                extra={"line": line, "encoding": self.info.encoding, "reason": exc.reason},
            ) from None

    def _csv_batches(self, f: IO[str]) -> Iterator[RawBatch]:
        assert self.info.delimiter is not None
        reader = csv.reader(f, delimiter=self.info.delimiter, **_DIALECT)
        width = len(self.info.column_names)
        fit = self._fit
        size = self.batch_rows
        rows: list[list[str]] = []
        lines: list[int] = []
        try:
            for _ in range(self._skip_records):
                next(reader)
            prev = reader.line_num
            for row in reader:
                start = prev + 1
                prev = reader.line_num
                if len(row) != width:
                    fitted = fit(row, start, width)
                    if fitted is None:
                        continue
                    row = fitted
                rows.append(row)
                lines.append(start)
                if len(rows) >= size:
                    self._last_line = prev
                    yield self._batch(rows, lines)
                    rows, lines = [], []
            self._last_line = prev
        except csv.Error as exc:
            line = reader.line_num
            raise IngestError(
                f"Line {line} cannot be read as CSV ({exc}); is a quote left open above it?",
                code=IngestErrorCode.MALFORMED_FILE,
                extra={"line": line},
            ) from None
        except UnicodeDecodeError:
            self._last_line = reader.line_num
            raise
        if rows:
            yield self._batch(rows, lines)

    def _whitespace_batches(self, f: IO[str]) -> Iterator[RawBatch]:
        width = len(self.info.column_names)
        fit = self._fit
        size = self.batch_rows
        rows: list[list[str]] = []
        lines: list[int] = []
        number = self.info.header_line
        try:
            for _ in range(number):
                next(f)
            for text in f:
                number += 1
                row = text.split()
                if len(row) != width:
                    fitted = fit(row, number, width)
                    if fitted is None:
                        continue
                    row = fitted
                rows.append(row)
                lines.append(number)
                if len(rows) >= size:
                    yield self._batch(rows, lines)
                    rows, lines = [], []
        except UnicodeDecodeError:
            self._last_line = number
            raise
        if rows:
            yield self._batch(rows, lines)


def _open_text(
    path: Path,
    *,
    encoding: str | None,
    delimiter: str | None,
    known: Collection[str],
    batch_rows: int,
    names: Sequence[str] | None,
) -> TableReader:
    if encoding is None:
        encoding = detect_encoding(path)
    else:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise IngestError(
                f"Unknown encoding {encoding!r}; try utf-8, utf-8-sig, gbk or gb18030.",
                code=IngestErrorCode.UNKNOWN_ENCODING,
                extra={"encoding": encoding},
            ) from None
    lines: list[str] = []
    size = 0
    complete = True
    with path.open(encoding=encoding, errors="replace", newline="") as f:
        for text in f:
            if len(lines) >= _SNIFF_LINES or size >= _SNIFF_CHARS:
                complete = False
                break
            lines.append(text)
            size += len(text)
    if delimiter is None:
        sep = _sniff_delimiter(lines, known, complete=complete)
    else:
        sep = _resolve_delimiter(delimiter)
    fmt = (
        SourceFormat.WHITESPACE
        if sep is None
        else SourceFormat.TSV
        if sep == "\t"
        else SourceFormat.CSV
    )
    if names is not None:
        info = FileInfo(path, fmt, encoding, sep, tuple(names), 0, None, _unique_keys(names))
        return _TextReader(info, batch_rows=batch_rows, preamble=(), skip_records=0)
    records = _records(lines, sep, complete=complete)
    index = _find_header(records, known)
    if index is None:
        raise IngestError(
            f"{path.name} has no header row (the file is empty or blank).",
            code=IngestErrorCode.EMPTY_FILE,
            extra={"path": str(path)},
        )
    header_line, header_row = records[index]
    written, keys = _names(header_row)
    info = FileInfo(path, fmt, encoding, sep, written, header_line, None, keys)
    return _TextReader(
        info,
        batch_rows=batch_rows,
        preamble=range(1, header_line),
        skip_records=index + 1,
    )


# --------------------------------------------------------------------------- Excel


def _cell_text(value: object) -> str:
    """An Excel cell as the text the same value would have in a CSV export."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 2**53:
            return str(int(value))
        return repr(value) if math.isfinite(value) else ""
    if isinstance(value, datetime):
        text = value.strftime("%Y-%m-%d %H:%M:%S")
        return f"{text}.{value.microsecond:06d}" if value.microsecond else text
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat()
    return "" if value is None else str(value)


class _XlsxReader(TableReader):
    def _batches(self) -> Iterator[RawBatch]:
        width = len(self.info.column_names)
        size = self.batch_rows
        rows: list[list[str]] = []
        lines: list[int] = []
        with _xlsx_rows(self.info.path, self.info.sheet) as (_, sheet_rows):
            for number, cells in sheet_rows:
                if number <= self.info.header_line:
                    continue
                row = [c if c.__class__ is str else _cell_text(c) for c in cells]
                if len(row) != width:
                    fitted = self._fit(row, number, width)
                    if fitted is None:
                        continue
                    row = fitted
                rows.append(row)
                lines.append(number)
                if len(rows) >= size:
                    yield self._batch(rows, lines)
                    rows, lines = [], []
        if rows:
            yield self._batch(rows, lines)


@contextmanager
def _xlsx_rows(
    path: Path, sheet: str | None
) -> Iterator[tuple[str, Iterator[tuple[int, list[Any]]]]]:
    """Open a workbook sheet and iterate ``(sheet row number, cells)``; closes the workbook."""
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises several unrelated types
        raise IngestError(
            f"{path.name} cannot be read as an Excel workbook ({exc}).",
            code=IngestErrorCode.UNREADABLE_FILE,
            extra={"path": str(path)},
        ) from None
    try:
        names = list(book.sheet_names)
        if sheet is not None and sheet not in names:
            raise IngestError(
                f"{path.name} has no sheet {sheet!r}; its sheets are {', '.join(names)}.",
                code=IngestErrorCode.SHEET_NOT_FOUND,
                extra={"sheet": sheet, "sheets": names},
            )
        if not names:
            raise IngestError(
                f"{path.name} has no sheets.",
                code=IngestErrorCode.EMPTY_FILE,
                extra={"path": str(path)},
            )
        name = sheet if sheet is not None else names[0]
        # calamine's row iterator starts at sheet row 1 (leading empty rows included).
        yield name, enumerate(book.get_sheet_by_name(name).iter_rows(), start=1)
    finally:
        book.close()


def _open_xlsx(
    path: Path,
    *,
    sheet: str | None,
    known: Collection[str],
    batch_rows: int,
    names: Sequence[str] | None,
) -> TableReader:
    if names is not None:
        with _xlsx_rows(path, sheet) as (name, _):
            pass
        info = FileInfo(
            path, SourceFormat.XLSX, None, None, tuple(names), 0, name, _unique_keys(names)
        )
        return _XlsxReader(info, batch_rows=batch_rows, preamble=())
    with _xlsx_rows(path, sheet) as (name, sheet_rows):
        head: list[tuple[int, list[str]]] = []
        filled = 0
        for number, cells in sheet_rows:
            row = [_cell_text(c) for c in cells]
            head.append((number, row))
            filled += any(c.strip() for c in row)
            if filled > HEADER_SEARCH_ROWS:
                break
    index = _find_header(head, known)
    if index is None:
        raise IngestError(
            f"Sheet {name!r} of {path.name} is empty.",
            code=IngestErrorCode.EMPTY_FILE,
            extra={"path": str(path), "sheet": name},
        )
    header_line, header_row = head[index]
    written, keys = _names(header_row)
    info = FileInfo(path, SourceFormat.XLSX, None, None, written, header_line, name, keys)
    return _XlsxReader(info, batch_rows=batch_rows, preamble=range(1, header_line))


# --------------------------------------------------------------------------- Parquet


def _column_text(values: pa.Array | pa.ChunkedArray) -> pa.Array:
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
                    key: _column_text(record_batch.column(i))
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
            f"{path.name} cannot be read as Parquet ({exc}).",
            code=IngestErrorCode.UNREADABLE_FILE,
            extra={"path": str(path)},
        ) from None
    if names is not None and len(names) != len(stored):
        raise IngestError(
            f"{path.name} has {len(stored)} columns but {len(names)} names were given.",
            code=IngestErrorCode.UNREADABLE_FILE,
            extra={"path": str(path), "columns": stored},
        )
    written = tuple(strip_wrappers(n) for n in (stored if names is None else names))
    keys = _unique_keys(written)
    info = FileInfo(path, SourceFormat.PARQUET, None, None, written, 0, None, keys)
    return _ParquetReader(info, batch_rows=batch_rows)


# --------------------------------------------------------------------------- entry point


def open_table(
    path: str | Path,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
    known_columns: Collection[str] = (),
    batch_rows: int = 50_000,
    names: Sequence[str] | None = None,
) -> TableReader:
    """Open an import file: format from the extension, encoding and delimiter sniffed unless
    given, header row found by ``known_columns``.

    ``names`` is for a file without a header row (the CDNOW sample): every row is data, the
    columns take these names and ``info.header_line`` is 0.

    Raises
    ------
    IngestError
        The file is missing, of an unknown kind, empty, undecodable or has no such sheet.
    """
    path = Path(path)
    if not path.is_file():
        raise IngestError(
            f"No file at {path}.", code=IngestErrorCode.FILE_NOT_FOUND, extra={"path": str(path)}
        )
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return _open_text(
            path,
            encoding=encoding,
            delimiter=delimiter,
            known=known_columns,
            batch_rows=batch_rows,
            names=names,
        )
    if suffix in XLSX_SUFFIXES:
        return _open_xlsx(
            path, sheet=sheet, known=known_columns, batch_rows=batch_rows, names=names
        )
    if suffix in PARQUET_SUFFIXES:
        return _open_parquet(path, batch_rows=batch_rows, names=names)
    supported = sorted(TEXT_SUFFIXES | XLSX_SUFFIXES | PARQUET_SUFFIXES)
    raise IngestError(
        f"{path.name}: unsupported file type {suffix or '(none)'}; use {', '.join(supported)}.",
        code=IngestErrorCode.UNSUPPORTED_FORMAT,
        extra={"path": str(path), "suffix": suffix},
    )
