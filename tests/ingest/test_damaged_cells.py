"""Cells holding a NUL byte or a byte-order mark are row problems naming line and column, on
the fast (Arrow) and the row-by-row path alike; clean cells (and slices of arrays) are not."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from patron.ingest.reading import open_table
from patron.ingest.reading.base import _may_hold


def _problems(path: Path, *, fast: bool) -> tuple[list[tuple[int, str]], list[str]]:
    reader = open_table(path, known_columns=["id", "amount"], batch_rows=2)
    if not fast:
        reader._plain_batches = lambda: None  # type: ignore[method-assign]
    ids: list[str] = []
    for batch in reader.batches():
        ids += batch.columns["id"].to_pylist()
    return [(p.line, p.message.split(":")[0]) for p in reader.problems], ids


@pytest.mark.parametrize("fast", [True, False])
def test_a_byte_order_mark_in_a_cell_is_a_problem_of_its_row(tmp_path: Path, fast: bool) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("id,amount\na1,1\na2,2\nb\ufeff3,3\na4,4\na5,\ufeff5\n", encoding="utf-8")
    problems, ids = _problems(path, fast=fast)
    assert problems == [(4, "line 4, column id"), (6, "line 6, column amount")]
    assert ids == ["a1", "a2", "a4"]


def test_a_nul_byte_in_a_cell_is_a_problem_of_its_row(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_bytes(b"id,amount\na1,1\na\x002,2\na3,3\n")
    problems, ids = _problems(path, fast=True)
    assert problems == [(3, "line 3, column id")]
    assert ids == ["a1", "a3"]


def test_clean_file_has_no_problems(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("id,amount\n" + "".join(f"a{i},{i}\n" for i in range(50)), encoding="utf-8")
    assert _problems(path, fast=True) == ([], [f"a{i}" for i in range(50)])


def test_may_hold_reads_only_the_cells_of_a_slice() -> None:
    cells = pa.array(["a\ufeff", "b", "c", None, "d\x00"])
    assert _may_hold(cells, "\ufeff") and _may_hold(cells, "\x00")
    assert not _may_hold(cells.slice(1, 3), "\ufeff")
    assert not _may_hold(cells.slice(1, 3), "\x00")
    assert _may_hold(cells.slice(4), "\x00")
    assert not _may_hold(pa.array([], pa.string()), "\x00")
    assert not _may_hold(pa.array([None, None], pa.string()), "\x00")
    large = pa.array(["x", "y\ufeff"], pa.large_string())
    assert _may_hold(large, "\ufeff") and not _may_hold(large.slice(0, 1), "\ufeff")
    assert _may_hold(pa.chunked_array([cells]), "\x00")  # not an array: searched cell by cell
