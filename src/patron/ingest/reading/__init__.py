"""Streaming readers for import files: CSV/TSV/whitespace text, Excel (.xlsx) and Parquet.

A reader finds the header row, then yields :class:`RawBatch` es of text cells (Arrow string
arrays, whitespace stripped, empty -> null) with the file line of every row, so that a later
stage can report a rejected row by its line. Nothing here knows what the columns mean; values
are cleaned and parsed by :mod:`patron.ingest.cleaning`. No Django import.

Line numbers count like a text editor: a quoted line break inside a cell, a blank line and a
preamble all count, and a row is numbered by the line where it starts. Excel rows are sheet row
numbers; Parquet rows are numbered as if line 1 held the header (row index + 2).
"""

from patron.ingest.reading._columns import HEADER_SEARCH_ROWS
from patron.ingest.reading.base import TableReader
from patron.ingest.reading.excel import XLSX_SUFFIXES
from patron.ingest.reading.opener import open_table
from patron.ingest.reading.parquet import PARQUET_SUFFIXES
from patron.ingest.reading.text import _ENCODING_SAMPLE as _ENCODING_SAMPLE  # tests read it
from patron.ingest.reading.text import TEXT_SUFFIXES, detect_encoding
from patron.ingest.reading.types import FileInfo, RawBatch, RowProblem, SkippedLine, SourceFormat

__all__ = [
    "HEADER_SEARCH_ROWS",
    "PARQUET_SUFFIXES",
    "TEXT_SUFFIXES",
    "XLSX_SUFFIXES",
    "FileInfo",
    "RawBatch",
    "RowProblem",
    "SkippedLine",
    "SourceFormat",
    "TableReader",
    "detect_encoding",
    "open_table",
]
