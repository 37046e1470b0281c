"""patron analyze --source on a Parquet file as distributed (the Complete Journey's shape: 11
columns, int64 household and basket ids, nanosecond timestamps) stays on the set-based path
and gives the same customers.csv as its 4-column cut and as that cut with text ids."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from typer.testing import CliRunner

from patron.cli import app

runner = CliRunner()
MAP = [
    *("--map", "customer=household_id", "--map", "order=basket_id"),
    *("--map", "amount=sales_value", "--map", "date=transaction_timestamp"),
]


def _wide(n: int, seed: int = 3) -> pa.Table:
    rng = np.random.default_rng(seed)
    basket = np.sort(rng.integers(0, n // 4, n)) + 10**10
    household = (basket * 7919) % 600 + 1  # one household per basket
    start = np.datetime64("2017-01-01T00:00:00", "ns")
    seconds = (basket - basket.min()) * 3600 * 24 * 365 // (n // 4)
    when = (
        start
        + seconds.astype("timedelta64[s]")
        + rng.integers(0, 10**9, n).astype("timedelta64[ns]")
    )
    return pa.table(
        {
            "household_id": pa.array(household, pa.int64()),
            "store_id": pa.array(rng.integers(1, 400, n), pa.int64()),
            "basket_id": pa.array(basket, pa.int64()),
            "product_id": pa.array(rng.integers(10**5, 10**7, n), pa.int64()),
            "quantity": pa.array(rng.integers(0, 5, n), pa.int64()),
            "sales_value": pa.array(np.round(rng.lognormal(1, 1, n), 2)),
            "retail_disc": pa.array(-np.round(rng.uniform(0, 1, n), 2)),
            "coupon_disc": pa.array(np.zeros(n)),
            "coupon_match_disc": pa.array(np.zeros(n)),
            "week": pa.array(rng.integers(1, 53, n), pa.int64()),
            "transaction_timestamp": pa.array(when, pa.timestamp("ns")),
        }
    )


def _analyze(path: Path, out: Path) -> dict:
    result = runner.invoke(
        app, ["analyze", "--source", str(path), *MAP, "--out", str(out), "--json"]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_wide_parquet_equals_its_four_column_cut(tmp_path: Path) -> None:
    # given the wide file, its 4-column cut, and the cut with the ids as text
    wide = _wide(6000)
    cut = wide.select(["household_id", "basket_id", "sales_value", "transaction_timestamp"])
    as_text = cut.set_column(0, "household_id", pc.cast(cut["household_id"], pa.string()))
    as_text = as_text.set_column(1, "basket_id", pc.cast(cut["basket_id"], pa.string()))
    files = {"wide": wide, "cut": cut, "text": as_text}
    reports = {}
    for name, table in files.items():
        pq.write_table(table, tmp_path / f"{name}.parquet", row_group_size=2500)
        # when
        reports[name] = _analyze(tmp_path / f"{name}.parquet", tmp_path / name)
    # then: the same customers, read set-based in DuckDB with no row left to the batches
    expected = (tmp_path / "cut" / "customers.csv").read_bytes()
    assert expected.count(b"\n") > 500
    for name in files:
        source = reports[name]["source"]
        assert source["method"] == "set-based" and source["rows_by_batch"] == 0, name
        assert source["read"] == source["rows"] == 6000, name
        assert (tmp_path / name / "customers.csv").read_bytes() == expected, name
    assert reports["wide"]["source"]["reading"] == "order lines"  # the quantity makes lines
    assert reports["wide"]["summary"] == reports["cut"]["summary"] == reports["text"]["summary"]
