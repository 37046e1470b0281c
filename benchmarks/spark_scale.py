"""Scale-out benchmark: `patron analyze --engine spark` beside DuckDB's file mode.

Generates transactions as partitioned Parquet (``month=YYYY-MM/part-N.parquet``: customer
id, order date, amount, status with 3% returns; customers drop out after an exponential
lifetime, so the CLV models are fitted and every customer scored), then runs, on the same
files and in the same run, ``patron analyze --source DIR --engine spark --spark-master local[2]``
and ``patron analyze --source DIR`` (DuckDB), each with ``--out`` (Spark writes the customers as
Parquet; DuckDB as customers.csv). For each run: wall time, the peak resident memory of
Patron's Python process (VmHWM) and, for Spark, of its JVM (driver and, in local mode, the
executors too, bounded by ``spark.driver.memory``).

    python benchmarks/spark_scale.py                       # 10M and 100M rows (10M customers)
    python benchmarks/spark_scale.py --sizes 10000000:1000000 30000000:3000000
    python benchmarks/spark_scale.py --data /work/spark_data --generate-only
    python benchmarks/spark_scale.py --data /work/spark_data --sizes 100000000:10000000 \
        --engines spark --max-python-mb 12000

Each size is ``ROWS:CUSTOMERS``; a folder already generated (same generator version) is
reused. Each run also gives the 1-minute load average at its start, its maximum during the
run and at its end, and the CLV's model choice, parameters and totals from its
``summary.json`` (to compare the engines); every result is appended to
``DATA/results.jsonl``. ``--max-python-mb`` stops a run whose Python process grows past it
(DuckDB's file mode holds every customer in its process), reported as stopped.

The figures in docs/operating.md ("Running on a Spark cluster") come from this script; run
it once, on a quiet machine if you can.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

CHUNK = 5_000_000
START = np.datetime64("2023-01-01")
DAYS = 730


#: Mean active lifetime of a generated customer (days): customers drop out, as BG/NBD and
#: Pareto/NBD assume, so the purchase models are identified and the CLV is fitted and scored.
LIFETIME = 240
VERSION = 2  # of the generator: a folder made by another version is made again


def generate(folder: Path, rows: int, customers: int, seed: int = 24) -> None:
    """``rows`` transactions of ``customers`` customers over two years, by month.

    Each customer is born on a day of the two years and stays active for an exponential
    lifetime (mean :data:`LIFETIME` days, cut at the end of the data); its purchases fall
    uniformly inside that active span. Every customer buys at least once (so the count is
    exact); the other rows are drawn with a skew: a few customers buy often."""
    done = folder / "_DONE"
    if done.exists() and json.loads(done.read_text()).get("version") == VERSION:
        return
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    born = rng.integers(0, DAYS, customers)
    span = np.minimum(rng.exponential(LIFETIME, customers).astype(np.int64) + 1, DAYS - born)
    for part, start in enumerate(range(0, rows, CHUNK)):
        n = min(CHUNK, rows - start)
        first = np.arange(start, min(start + n, customers), dtype=np.int64)
        rest = n - len(first)
        drawn = (customers * rng.power(0.6, rest)).astype(np.int64)
        who = np.concatenate([first, np.minimum(drawn, customers - 1)])
        # a customer's first row is its birth day; the others fall inside its active span
        offset = (rng.random(n) * span[who]).astype(np.int64)
        offset[: len(first)] = 0
        day = START + (born[who] + offset).astype("timedelta64[D]")
        cents = (rng.lognormal(3.5, 0.9, n) * 100).astype(np.int64) + 1
        status = np.where(rng.random(n) < 0.03, "returned", "completed")
        month = day.astype("datetime64[M]")
        table = pa.table(
            {
                "customer_id": pa.array(np.char.add("C", np.char.zfill(who.astype(str), 9))),
                "order_date": pa.array(day.astype("datetime64[D]"), pa.date32()),
                "amount": pa.array(cents / 100),
                "status": pa.array(status),
            }
        )
        for m in np.unique(month):
            target = folder / f"month={m!s}"
            target.mkdir(exist_ok=True)
            pq.write_table(table.filter(pa.array(month == m)), target / f"part-{part:03d}.parquet")
    done.write_text(json.dumps({"rows": rows, "customers": customers, "version": VERSION}))


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry.name))
    return out


def _peak_kb(pid: int, field: str = "VmHWM:") -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def run(command: list[str], env: dict[str, str], max_python_mb: int = 0) -> dict[str, object]:
    """Wall time and peak memory (MB) of the Python process and of any Java descendant.

    With ``max_python_mb``, a run whose Python process grows past it is stopped (so that a
    run which cannot fit does not take the shared machine's memory) and reported as such."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load = {"start": _load(), "max": _load()}
    started = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peaks = {"python": 0, "jvm": 0}
    stopped = []

    def watch() -> None:
        while proc.poll() is None:
            load["max"] = max(load["max"], _load())
            peaks["python"] = max(peaks["python"], _peak_kb(proc.pid))
            if max_python_mb and _peak_kb(proc.pid, "VmRSS:") > max_python_mb * 1024:
                stopped.append(round(time.perf_counter() - started, 1))
                proc.kill()
                return
            todo = _children(proc.pid)
            while todo:
                child = todo.pop()
                try:
                    name = Path(f"/proc/{child}/comm").read_text().strip()
                except OSError:
                    continue
                if name == "java":
                    peaks["jvm"] = max(peaks["jvm"], _peak_kb(child))
                todo += _children(child)
            time.sleep(0.5)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    out, err = proc.communicate()
    watcher.join()
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    figures: dict[str, object] = {
        "seconds": round(seconds, 1),
        "cpu_seconds": round(cpu, 1),  # Patron's Python process (the JVM is not reaped by it)
        "python_peak_mb": round(peaks["python"] / 1024),
        "jvm_peak_mb": round(peaks["jvm"] / 1024),
        "load_start": load["start"],
        "load_max": load["max"],
        "load_end": _load(),
    }
    if stopped:
        return {**figures, "stopped": f"Python process over {max_python_mb} MB"}
    if proc.returncode:
        sys.stderr.write(err.decode()[-4000:])
        raise SystemExit(f"{command[1:4]} failed ({proc.returncode})")
    output = json.loads(out)
    summary = output["summary"]
    return {
        **figures,
        "customers": summary["customers"],
        "revenue": summary["revenue"],
    }


def _clv(out: Path) -> dict[str, object]:
    """The CLV's model choice, parameters and totals from ``out/summary.json``, so that the
    two engines' predictions can be compared."""
    try:
        found = json.loads((out / "summary.json").read_text())["predictive"]
    except (OSError, KeyError, ValueError):
        return {}
    params = found.get("params") or {}
    return {
        "model": params.get("purchase_model"),
        "fit_grid": params.get("fit_grid"),
        "params": {
            k: params.get(k)
            for k in ("mbgnbd", "paretonbd", "bgnbd", "gammagamma")
            if params.get(k)
        },
        **{k: found.get(k) for k in ("predicted_value", "value_at_risk_total", "risk_levels")},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", default=["10000000:1000000", "100000000:10000000"])
    parser.add_argument("--data", type=Path, default=Path("var/spark_scale"))
    parser.add_argument("--driver-memory", default="3g")
    parser.add_argument("--engines", nargs="+", default=["spark", "duckdb"])
    parser.add_argument("--skip-duckdb", action="store_true")
    parser.add_argument("--generate-only", action="store_true")
    parser.add_argument(
        "--max-python-mb",
        type=int,
        default=0,
        help="stop a run whose Python process grows past this (0: no limit)",
    )
    args = parser.parse_args()
    patron = str(Path(sys.executable).with_name("patron"))
    env = dict(os.environ)
    # the caller's settings (e.g. spark.eventLog.enabled=true) come on top of the memory
    given = os.environ.get("PATRON_SPARK_CONF", "")
    env["PATRON_SPARK_CONF"] = f"spark.driver.memory={args.driver_memory} {given}".strip()
    results = []
    for size in args.sizes:
        rows, customers = (int(v) for v in size.split(":"))
        folder = args.data / f"tx_{rows}"
        t0 = time.perf_counter()
        generate(folder, rows, customers)
        took = time.perf_counter() - t0
        print(f"{rows:,} rows of {customers:,} customers in {folder} ({took:.0f} s)", flush=True)
        if args.generate_only:
            continue
        base = [patron, "analyze", "--source", str(folder), "--json", "--no-kpis"]
        flags = {
            "spark": ["--engine", "spark", "--spark-master", "local[2]"],
            "duckdb": ["--engine", "duckdb"],
        }
        engines = [e for e in args.engines if not (args.skip_duckdb and e == "duckdb")]
        for name in engines:
            out = args.data / f"out_{name}_{rows}"
            shutil.rmtree(out, ignore_errors=True)
            figures = run([*base, *flags[name], "--out", str(out)], env, args.max_python_mb)
            results.append({"rows": rows, "engine": name, **figures, "clv": _clv(out)})
            print(json.dumps(results[-1]), flush=True)
            with (args.data / "results.jsonl").open("a") as log:
                log.write(
                    json.dumps({"at": time.strftime("%FT%TZ", time.gmtime()), **results[-1]}) + "\n"
                )
    print(
        "\nrows         engine  seconds  Py CPU s  python peak MB  JVM peak MB"
        "  load start/max/end  customers"
    )
    for r in results:
        load = f"{r['load_start']} / {r['load_max']} / {r['load_end']}"
        print(
            f"{r['rows']:>11,}  {r['engine']:<6}  {r['seconds']:>7}  {r['cpu_seconds']:>8}"
            f"  {r['python_peak_mb']:>14}  {r['jvm_peak_mb']:>11}  {load:<20}"
            f"  {r.get('customers', r.get('stopped'))}"
        )


if __name__ == "__main__":
    main()
