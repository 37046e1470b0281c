"""Import speed: 1M order rows from CSV into SQLite and PostgreSQL, Patron vs a bulk_create loop
and a bare executemany loader.

Each import runs in its own process on a new, empty database. Peak memory is the largest
proportional set size (PSS) of the process and its children, sampled every 50 ms: patron
reads large files in a forked process, and PSS counts their shared pages once. The peer is
what a Django developer would write first: csv.reader, then ``bulk_create`` of customers and
orders in batches. Same file, same machine, same run.

    .venv/bin/python benchmarks/import_speed.py [--rows 1000000] [--peer-rows N] [--skip-postgres]
    .venv/bin/python benchmarks/import_speed.py --rows 10000000 --patron-only

Targets (issue #23): Patron at >= 0.5x the bare loader at 1M rows; >= 100,000 rows/s into an
empty store at 10M rows, SQLite and PostgreSQL. ``--patron-only`` times Patron's import alone
(no peer, bare loader or Taobao export), for the 10M-row figure.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = os.environ.get("PATRON_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
# the benchmark's databases are named PREFIX_ours, PREFIX_peer, ...: a prefix of one's own
# keeps two runs on one server apart
DB_PREFIX = os.environ.get("PATRON_BENCH_DB_PREFIX", "patron_bench")

PEER = r"""
import csv, os, sys, time
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo
import django
os.environ["DJANGO_SETTINGS_MODULE"] = "patron.settings"
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.db import transaction
from patron.customers.models import Customer
from patron.sales.models import Order
tz = ZoneInfo("Asia/Shanghai")
path, limit = sys.argv[1], int(sys.argv[2])
start = time.perf_counter()
with open(path, encoding="utf-8", newline="") as handle, transaction.atomic():
    reader = csv.reader(handle)
    next(reader)
    customers, orders, count = {}, [], 0
    for order_id, customer_id, date, amount in reader:
        if count == limit:
            break
        count += 1
        if customer_id not in customers:
            customers[customer_id] = Customer.objects.create(external_id=customer_id)
        when = datetime.strptime(date, "%Y-%m-%d %H:%M:%S").replace(tzinfo=tz)
        orders.append(Order(external_id=order_id, customer=customers[customer_id],
                            ordered_at=when, ordered_on=when.date(), amount=Decimal(amount)))
        if len(orders) == 5000:
            Order.objects.bulk_create(orders)
            orders = []
    Order.objects.bulk_create(orders)
print(count, time.perf_counter() - start)
"""


# The floor of #23: a bare loader with no validation and no ORM objects. csv.reader, the
# distinct customers inserted with executemany, their ids read back, then the orders with
# executemany in batches; every other column takes the value a default row of the model has
# (computed once). Rows per second of this bound what any loader reaches on the database.
BARE = r"""
import csv, os, sys, time
from datetime import datetime
from zoneinfo import ZoneInfo
import django
os.environ["DJANGO_SETTINGS_MODULE"] = "patron.settings"
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.db import connection, transaction
from patron.customers.models import Customer
from patron.sales.models import Order

def insert_of(model, varying, **given):
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    row = model(**given)
    values = [f.get_db_prep_save(f.pre_save(row, add=True), connection) for f in fields]
    sql = (f"INSERT INTO {model._meta.db_table} ({', '.join(f.column for f in fields)}) "
           f"VALUES ({', '.join(['%s'] * len(fields))})")
    where = [next(i for i, f in enumerate(fields) if f.attname == name) for name in varying]
    return sql, values, where

tz = ZoneInfo("Asia/Shanghai")
path, limit = sys.argv[1], int(sys.argv[2])
start = time.perf_counter()
with open(path, encoding="utf-8", newline="") as handle:
    reader = csv.reader(handle)
    next(reader)
    rows = [r for _, r in zip(range(limit), reader)]
c_sql, c_values, (c_ext,) = insert_of(Customer, ["external_id"], external_id="x")
o_sql, o_values, where = insert_of(
    Order, ["external_id", "customer_id", "ordered_at", "ordered_on", "amount"],
    external_id="x", customer_id=1, ordered_at=datetime(2024, 1, 1, tzinfo=tz),
    ordered_on=datetime(2024, 1, 1).date(), amount=1)
