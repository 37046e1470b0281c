"""patron campaigns evaluate with a Parquet orders file, read while the contacts are read:
the same result as the same orders in CSV (read after the contacts), and the same errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from typer.testing import CliRunner

from patron.cli import app

runner = CliRunner()


def _orders(n: int = 3000, seed: int = 5) -> pa.Table:
    rng = np.random.default_rng(seed)
    day = np.datetime64("2024-05-01") + rng.integers(-60, 40, n).astype("timedelta64[D]")
    return pa.table(
        {
            "customer_id": [f"C{i}" for i in rng.integers(0, 400, n)],
            "order_id": [f"O{i}" for i in range(n)],
            "date": pa.array(day.astype("datetime64[s]")).cast(pa.timestamp("s")),
            "amount": np.round(rng.gamma(2.0, 40.0, n), 2),
        }
    )


def _contacts(path: Path, bad: bool = False) -> Path:
    rng = np.random.default_rng(8)
    lines = ["customer_id,group,contacted_at"]
    for i in range(400):
        group = "treatment" if rng.random() < 0.8 else "control"
        lines.append(f"C{i},{group},2024-05-0{1 + int(rng.integers(0, 5))} 09:30")
    if bad:
        lines[3] = "C2,neither,2024-05-01"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _evaluate(contacts: Path, orders: Path) -> tuple[int, str]:
    result = runner.invoke(
        app,
        ["campaigns", "evaluate", str(contacts), "--source", str(orders), "--window", "14",
         "--json"],
    )  # fmt: skip
    return result.exit_code, result.output


def test_parquet_orders_give_what_the_same_csv_orders_give(tmp_path: Path) -> None:
    contacts = _contacts(tmp_path / "contacts.csv")
    table = _orders()
    pq.write_table(table, tmp_path / "orders.parquet")
    table.to_pandas().assign(date=lambda d: d.date.dt.strftime("%Y-%m-%d %H:%M:%S")).to_csv(
        tmp_path / "orders.csv", index=False
    )
    code, from_parquet = _evaluate(contacts, tmp_path / "orders.parquet")
    assert code == 0, from_parquet
    code, from_csv = _evaluate(contacts, tmp_path / "orders.csv")
    assert code == 0, from_csv
    assert json.loads(from_parquet) == json.loads(from_csv)
    assert json.loads(from_parquet)["treatment"]["responders"] > 0


def test_bad_contacts_are_told_before_bad_parquet_orders(tmp_path: Path) -> None:
    contacts = _contacts(tmp_path / "contacts.csv", bad=True)
    table = _orders()
    amount = table["amount"].to_numpy().copy()
    amount[10] = np.nan
    pq.write_table(table.set_column(3, "amount", pa.array(amount)), tmp_path / "orders.parquet")
    code, output = _evaluate(contacts, tmp_path / "orders.parquet")
    assert code == 1
    assert "line 4 group 'neither': group must be treatment or control" in output
    assert "orders.parquet" not in output
    # with good contacts, the bad order row is named by its line
    code, output = _evaluate(_contacts(tmp_path / "good.csv"), tmp_path / "orders.parquet")
    assert code == 1
    assert "orders.parquet are not valid transactions" in output
    assert "line 12 " in output
