"""CSV/TSV/whitespace text files: encoding and delimiter sniffing, header search, streaming."""

from __future__ import annotations

import codecs
import csv
import re
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np
import pyarrow as pa

from patron.ingest.cleaning import normalise_header
from patron.ingest.errors import IngestError, IngestErrorCode
from patron.ingest.i18n import gettext, gettext_noop
from patron.ingest.reading._columns import _find_header, _names, _text_array, _unique_keys
from patron.ingest.reading.base import TableReader
from patron.ingest.reading.plain_csv import plain_batches, plain_data_offset
from patron.ingest.reading.types import FileInfo, RawBatch, SourceFormat

TEXT_SUFFIXES = frozenset({".csv", ".txt", ".tsv", ".dat"})
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


def _dialect(delimiter: str) -> dict[str, Any]:
    """Python's csv misreads quoted cells when skipinitialspace meets a whitespace delimiter
    (``""<TAB>"x"`` keeps its quotes): skip initial spaces only after other delimiters."""
    return {**_DIALECT, "skipinitialspace": not delimiter.isspace()}


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


def mixed_encoding_lines(path: Path) -> tuple[int, int] | None:
    """In a file that is not UTF-8 as a whole: the first line written in UTF-8 (non-ASCII,
    valid UTF-8) and the first that is not, when both occur; else None.

    Such a file mixes two encodings (lines pasted from another export): read as GB18030,
    its UTF-8 lines would turn "张三" into "寮犱笁" without a word.
    """
    utf8 = other = 0
    with path.open("rb") as f:
        for number, raw in enumerate(f, start=1):
            if raw.isascii():
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                other = other or number
            else:
                # GBK bytes are valid UTF-8 now and then (a short name): then they read as
                # Latin, Cyrillic or a lone CJK character. Only Chinese text in UTF-8 counts.
                wide = [ch for ch in text if ord(ch) > 0x7F]
                if len(wide) >= 2 and all(map(_common_chinese, wide)):
                    utf8 = utf8 or number
            if utf8 and other:
                return utf8, other
    return None


def _common_chinese(ch: str) -> bool:
    """Chinese punctuation, or one of GB2312's 3,755 common characters (GBK bytes read as
    UTF-8 give rare ones, when they give Chinese at all)."""
    if _CHINESE_PUNCTUATION.match(ch):
        return True
    try:
        lead = ch.encode("gb2312")[0]
    except UnicodeEncodeError:
        return False
    return 0xB0 <= lead <= 0xD7


_CHINESE_PUNCTUATION = re.compile("[\u3000-\u303f\uff01-\uff5e\u00b7\u2014\u2018-\u201d\u2026]")


MIXED_ENCODINGS = gettext_noop(
    "%(file)s mixes two text encodings: line %(utf8)s is written in UTF-8 but line %(other)s "
    "is not (GBK/GB18030?). Read as one, the other's Chinese would change into other "
    "characters: save the whole file in one encoding (UTF-8) and import it again."
)


def _records(
    lines: list[str], delimiter: str | None, *, complete: bool
) -> list[tuple[int, list[str]]]:
    """Parse the sample lines into (start line, cells); unless the sample is the whole file,
    its last record (perhaps cut short) is dropped."""
    if delimiter is None:
        rows = [(n, line.split()) for n, line in enumerate(lines, start=1)]
        return rows if complete else rows[:-1]
    reader = csv.reader(iter(lines), delimiter=delimiter, **_dialect(delimiter))
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
    # Whitespace splitting knows no quotes: a sample with quoted cells has a real delimiter.
    quoted = any('"' in line for line in lines)
    for candidate in (*_DELIMITERS, *(() if quoted else (None,))):
        score = _sniff_score(_records(lines, candidate, complete=complete), folded)
        if score > best[0]:
            best = (score, candidate)
    return best[1]


