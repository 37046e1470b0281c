"""What a reader reports: the source format, file facts, skipped lines, row problems and batches."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np
import pyarrow as pa


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
    """A row that cannot be read as a row (more filled cells than the header has names, or a
    cell holding bytes no text holds); ``code`` is a ``RowErrorCode`` value."""

    line: int
    message: str
    code: str = "row.shape"


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
