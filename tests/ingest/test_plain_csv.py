"""The Arrow fast path for plain text reads exactly what the row-by-row reader reads."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patron.ingest.reading import open_table, plain_csv
from patron.ingest.reading.plain_csv import plain_data_offset

_cell = st.text(alphabet="ab 1.-客户", max_size=6)


def _read(path: Path, *, fast: bool, batch_rows: int = 3) -> tuple[list[int], dict[str, list]]:
    reader = open_table(path, known_columns=["id", "amount"], batch_rows=batch_rows)
    if not fast:
        reader._plain_batches = lambda: None  # type: ignore[method-assign]
    lines: list[int] = []
    columns: dict[str, list] = {}
    for batch in reader.batches():
        lines += [int(n) for n in batch.lines]
        for name, values in batch.columns.items():
            columns.setdefault(name, []).extend(values.to_pylist())
    return lines, columns


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.lists(_cell, min_size=3, max_size=3), min_size=1, max_size=30),
    preamble=st.integers(0, 3),
    terminator=st.sampled_from(["\n", "\r\n"]),
    final_newline=st.booleans(),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]),
    chunk=st.integers(2, 40),
)
def test_fast_path_equals_row_by_row(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    rows: list[list[str]],
    preamble: int,
    terminator: str,
    final_newline: bool,
    encoding: str,
    chunk: int,
) -> None:
    # given a plain file (no quotes, every line as wide as the header), read in tiny chunks
    monkeypatch.setattr(plain_csv, "_CHUNK", chunk)
    rows = [r for r in rows if any(c.strip() for c in r)] or [["x", "1", "2"]]
    text = "".join(f"report {i}{terminator}" for i in range(preamble))
    text += "id,amount,note" + terminator
    text += terminator.join(",".join(r) for r in rows)
    text += terminator if final_newline else ""
    path = tmp_path / "plain.csv"
    path.write_bytes(text.encode(encoding))
    # then the fast path is taken and gives the same cells and line numbers
    reader = open_table(path, known_columns=["id", "amount"], batch_rows=3)
    assert reader._plain_batches() is not None
    assert _read(path, fast=True) == _read(path, fast=False)
    first_line = preamble + 2
    assert _read(path, fast=True)[0] == list(range(first_line, first_line + len(rows)))


@pytest.mark.parametrize(
    "body",
    [
        'a,"1\nb",x\n',  # a quoted line break
        'a, "1",x\n',  # a quote after a space: Python skips the space, Arrow would not
        'a,"1,2",x,y\n',  # a quoted delimiter in a row one cell too wide
        "a,1,x\n\nb,2,y\n",  # a blank line: reported as skipped
        "a,1,x\nb,2\n",  # a short line
        "a,1,x,extra\n",  # a wide line
        "a,1,x\rb,2,y\n",  # a lone carriage return
        "a,1\x00,x\n",  # a NUL
        "a,1,x\nb,2",  # a short last line without its newline
    ],
)
def test_anything_not_plain_takes_the_row_by_row_path(tmp_path: Path, body: str) -> None:
    path = tmp_path / "odd.csv"
    path.write_text("id,amount,note\n" + body, encoding="utf-8")
    offset = plain_data_offset(path, encoding="utf-8", delimiter=",", header_line=1, width=3)
    assert offset is None


def test_plain_offset_points_after_the_header(tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    path.write_bytes("导出时间 2024\nid,amount,note\na,1,x\n".encode("gb18030"))
    offset = plain_data_offset(path, encoding="gb18030", delimiter=",", header_line=2, width=3)
    assert offset is not None
    assert path.read_bytes()[offset:] == b"a,1,x\n"


def test_errors_in_a_large_plain_file_name_their_lines(tmp_path: Path) -> None:
    # given 30,000 plain rows, three of them bad, read by the fast path
    n = 30_000
    amounts = np.round(np.arange(n) * 0.5, 2).astype(str).astype(object)
    dates = np.array(["2024-03-01"] * n, dtype=object)
    amounts[[10, 12_345, 29_999]] = ["abc", "1/2x", "--"]
    path = tmp_path / "big.csv"
    path.write_text(
        "id,date,amount\n" + "".join(f"C{i},{dates[i]},{amounts[i]}\n" for i in range(n)),
        encoding="utf-8",
    )
    lines, columns = _read(path, fast=True, batch_rows=4096)
    # then every row keeps its physical line: row i is on line i + 2
    assert lines == list(range(2, n + 2))
    assert [lines[i] for i, v in enumerate(columns["amount"]) if v in {"abc", "1/2x", "--"}] == [
        12,
        12_347,
        30_001,
    ]


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.lists(st.text(alphabet='ab1,."客=', max_size=6), min_size=3, max_size=3),
        min_size=1,
        max_size=30,
    ),
    quote_all=st.booleans(),
    taobao_ids=st.booleans(),
    encoding=st.sampled_from(["utf-8", "gb18030"]),
    chunk=st.integers(2, 40),
)
def test_quoted_cells_read_the_same_by_both_paths(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    rows: list[list[str]],
    quote_all: bool,
    taobao_ids: bool,
    encoding: str,
    chunk: int,
) -> None:
    # given cells with delimiters, doubled quotes and Taobao's ="..." ids, one record a line
    monkeypatch.setattr(plain_csv, "_CHUNK", chunk)
    buffer = io.StringIO()
    writer = csv.writer(
        buffer, lineterminator="\r\n", quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL
    )
    writer.writerow(["id", "amount", "note"])
    for row in rows:
        if taobao_ids:
            # real ids are digits; an id holding a quote or comma is not a Taobao id
            ident = row[0].replace('"', "").replace(",", "")
            buffer.write(f'="{ident}",')
            writer.writerow(row[1:])
        else:
            writer.writerow(row)
    path = tmp_path / "quoted.csv"
    path.write_bytes(buffer.getvalue().encode(encoding))
    # then the fast path is taken and gives what the row-by-row reader gives
    reader = open_table(path, known_columns=["id", "amount"], batch_rows=3)
    if reader.info.header_line == 1 and reader.info.delimiter == ",":
        assert reader._plain_batches() is not None
    assert _read(path, fast=True) == _read(path, fast=False)


def test_a_preview_reads_its_rows_without_scanning_the_whole_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from patron.ingest.mapping import EntityKind
    from patron.ingest.preview import file_preview
    from patron.ingest.reading import text

    # given a plain file, and a scan that must not run
    path = tmp_path / "plain.csv"
    path.write_text(
        "customer_id,date,amount\n" + "".join(f"C{i},2024-01-02,{i}.5\n" for i in range(500)),
        encoding="utf-8",
    )

    def no_scan(*args: object, **kwargs: object) -> None:
        raise AssertionError("a preview scanned the whole file")

    monkeypatch.setattr(text, "plain_data_offset", no_scan)
    # when the first rows are previewed, then they come from the row-by-row reader
    preview = file_preview(path, kind=EntityKind.TRANSACTIONS, rows=3)
    assert [row[0] for row in preview.sample] == [2, 3, 4]
