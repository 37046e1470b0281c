"""Campaign evaluation speed: `patron campaigns evaluate` beside the same computation in pandas.

Generates a campaign of N targeted customers (a contacts CSV: customer_id, group,
contacted_at) and a Parquet file of M orders of those customers around the contact day, then,
in the same run and on the same files, times in subprocesses:

- ``patron campaigns evaluate CONTACTS --source ORDERS --window 30 --json`` end to end
  (start-up, reading and validating every order row with the importer's rules, the windows in
  DuckDB, the statistics), with its peak memory;
- an analyst's pandas: read both files, merge, the same windows, groupby per customer, group
  means and Welch's interval.

    .venv/bin/python benchmarks/uplift_speed.py [--customers 1000000] [--orders 10000000]

Targets (issue #19): >= 3x pandas and <= 15 s at 1M customers and 10M orders.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
PEAK = r"""
def peak_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
"""
PATRON = (
    PEAK
    + r"""
import json, sys, time
start = time.perf_counter()
from patron.cli import app
try:
    app(sys.argv[1:], standalone_mode=False)
finally:
    print(json.dumps({"seconds": time.perf_counter() - start, "peak_mb": peak_mb()}),
          file=sys.stderr)
"""
)
PANDAS = (
    PEAK
    + r"""
import json, sys, time
start = time.perf_counter()
import numpy as np, pandas as pd
from scipy import stats
contacts = pd.read_csv(sys.argv[1], dtype={"customer_id": str}, parse_dates=["contacted_at"])
contacts["day"] = contacts.contacted_at.dt.normalize()
orders = pd.read_parquet(sys.argv[2])
orders["order_date"] = pd.to_datetime(orders.order_date)
joined = orders.merge(contacts[["customer_id", "day"]], on="customer_id")
window = joined[(joined.order_date >= joined.day)
                & (joined.order_date < joined.day + pd.Timedelta(days=30))]
per = window.groupby("customer_id").agg(spend=("amount", "sum"), orders=("order_id", "nunique"))
per = contacts.set_index("customer_id").join(per).fillna({"spend": 0, "orders": 0})
t = per[per.group == "treatment"]; c = per[per.group == "control"]
diff = t.spend.mean() - c.spend.mean()
vt, vc = t.spend.var() / len(t), c.spend.var() / len(c)
se = (vt + vc) ** 0.5
dof = (vt + vc) ** 2 / (vt**2 / (len(t) - 1) + vc**2 / (len(c) - 1))
q = stats.t.ppf(0.975, dof)
rate = (t.orders > 0).mean() - (c.orders > 0).mean()
print(json.dumps({"uplift": diff, "ci": [diff - q * se, diff + q * se], "rate": rate}))
print(json.dumps({"seconds": time.perf_counter() - start, "peak_mb": peak_mb()}),
      file=sys.stderr)
"""
)


def generate(folder: Path, customers: int, orders: int, seed: int = 1) -> tuple[Path, Path]:
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    ids = np.char.add("M", np.arange(customers).astype("U9"))
    treated = rng.random(customers) < 0.9
    day0 = np.datetime64("2024-06-01")
    contact = day0 + rng.integers(0, 7, customers).astype("timedelta64[D]")
    contacts = folder / "contacts.csv"
    pacsv.write_csv(
        pa.table(
            {
                "customer_id": ids,
                "group": np.where(treated, "treatment", "control"),
                "contacted_at": contact.astype("datetime64[s]").astype(str),
            }
        ),
        contacts,
    )
    who = rng.integers(0, customers, orders)
    offset = rng.integers(-180, 60, orders).astype("timedelta64[D]")
    amount = np.round(rng.gamma(2.0, 40.0, orders), 2)
    amount += np.where(treated[who] & (offset >= 0) & (offset < 30), 2.0, 0.0)
    table = pa.table(
        {
            "customer_id": ids[who],
            "order_id": np.char.add("O", np.arange(orders).astype("U10")),
            "order_date": (contact[who] + offset),
            "amount": amount,
        }
    )
    path = folder / "orders.parquet"
    pq.write_table(table, path)
    return contacts, path


def run(code: str, args: list[str]) -> tuple[dict, str]:
    result = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise SystemExit(result.stderr[-3000:])
    return json.loads(result.stderr.strip().splitlines()[-1]), result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=10_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        contacts, orders = generate(Path(tmp), args.customers, args.orders)
        print(
            f"generated {args.customers:,} contacts and {args.orders:,} orders "
            f"in {time.perf_counter() - start:.1f} s"
        )
        ours, stdout = run(
            PATRON,
            ["campaigns", "evaluate", str(contacts), "--source", str(orders), "--window", "30",
             "--json"],
        )  # fmt: skip
        theirs, pandas_out = run(PANDAS, [str(contacts), str(orders)])
    mine = json.loads(stdout)["uplift"]["revenue_per_customer"]
    reference = json.loads(pandas_out)
    print(
        f"patron campaigns evaluate   {ours['seconds']:7.2f} s  {ours['peak_mb']:7.0f} MB  "
        f"uplift {mine['estimate']:.4f} [{mine['ci_low']:.4f}, {mine['ci_high']:.4f}]"
    )
    print(
        f"pandas (same computation)   {theirs['seconds']:7.2f} s  {theirs['peak_mb']:7.0f} MB  "
        f"uplift {reference['uplift']:.4f} [{reference['ci'][0]:.4f}, {reference['ci'][1]:.4f}]"
    )
    ratio = theirs["seconds"] / ours["seconds"]
    print(
        f"ratio pandas / patron: {ratio:.2f}x (target >= 3x); patron {ours['seconds']:.1f} s "
        f"(target <= 15 s)"
    )


if __name__ == "__main__":
    main()