def _resolve_delimiter(delimiter: str) -> str | None:
    if delimiter in _DELIMITER_ALIASES:
        return _DELIMITER_ALIASES[delimiter]
    if len(delimiter) != 1:
        raise IngestError(
            gettext(
                "The delimiter must be one character (or 'tab', 'whitespace'), not %(delimiter)s."
            )
            % {"delimiter": repr(delimiter)},
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
                    plain = self._plain_batches()
                    yield from plain if plain is not None else self._csv_batches(f)
        except UnicodeDecodeError as exc:
            line = self._last_line + 1
            raise IngestError(
                gettext(
                    "The text near line %(line)s is not valid %(encoding)s: choose the file's "
                    "text encoding (for example GB18030 or UTF-8; --encoding on the command "
                    "line)."
                )
                % {"line": line, "encoding": self.info.encoding},
                code=IngestErrorCode.DECODE_ERROR,
                extra={"line": line, "encoding": self.info.encoding, "reason": exc.reason},
            ) from None

    def _plain_batches(self) -> Iterator[RawBatch] | None:
        """Arrow's reader when the file is plain after its header (see ``plain_csv``)."""
        info = self.info
        if self.sample_only or info.delimiter is None or self._skip_records != info.header_line:
            return None
        offset = plain_data_offset(
            info.path,
            encoding=info.encoding or "utf-8",
            delimiter=info.delimiter,
            header_line=info.header_line,
            width=len(info.column_names),
        )
        if offset is None:
            return None
        return self._arrow_batches(offset)

    def _arrow_batches(self, offset: int) -> Iterator[RawBatch]:
        info = self.info
        first = info.header_line + 1
        tables = plain_batches(
            info.path,
            offset=offset,
            encoding=info.encoding or "utf-8",
            delimiter=info.delimiter or ",",
            names=info.column_names,
            batch_rows=self.batch_rows,
        )
        while True:
            try:
                table = next(tables)
            except StopIteration:
                return
            except pa.ArrowInvalid as exc:
                if "utf8" not in str(exc).lower() and "decod" not in str(exc).lower():
                    line = first
                    raise IngestError(
                        gettext("Line %(line)s cannot be read as CSV (%(reason)s).")
                        % {"line": line, "reason": exc},
                        code=IngestErrorCode.MALFORMED_FILE,
                        extra={"line": line},
                    ) from None
                raise UnicodeDecodeError(
                    info.encoding or "utf-8", b"", 0, 1, str(exc)
                ) from None  # reported as a decode error after the last good line
            except UnicodeDecodeError as exc:  # bytes the sample did not show
                raise UnicodeDecodeError(
                    info.encoding or "utf-8", b"", 0, 1, str(exc)
                ) from None  # reported as a decode error after the last good line
            lines = np.arange(first, first + table.num_rows, dtype=np.int64)
            first += table.num_rows
            self._last_line = first - 1
            columns = {
                name: _text_array(table.column(name).combine_chunks()) for name in info.column_names
            }
            yield self._drop_blank(lines, columns)

    def _csv_batches(self, f: IO[str]) -> Iterator[RawBatch]:
        assert self.info.delimiter is not None
        reader = csv.reader(f, delimiter=self.info.delimiter, **_dialect(self.info.delimiter))
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
            if "field larger than field limit" in str(exc):
                raise IngestError(
                    gettext(
                        "Line %(line)s has a cell longer than %(limit)s characters: a quote may "
                        "be left open above it, or the file is not a table."
                    )
                    % {"line": line, "limit": f"{csv.field_size_limit():,}"},
                    code=IngestErrorCode.MALFORMED_FILE,
                    extra={"line": line, "limit": csv.field_size_limit()},
                ) from None
            raise IngestError(
                gettext(
                    "Line %(line)s cannot be read as CSV (%(reason)s); is a quote left open "
                    "above it?"
                )
                % {"line": line, "reason": exc},
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
        mixed = mixed_encoding_lines(path) if encoding == "gb18030" else None
        if mixed is not None:
            raise IngestError(
                gettext(MIXED_ENCODINGS) % {"file": path.name, "utf8": mixed[0], "other": mixed[1]},
                code=IngestErrorCode.DECODE_ERROR,
                extra={"utf8_line": mixed[0], "other_line": mixed[1]},
            )
    else:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise IngestError(
                gettext("Unknown encoding %(encoding)s; try utf-8, utf-8-sig, gbk or gb18030.")
                % {"encoding": repr(encoding)},
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
            gettext("%(file)s has no header row (the file is empty or blank).")
            % {"file": path.name},
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
