"""Helpers shared by the readers: text cells, column keys and the header-row search."""

from __future__ import annotations

from collections.abc import Collection, Iterable

import pyarrow as pa
import pyarrow.compute as pc

from patron.ingest.cleaning import normalise_header, strip_wrappers

HEADER_SEARCH_ROWS = 60


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
