"""What an import file may hold: limits that keep any file's import in bounded memory.

A hostile or broken file (a 1.6 KB workbook whose one cell sits at ``XFD1048576``, a zip
that unpacks to a gibibyte) is refused with a message that says which limit it passes,
before anything large is allocated. Each limit can be raised from the environment
(``PATRON_IMPORT_<NAME>``) for a machine with more memory.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


def _env_int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(f"PATRON_IMPORT_{name}", default))
    except ValueError:
        return default


# Columns of a table (header width), in any format.
MAX_COLUMNS = _env_int("MAX_COLUMNS", 2_000)
# Rows of an Excel sheet: Excel's own limit.
MAX_SHEET_ROWS = _env_int("MAX_SHEET_ROWS", 1_048_576)
# Cells of the rectangle an Excel sheet spans (rows x columns from A1 to its last used cell)
# up to which the fast workbook reader (calamine, which holds that rectangle in memory at
# about 70 bytes a cell) is used; a larger sheet is streamed row by row (xlsx_stream).
MAX_SHEET_CELLS = _env_int("MAX_SHEET_CELLS", 3_000_000)
# Bytes of shared text a streamed workbook may hold (kept in memory while its rows stream).
MAX_SHARED_STRINGS_BYTES = _env_int("MAX_SHARED_STRINGS_MB", 96) * 1024 * 1024
# Bytes one part of an .xlsx or one entry of a .zip unpacks to, and the ratio of unpacked to
# packed size above which a part is refused (real exports compress 5-30 times).
MAX_UNPACKED_BYTES = _env_int("MAX_UNPACKED_MB", 1_024) * 1024 * 1024
MAX_PACK_RATIO = _env_int("MAX_PACK_RATIO", 100)
# Below this an entry's ratio is not checked: a small part may compress very well.
RATIO_FLOOR_BYTES = 8 * 1024 * 1024
# Characters of one cell: longer is a broken file (a quote left open), not data.
MAX_CELL_CHARS = _env_int("MAX_CELL_CHARS", 100_000)
# Skipped lines and row problems kept for the report; beyond this they are only counted.
KEEP_LINES = 1_000


class Tally(Generic[T]):
    """A count of items that keeps only the first ``keep``: ``len()`` is the count.

    Readers note every blank or malformed line here; a file of millions of them then costs
    a number, not an object per line.
    """

    def __init__(self, items: Iterable[T] = (), *, keep: int = KEEP_LINES) -> None:
        self.keep = keep
        self.kept: list[T] = []
        self.count = 0
        self.extend(items)

    def append(self, item: T) -> None:
        self.count += 1
        if len(self.kept) < self.keep:
            self.kept.append(item)

    def extend(self, items: Iterable[T]) -> None:
        for item in items:
            self.append(item)

    def add_count(self, count: int) -> None:
        """Count ``count`` more items that are not kept."""
        self.count += count

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[T]:
        return iter(self.kept)

    def __bool__(self) -> bool:
        return self.count > 0

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Tally):
            return (self.count, self.kept) == (other.count, other.kept)
        if isinstance(other, list):
            return self.count == len(other) and self.kept == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]
