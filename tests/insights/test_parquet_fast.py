"""The set-based Parquet path of ``patron analyze --source`` reads exactly what the importer's
text path reads: the same good rows, the same rejected rows by line, column, value and message,
the same counts. Each case runs both paths on one file and compares them."""

from __future__ import annotations

import datetime as dt
import string
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from patron.ingest.errors import IngestError
from patron.insights import parquet_fast
from patron.insights.sources import AnalysisSourceError, read_transactions_file


@pytest.fixture(autouse=True, params=["first pass as sampled", "quick first pass"])
def _first_pass(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each case twice: the first pass chosen from the file's first rows, and the quick
    first pass forced (then a second pass adds the plain rows it left)."""
    if request.param == "quick first pass":
        monkeypatch.setattr(parquet_fast, "_quick_first", lambda con, plan: True)


def _both(path: Path, monkeypatch: pytest.MonkeyPatch, **options: Any) -> tuple[Any, Any]:
    """(set-based result, text-path result): a FileTransactions or the AnalysisSourceError."""

    def run() -> Any:
        try:
            return read_transactions_file(path, workers=1, **options)
        except AnalysisSourceError as error:
            return error

    calls: list[bool] = []
    plan = parquet_fast.parquet_plan

    def spy(*args: Any, **kwargs: Any) -> Any:
        found = plan(*args, **kwargs)
        calls.append(found is not None)
        return found

    with monkeypatch.context() as m:
        m.setattr(parquet_fast, "parquet_plan", spy)
        fast = run()
    assert calls == [True], "the set-based path was not taken"
    with monkeypatch.context() as m:
        m.setattr(parquet_fast, "parquet_plan", lambda *a, **k: None)
        text = run()
    return fast, text


def _rows(result: Any) -> list[tuple[Any, ...]]:
    table = result.table
    has_order = result.has_order_id
    rows = []
    for row in table.to_pylist():
        rows.append(
            (
                row["customer_id"],
                row["order_date"],
                row["order_id"] if has_order else None,
                row["amount_cents"],
                row["cost_cents"],
                row["is_return"],
            )
        )
    return sorted(rows, key=repr)


def _same(fast: Any, text: Any) -> None:
    assert type(fast) is type(text)
    if isinstance(text, AnalysisSourceError):
        assert str(fast) == str(text)
        assert fast.extra == text.extra
        return
    for name in ("read", "rejected", "cancelled", "date_format", "reading", "columns"):
        assert getattr(fast, name) == getattr(text, name), name
    assert [e.as_dict() for e in fast.errors] == [e.as_dict() for e in text.errors]
    assert fast.rows == text.rows == text.table.num_rows
    assert _rows(fast) == _rows(text)


def _write(path: Path, columns: dict[str, pa.Array], row_group_size: int | None = None) -> Path:
    pq.write_table(pa.table(columns), path, row_group_size=row_group_size)
    return path


ODD_IDS = [
    "C1", " C2 ", "'C3", '="C4"', "`C5", "null", "N/A", "-", "", "   ", None, "1.23E+15",
    "4e5", "C6\n", "客户7", "_8_", "9", "a b", "#N/A", "无退款申请", "C\u30009", "\u00a0C10",
    "X" * 64, "Y" * 65, "客" * 65,  # at and over the 64 characters the store keeps
]  # fmt: skip
ODD_AMOUNTS = [
    12.5, 0.125, 1.005, 2.675, -3.335, 0.0, -0.0, 1e-7, 0.004, 0.01, 999_999_999.99,
    1_234_567_890.25, 1.5e10 + 0.25, 2e11, float("nan"), float("inf"), None, 100.0, 17.999999,
    5.551115e-17, -4.440892e-16, 1e-9, -1e-8, 2e-8, 19.990000000000002, 0.1 + 0.2, 1e-6, -0.004,
]  # fmt: skip


def test_odd_cells_match_the_text_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # given every odd id beside every odd amount, some statuses and costs, and blank rows
    ids, amounts = [], []
    for i in ODD_IDS:
        for a in ODD_AMOUNTS:
            ids.append(i)
            amounts.append(a)
    n = len(ids)
    rng = np.random.default_rng(3)
    statuses = rng.choice(
        np.array(["completed", "退货", " returned ", "cancelled", "作废", "bogus", None], object), n
    )
    costs = [None if k % 3 else round(k * 0.37, 3) for k in range(n)]
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 400, n)]
    blank = rng.random(n) < 0.03
    path = _write(
        tmp_path / "odd.parquet",
        {
            "customer_id": pa.array(
                [None if b else v for v, b in zip(ids, blank, strict=True)], pa.string()
            ),
            "order_date": pa.array(
                [None if b else d for d, b in zip(days, blank, strict=True)], pa.date32()
            ),
            "amount": pa.array(
                [None if b else v for v, b in zip(amounts, blank, strict=True)], pa.float64()
            ),
            "cost": pa.array(
                [None if b else v for v, b in zip(costs, blank, strict=True)], pa.float64()
            ),
            "status": pa.array(
                [None if b else v for v, b in zip(statuses, blank, strict=True)], pa.string()
            ),
            "store": pa.array([None if b else "S1" for b in blank], pa.string()),
        },
        row_group_size=97,
    )
    # when / then: all-or-nothing, and --skip-bad, in small batches
    for skip_bad in (False, True):
        fast, text = _both(path, monkeypatch, skip_bad=skip_bad, batch_rows=150)
        _same(fast, text)
    assert fast.rejected > 0 and fast.cancelled > 0 and fast.rows > 0


@pytest.mark.parametrize("tz", ["Asia/Shanghai", "America/New_York", "Europe/London"])
def test_timestamps_and_transition_days(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tz: str
) -> None:
    # given wall times every 37 minutes across two years of DST transitions, integer ids
    start = np.datetime64("2023-01-01T00:00:00")
    times = start + np.arange(0, 2 * 365 * 24 * 60, 37).astype("timedelta64[m]")
    n = len(times)
    path = _write(
        tmp_path / "times.parquet",
        {
            "member no": pa.array(np.arange(n) % 5000, pa.int64()),
            "order id": pa.array([f"O{k}" if k % 11 else None for k in range(n)], pa.string()),
            "order time": pa.array(times.astype("datetime64[us]")),
            "total": pa.array([Decimal(k % 9999) / 100 for k in range(n)], pa.decimal128(9, 2)),
        },
    )
    # when
    fast, text = _both(path, monkeypatch, tz=tz, batch_rows=10_000)
    # then
    _same(fast, text)
    assert fast.date_format == "%Y-%m-%d %H:%M:%S"


def test_random_files_match_the_text_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(11)
    alphabet = [*(string.ascii_letters + string.digits + " '=\"`-_.,+eE\t"), "客", "\u3000"]
    for case in range(4):
        n = 3000
        ids = [
            "".join(rng.choice(alphabet, int(rng.integers(0, 6))))
            if rng.random() < 0.3
            else f"C{k}"
            for k in range(n)
        ]
        scale = 10.0 ** rng.integers(-3, 11, n)
        amounts = np.round(rng.normal(0, 1, n) * scale, int(rng.integers(0, 4)))
        text_amounts = case % 2 == 1
        days = np.datetime64("2020-01-01") + rng.integers(-3000, 3000, n).astype("timedelta64[D]")
        path = _write(
            tmp_path / f"random{case}.parquet",
            {
                "customer": pa.array(ids, pa.string()),
                "date": pa.array(days, pa.date32()),
                "amount": pa.array([f"{a:.2f}" if a < 1e6 else repr(a) for a in amounts])
                if text_amounts
                else pa.array(amounts),
            },
            row_group_size=int(rng.integers(100, 2000)),
        )
        fast, text = _both(path, monkeypatch, skip_bad=True, batch_rows=int(rng.integers(200, 900)))
        _same(fast, text)


def test_clean_file_is_read_in_duckdb_only(tmp_path: Path) -> None:
    # given a clean file (the benchmark's shape)
    n = 5000
    path = _write(
        tmp_path / "clean.parquet",
        {
            "customer_id": pa.array([f"C{k % 700:05d}" for k in range(n)]),
            "order_date": pa.array(
                np.datetime64("2022-01-01") + (np.arange(n) % 900).astype("timedelta64[D]"),
                pa.date32(),
            ),
            "amount": pa.array(np.round(np.linspace(0.01, 900, n), 2)),
        },
    )
    # when
    result = read_transactions_file(path)
    # then: nothing left the engine, and the table has no order id (every row is an order)
    assert result.table_ is None and result.duckdb is not None
    assert result.read == result.rows == n and not result.errors
    assert "order_id" not in result.ibis_table().columns
    assert result.table.num_rows == n


def test_other_typed_fields_take_the_text_path(tmp_path: Path) -> None:
    # given a field in a type the set-based path does not cover (a quantity as a double)
    path = _write(
        tmp_path / "lines.parquet",
        {
            "customer_id": pa.array(["a", "b"]),
            "order_id": pa.array(["1", "2"]),
            "order_date": pa.array([dt.date(2024, 1, 1)] * 2, pa.date32()),
            "amount": pa.array([1.5, 2.5]),
            "quantity": pa.array([1.0, 2.0]),
        },
    )
    result = read_transactions_file(path)
    assert result.duckdb is None and result.rows == 2 and result.method == "batches"


def test_item_lines_and_extra_fields_match_the_text_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given item lines whose sku, quantity, store and unit price are validated but not
    # analysed, in odd forms (a bad quantity or sku rejects a row), with masked customers
    n = 400
    rng = np.random.default_rng(5)
    skus = ["S1", "1.5E+10", " S2", "", None, "S" * 80, "9"]
    quantities = ["1", "2", "1.5", "x", "", None, "1,200", "３", "-2", "10000000000000000000"]
    stores = ["North", "  South ", None, "E" * 300, "门店"]
    customers = ["C1", "1******6198", "C2", "**博(156******89)", "C3"]
    columns = {
        "customer_id": pa.array([customers[k % len(customers)] for k in range(n)]),
        "order_id": pa.array([f"O{k // 3}" for k in range(n)]),
        "order_date": pa.array(
            np.datetime64("2023-01-01") + rng.integers(0, 500, n).astype("timedelta64[D]"),
            pa.date32(),
        ),
        "amount": pa.array(np.round(rng.uniform(0, 90, n), 2)),
        "sku": pa.array([skus[k % len(skus)] for k in range(n)], pa.string()),
        "quantity": pa.array([quantities[k % len(quantities)] for k in range(n)], pa.string()),
        "store": pa.array([stores[k % len(stores)] for k in range(n)], pa.string()),
        "unit price": pa.array(rng.choice([1.25, 0.125, float("nan"), 3.0], n)),
        "week": pa.array(rng.integers(1, 53, n)),
    }
    path = _write(tmp_path / "lines.parquet", columns, row_group_size=150)
    mapping = {"amount": "amount"}
    fast, text = _both(path, monkeypatch, skip_bad=True, batch_rows=128, mapping=mapping)
    _same(fast, text)
    assert fast.rejected > 0 and fast.reading == "order lines" and fast.method == "set-based"
    assert set(fast.columns) >= {"sku", "quantity", "store", "unit_price"}
    # and in integer types (int64 ids and quantities, a uint64 quantity too large)
    columns["sku"] = pa.array(rng.integers(-5, 10**12, n))
    columns["quantity"] = pa.array(
        [2**64 - 1 if k % 97 == 0 else k % 4 for k in range(n)], pa.uint64()
    )
    columns["customer_id"] = pa.array(rng.integers(0, 50, n))
    path = _write(tmp_path / "typed.parquet", columns, row_group_size=150)
    fast, text = _both(path, monkeypatch, skip_bad=True, batch_rows=128, mapping=mapping)
    _same(fast, text)
    assert fast.rejected > 0 and fast.rows_by_batch < n


def test_fractions_of_a_second_in_a_later_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given ns times on a DST transition day (rows the batches read) in the second batch,
    # whole seconds but one cell of that batch, whose text then shows every cell's fraction
    start = np.datetime64("2023-03-10T00:00:00", "ns")
    times = start + np.arange(0, 40 * 24 * 60, 7).astype("timedelta64[m]")
    assert times[2000] < np.datetime64("2023-03-26") < times[3999]
    times[3000] += np.timedelta64(1, "ns")
    n = len(times)
    path = _write(
        tmp_path / "ns.parquet",
        {
            "customer_id": pa.array(np.arange(n) % 300, pa.int64()),
            "order_date": pa.array(times, pa.timestamp("ns")),
            "amount": pa.array(np.round(np.linspace(1, 99, n), 2)),
        },
    )
    # when
    fast, text = _both(path, monkeypatch, tz="Europe/Berlin", batch_rows=2000, skip_bad=True)
    # then
    _same(fast, text)
    assert 0 < fast.rows_by_batch < n


def test_amount_question_is_asked_as_on_the_text_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a Parquet file whose "amount" holds small whole numbers beside a sales value
    path = _write(
        tmp_path / "grocery.parquet",
        {
            "customer_id": pa.array(["a", "b", "c"]),
            "order_date": pa.array([dt.date(2024, 1, 1)] * 3, pa.date32()),
            "amount": pa.array([1, 2, 1]),
            "sales_value": pa.array([3.49, 7.5, 1.99]),
        },
    )
    errors = []
    for plan in (parquet_fast.parquet_plan, lambda *a, **k: None):
        with monkeypatch.context() as m:
            m.setattr(parquet_fast, "parquet_plan", plan)
            with pytest.raises(IngestError) as raised:
                read_transactions_file(path, workers=1)
        errors.append((str(raised.value), raised.value.extra))
    # then both paths ask the same question; named by --map, the file is read set-based
    assert errors[0] == errors[1] and "sales_value" in errors[0][0]
    result = read_transactions_file(path, mapping={"amount": "amount"})
    assert result.method == "set-based" and result.rows == 3


def test_date_format_from_a_sample_equals_the_whole_batch() -> None:
    from patron.ingest.date_columns import detect_column_date_format
    from patron.ingest.reading.parquet import column_text

    start = np.datetime64("2017-01-01T00:00:00", "ns")
    times = start + np.arange(0, 5000 * 61, 61).astype("timedelta64[s]")
    cases = [
        pa.array(times, pa.timestamp("ns")),
        pa.array([None] * 2500 + list(times[:2500]), pa.timestamp("ns")),
        pa.array(times + np.timedelta64(1, "ms"), pa.timestamp("ns")),  # fractions shown
        pa.array(times.astype("datetime64[D]"), pa.date32()),
        pa.array([None, None], pa.timestamp("us")),
    ]
    for batch in cases:
        whole = detect_column_date_format(column_text(batch))
        assert parquet_fast._detected_format(batch) == whole