with transaction.atomic(), connection.cursor() as cursor:
    customers = []
    for external_id in dict.fromkeys(r[1] for r in rows):
        values = list(c_values)
        values[c_ext] = external_id
        customers.append(values)
    cursor.executemany(c_sql, customers)
    cursor.execute(f"SELECT external_id, id FROM {Customer._meta.db_table}")
    pk = dict(cursor.fetchall())
    batch = []
    for order_id, customer_id, date, amount in rows:
        when = datetime.strptime(date, "%Y-%m-%d %H:%M:%S").replace(tzinfo=tz)
        values = list(o_values)
        for i, value in zip(where, (order_id, pk[customer_id], when, when.date(), amount)):
            values[i] = value
        batch.append(values)
        if len(batch) == 10000:
            cursor.executemany(o_sql, batch)
            batch = []
    cursor.executemany(o_sql, batch)
print(len(rows), time.perf_counter() - start)
"""


def make_file(path: Path, rows: int, seed: int = 1) -> None:
    """order_id, customer_id, date, amount: ~10 orders per customer over two years."""
    rng = np.random.default_rng(seed)
    customers = rng.integers(1, rows // 10 + 1, size=rows)
    seconds = rng.integers(0, 730 * 86400, size=rows)
    base = np.datetime64("2024-01-01T00:00:00")
    stamps = (base + seconds.astype("timedelta64[s]")).astype(str)
    amounts = np.round(rng.gamma(2.0, 40.0, size=rows), 2)
    with path.open("w", encoding="utf-8") as out:
        out.write("order_id,customer_id,date,amount\n")
        for start in range(0, rows, 100_000):
            stop = min(rows, start + 100_000)
            out.writelines(
                f"O{i:08d},C{customers[i]:07d},{stamps[i].replace('T', ' ')},{amounts[i]:.2f}\n"
                for i in range(start, stop)
            )


TAOBAO_HEADER = (
    "订单编号,买家会员名,买家支付宝账号,买家应付货款,总金额,买家实际支付金额,订单状态,订单创建时间,"
    "订单付款时间 ,宝贝标题 ,宝贝总数量,退款金额,店铺名称\n"
)


def make_taobao_file(source: Path, path: Path) -> None:
    """The same orders as a Taobao order export: GBK, ="..." order numbers, Chinese headers,
    trailing spaces in header names, 无退款申请 in the refund column."""
    with source.open(encoding="utf-8") as src, path.open("w", encoding="gbk") as out:
        next(src)
        out.write(TAOBAO_HEADER)
        for line in src:
            order, customer, when, amount = line.rstrip("\n").split(",")
            out.write(
                f'="{order}",{customer},{customer}@example.cn,{amount},{amount},{amount},'
                f"交易成功,{when},{when},宝贝,1,无退款申请,旗舰店\n"
            )


def _tree_pss_kb(root: int) -> int:
    """Proportional set size of a process and its descendants (shared pages split fairly, so
    a forked reader's copy-on-write pages are not counted twice)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            with open(f"/proc/{pid}/smaps_rollup") as handle:
                for line in handle:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            continue
    return total


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, peak memory in MB (the process tree's PSS, sampled every 50 ms), stdout."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            peak[0] = max(peak[0], _tree_pss_kb(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    done.set()
    sampler.join()
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{err[-3000:]}")
    return wall, peak[0] / 1024, out


WRAP = r"""
import sys
sys.argv = sys.argv[1:]
if sys.argv[0] == "-c":
    code = sys.argv[1]; sys.argv = ["-c", *sys.argv[2:]]; exec(compile(code, "peer", "exec"))
else:
    from patron.cli import main
    sys.argv = ["patron", *sys.argv]
    try:
        main()
    except SystemExit as exit:
        if exit.code: raise
"""


def database(kind: str, name: str, tmp: Path) -> str:
    name = name.replace("patron_bench", DB_PREFIX, 1)
    if kind == "sqlite":
        return f"sqlite:///{tmp / (name + '.sqlite3')}"
    import psycopg

    with psycopg.connect(PG_ADMIN + "/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    return f"{PG_ADMIN}/{name}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--peer-rows",
        type=int,
        default=None,
        help="rows the bulk_create peer loads (default: all); its rate is per row",
    )
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-taobao", action="store_true", help="no Taobao-style export run")
    parser.add_argument(
        "--patron-only", action="store_true", help="time Patron's import alone (10M-row figure)"
    )
    args = parser.parse_args()
    if args.patron_only:
        args.skip_taobao = True
    peer_rows = args.peer_rows or args.rows
    python = sys.executable
    with tempfile.TemporaryDirectory(prefix="patron-bench-") as tmp_name:
        tmp = Path(tmp_name)
        data = tmp / "orders.csv"
        t0 = time.perf_counter()
        make_file(data, args.rows)
        size_mb = data.stat().st_size / 1e6
        taobao = tmp / "ExportOrderList.csv"
        if not args.skip_taobao:
            make_taobao_file(data, taobao)
        made = time.perf_counter() - t0
        print(
            f"file: {args.rows:,} rows (order_id, customer_id, date, amount), {size_mb:.0f} MB, "
            f"made in {made:.1f} s; {os.cpu_count()} CPUs"
        )
        print(
            f"{'engine':<11}{'loader':<22}{'rows':>10}{'seconds':>9}{'rows/s':>10}"
            f"{'peak MB':>9}{'vs peer':>9}"
        )
        engines = ["sqlite"] + ([] if args.skip_postgres else ["postgresql"])
        results = {}
        for engine in engines:
            env = {
                **os.environ,
                "PATRON_VAR_DIR": str(tmp / "var"),
                "PATRON_ALLOW_INSECURE_KEY": "1",
            }
            env["PATRON_DATABASE_URL"] = database(engine, "patron_bench_ours", tmp)
            run([python, "-c", WRAP, "init"], env)
            wall, peak, out = run(
                [python, "-c", WRAP, "import", "transactions", str(data), "--json"], env
            )
            report = json.loads(out)
            assert report["inserted"] == args.rows, report
            ours = args.rows / wall
            if args.patron_only:
                print(
                    f"{engine:<11}{'patron import':<22}{args.rows:>10,}{wall:>9.1f}{ours:>10,.0f}"
                    f"{peak:>9.0f}  (target >= 100,000 rows/s at 10M rows)"
                )
                continue
            if not args.skip_taobao:
                env["PATRON_DATABASE_URL"] = database(engine, "patron_bench_taobao", tmp)
                run([python, "-c", WRAP, "init"], env)
                twall, tpeak, tout = run(
                    [python, "-c", WRAP, "import", "transactions", str(taobao), "--json"], env
                )
                treport = json.loads(tout)
                assert treport["inserted"] == args.rows and treport["preset"] == "taobao_orders"
                taobao_line = (
                    f"{engine:<11}{'patron, Taobao export':<22}{args.rows:>10,}{twall:>9.1f}"
                    f"{args.rows / twall:>10,.0f}{tpeak:>9.0f}   ({wall / twall:.2f} of generic)"
                )
            env["PATRON_DATABASE_URL"] = database(engine, "patron_bench_peer", tmp)
            pwall, ppeak, pout = run(
                [python, "-c", WRAP, "-c", PEER, str(data), str(peer_rows)], env
            )
            count = pout.split()[0]
            peer = int(count) / pwall
            env["PATRON_DATABASE_URL"] = database(engine, "patron_bench_bare", tmp)
            bwall, bpeak, bout = run(
                [python, "-c", WRAP, "-c", BARE, str(data), str(args.rows)], env
            )
            bare = int(bout.split()[0]) / bwall
            results[engine] = {
                "ours_rows_per_s": ours,
                "peer_rows_per_s": peer,
                "ours_peak_mb": peak,
                "peer_peak_mb": ppeak,
                "bare_rows_per_s": bare,
            }
            print(
                f"{engine:<11}{'patron import':<22}{args.rows:>10,}{wall:>9.1f}{ours:>10,.0f}"
                f"{peak:>9.0f}{ours / peer:>8.1f}x  ({ours / bare:.2f} of the bare loader; "
                "target >= 0.5)"
            )
            if not args.skip_taobao:
                print(taobao_line)
            print(
                f"{engine:<11}{'bulk_create loop':<22}{int(count):>10,}{pwall:>9.1f}"
                f"{peer:>10,.0f}{ppeak:>9.0f}{1:>8.1f}x"
            )
            print(
                f"{engine:<11}{'bare executemany':<22}{args.rows:>10,}{bwall:>9.1f}"
                f"{bare:>10,.0f}{bpeak:>9.0f}{bare / peer:>8.1f}x"
            )
        print(
            "targets: >= 0.5 of the bare loader at 1M rows and >= 100,000 rows/s at 10M rows, "
            "SQLite and PostgreSQL (#23); peak < 500 MB; a Taobao export at least half the "
            "generic speed"
        )


if __name__ == "__main__":
    main()
