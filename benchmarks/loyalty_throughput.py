# ruff: noqa: E501  (the scripts run in the benchmark's subprocesses are strings)
"""Loyalty throughput on PostgreSQL: the API's accruals and redemptions per second with 8
concurrent keep-alive clients (and p95), beside a naive Django view that does a
read-modify-write on a balance column, and the framework's own ceiling (/healthz), all
served by the same gunicorn in the same run. Then the bulk path: what points for the
members add to an import of orders (the same file into two equal stores, one whose
customers are all members).

    .venv/bin/python benchmarks/loyalty_throughput.py [--seconds 10] [--clients 8]
        [--orders 1000000] [--members 200000] [--skip-api] [--skip-bulk]

Targets (issue #17): >= 300 accruals/s with p95 < 100 ms; points add <= 50% to the import.
The naive view also counts the updates it lost: a read-modify-write under concurrency
overwrites another request's balance.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = os.environ.get("PATRON_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
BIN = Path(sys.executable).parent
CARDS = 50

BENCH_SETTINGS = """
from patron.settings import *  # noqa: F403
ROOT_URLCONF = "loyalty_bench_urls"
DEBUG = False
"""

# The peer: what a developer writes first. A balance column, read then written back.
BENCH_URLS = """
import json
from django.db import connection
from django.http import JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from patron.core.services import token_authenticate
from patron.urls import urlpatterns as patron_urls


def _authorised(request):
    header = request.headers.get("Authorization", "")
    return token_authenticate(token=header.removeprefix("Bearer ")) is not None


@csrf_exempt
def naive_accrue(request):
    if not _authorised(request):
        return JsonResponse({}, status=401)
    body = json.loads(request.body)
    points = int(float(body["amount"]))
    with connection.cursor() as cursor:
        cursor.execute("SELECT balance FROM bench_naive WHERE card = %s", [body["card_number"]])
        balance = cursor.fetchone()[0]
        cursor.execute("UPDATE bench_naive SET balance = %s, earned = earned + %s WHERE card = %s",
                       [balance + points, points, body["card_number"]])
    return JsonResponse({"points_balance": balance + points}, status=201)


@csrf_exempt
def naive_redeem(request):
    if not _authorised(request):
        return JsonResponse({}, status=401)
    body = json.loads(request.body)
    points = int(body["points"])
    with connection.cursor() as cursor:
        cursor.execute("SELECT balance FROM bench_naive WHERE card = %s", [body["card_number"]])
        balance = cursor.fetchone()[0]
        if balance < points:
            return JsonResponse({"code": "short"}, status=409)
        cursor.execute("UPDATE bench_naive SET balance = %s, spent = spent + %s WHERE card = %s",
                       [balance - points, points, body["card_number"]])
    return JsonResponse({"points_balance": balance - points}, status=201)


urlpatterns = [path("naive/accruals", naive_accrue), path("naive/redemptions", naive_redeem),
               *patron_urls]
"""

SETUP_API = r"""
import json, sys
import django
django.setup()
from django.db import connection
from patron.core.setup import database_init
database_init()
from patron.accounts.services import user_role_set
from django.contrib.auth import get_user_model
from patron.core.services import token_create
from patron.customers.models import Customer
from patron.loyalty import services
user = get_user_model().objects.create(username="till")
user_role_set(user=user, role="marketing")
token = token_create(username="till")[1]
cards = []
for i in range(int(sys.argv[1])):
    Customer.objects.create(external_id=f"B{i}")
    member = services.member_enrol(customer_id=f"B{i}")
    services.points_grant(customer_id=member.customer_id, points=10_000_000, reason="bench", source=f"b{i}")
    cards.append(member.card_number)
with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE bench_naive (card text PRIMARY KEY, balance bigint, earned bigint, spent bigint)")
    for card in cards:
        cursor.execute("INSERT INTO bench_naive VALUES (%s, 10000000, 0, 0)", [card])
print(json.dumps({"token": token, "cards": cards}))
"""

CHECK_API = r"""
import json
import django
django.setup()
from django.db import connection
from django.db.models import Sum
from patron.loyalty.models import LedgerEntry, Member
from patron.loyalty.services import balance_of
ok = all(balance_of(member_id=m.pk).available ==
         LedgerEntry.objects.filter(member=m, pending=False).aggregate(s=Sum("points"))["s"]
         for m in Member.objects.all())
with connection.cursor() as cursor:
    cursor.execute("SELECT SUM(balance), SUM(10000000 + earned - spent) FROM bench_naive")
    naive_balance, naive_expected = cursor.fetchone()
print(json.dumps({"patron_ledger_consistent": ok, "naive_lost_points": int(naive_expected - naive_balance)}))
"""


def database(name: str) -> str:
    import psycopg

    with psycopg.connect(PG_ADMIN + "/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    return f"{PG_ADMIN}/{name}"


def drop(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN + "/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def run_python(code: str, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True
    )
    if done.returncode:
        raise SystemExit(done.stderr[-3000:])
    return done.stdout.strip().splitlines()[-1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def drive(port: int, request, seconds: float, clients: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """``clients`` threads, each with one keep-alive connection, sending for ``seconds``;
    ``request(k, i)`` gives client k's i-th request as (method, path, body or None, headers)."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    statuses: list[dict[int, int]] = [{} for _ in range(clients)]
    stop = time.perf_counter() + seconds

    def client(k: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        i = 0
        while time.perf_counter() < stop:
            method, path, body, headers = request(k, i)
            t = time.perf_counter()
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            latencies[k].append(time.perf_counter() - t)
            statuses[k][response.status] = statuses[k].get(response.status, 0) + 1
            i += 1
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    flat = np.array([x for lat in latencies for x in lat])
    merged: dict[int, int] = {}
    for s in statuses:
        for code, n in s.items():
            merged[code] = merged.get(code, 0) + n
    return {
        "requests_per_s": len(flat) / elapsed,
        "p50_ms": float(np.percentile(flat, 50) * 1000),
        "p95_ms": float(np.percentile(flat, 95) * 1000),
        "requests": len(flat),
        "statuses": merged,
    }


def load(
    port: int, token: str, path: str, bodies, seconds: float, clients: int
) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """GETs of ``path`` (``bodies`` None) or POSTs of ``bodies(k, i)``, with ``token``."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def request(k: int, i: int) -> tuple[str, str, str | None, dict[str, str]]:
        body = None if bodies is None else json.dumps(bodies(k, i))
        return ("GET" if body is None else "POST", path, body, headers)

    return drive(port, request, seconds, clients)


def api_bench(seconds: float, clients: int) -> dict[str, object]:
    name = "patron_bench_loyalty_api"
    url = database(name)
    with tempfile.TemporaryDirectory(prefix="patron-loyalty-bench-") as tmp:
        Path(tmp, "loyalty_bench_settings.py").write_text(BENCH_SETTINGS)
        Path(tmp, "loyalty_bench_urls.py").write_text(textwrap.dedent(BENCH_URLS))
        env = {
            **os.environ,
            "PATRON_DATABASE_URL": url,
            "DJANGO_SETTINGS_MODULE": "loyalty_bench_settings",
            "PYTHONPATH": tmp,
            "PATRON_ALLOW_INSECURE_KEY": "1",
            "PATRON_SECRET_KEY": "bench-" + "x" * 50,
            # no job queue: /healthz then measures the framework, not a worker's heartbeat
            "PATRON_JOBS_IMMEDIATE": "1",
        }
        setup = json.loads(run_python(SETUP_API, env, str(CARDS)))
        port = free_port()
        server = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "-k",
                "gthread",
                "-w",
                "2",
                "--threads",
                "4",
                "--no-control-socket",
                "-b",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
                "patron.wsgi:application",
            ],
            env=env,
            cwd=tmp,
        )
        try:
            ready = time.perf_counter() + 120
            while time.perf_counter() < ready:  # both workers up and answering
                try:
                    probe = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                    probe.request("GET", "/healthz")
                    if probe.getresponse().status == 200:
                        break
                except OSError:
                    time.sleep(0.5)
            load(port, "", "/healthz", None, 3.0, clients)  # warm-up, not counted
            token, cards = setup["token"], setup["cards"]
            rng = np.random.default_rng(1)
            picks = rng.integers(0, len(cards), size=1_000_000)

            def accrual(k: int, i: int) -> dict[str, object]:
                n = k * 1_000_000 + i
                return {
                    "card_number": cards[picks[n % len(picks)]],
                    "order_id": f"T{n}",
                    "amount": "58.60",
                }

            def redemption(k: int, i: int) -> dict[str, object]:
                n = k * 1_000_000 + i
                return {
                    "card_number": cards[picks[(n * 7) % len(picks)]],
                    "points": 5,
                    "idempotency_key": f"K{n}",
                }

            results = {
                "healthz": load(port, token, "/healthz", None, seconds, clients),
                "patron_accruals": load(
                    port, token, "/api/v1/loyalty/accruals", accrual, seconds, clients
                ),
                "naive_accruals": load(port, token, "/naive/accruals", accrual, seconds, clients),
                "patron_redemptions": load(
                    port, token, "/api/v1/loyalty/redemptions", redemption, seconds, clients
                ),
                "naive_redemptions": load(
                    port, token, "/naive/redemptions", redemption, seconds, clients
                ),
            }
        finally:
            server.terminate()
            server.wait(timeout=30)
        results["check"] = json.loads(run_python(CHECK_API, env))
    drop(name)
    return results


# -- the bulk path -----------------------------------------------------------------------------

SETUP_BULK = r"""
import sys, time
import django
django.setup()
from patron.core.setup import database_init
database_init()
from django.db import transaction
from patron.ingest.writers import bare_customers_insert
members = int(sys.argv[1]); enrol = sys.argv[2] == "yes"
ids = [f"C{i:07d}" for i in range(1, members + 1)]
with transaction.atomic():
    bare_customers_insert(ids)
    if enrol:
        import datetime as dt
        from patron.customers.models import Customer
        from patron.loyalty.cards import card_new
        from patron.loyalty.models import Member
        when = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
        batch = []
        for n, pk in enumerate(Customer.objects.values_list("pk", flat=True).order_by("pk")):
            batch.append(Member(customer_id=pk, card_number=card_new(), referral_code=f"R{n:09d}"[:12], enrolled_at=when))
        Member.objects.bulk_create(batch, batch_size=10000)
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("VACUUM ANALYZE") if False else None
print("ok")
"""

IMPORT = r"""
import json, sys, time
import django
django.setup()
from django.db import connection
from patron.ingest.importer import ImportOptions, import_file
from patron.ingest.mapping import EntityKind
start = time.perf_counter()
report = import_file(sys.argv[1], kind=EntityKind.TRANSACTIONS, options=ImportOptions(source="bench"))
seconds = time.perf_counter() - start
with connection.cursor() as cursor:
    cursor.execute("SELECT COUNT(*), COALESCE(SUM(points), 0) FROM loyalty_ledgerentry")
    entries, points = cursor.fetchone()
    cursor.execute("SELECT COUNT(*) FROM sales_order")
    orders = cursor.fetchone()[0]
print(json.dumps({"seconds": seconds, "inserted": report.inserted, "orders": orders, "ledger_entries": entries,
                  "points": int(points), "committed": report.committed}))
"""


def make_orders(path: Path, rows: int, members: int, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    customers = rng.integers(1, members + 1, size=rows)
    seconds = rng.integers(0, 730 * 86400, size=rows)
    stamps = (np.datetime64("2024-01-01T00:00:00") + seconds.astype("timedelta64[s]")).astype(str)
    amounts = np.round(rng.gamma(2.0, 40.0, size=rows), 2)
    with path.open("w", encoding="utf-8") as out:
        out.write("order_id,customer_id,date,amount\n")
        for start in range(0, rows, 100_000):
            stop = min(rows, start + 100_000)
            out.writelines(
                f"O{i:08d},C{customers[i]:07d},{stamps[i].replace('T', ' ')},{amounts[i]:.2f}\n"
                for i in range(start, stop)
            )


def bulk_bench(rows: int, members: int) -> dict[str, object]:
    out: dict[str, object] = {"orders": rows, "members": members}
    with tempfile.TemporaryDirectory(prefix="patron-loyalty-bulk-") as tmp:
        data = Path(tmp) / "orders.csv"
        make_orders(data, rows, members)
        for label, enrol in (("without_members", "no"), ("all_members", "yes")):
            name = f"patron_bench_loyalty_{label}"
            env = {
                **os.environ,
                "PATRON_DATABASE_URL": database(name),
                "DJANGO_SETTINGS_MODULE": "patron.settings",
                "PATRON_ALLOW_INSECURE_KEY": "1",
            }
            run_python(SETUP_BULK, env, str(members), enrol)
            out[label] = json.loads(run_python(IMPORT, env, str(data)))
            drop(name)
    base = out["without_members"]["seconds"]  # type: ignore[index]
    with_points = out["all_members"]["seconds"]  # type: ignore[index]
    out["added_share"] = (with_points - base) / base
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--members", type=int, default=200_000)
    parser.add_argument("--skip-api", action="store_true")
    parser.add_argument("--skip-bulk", action="store_true")
    args = parser.parse_args()
    results: dict[str, object] = {}
    if not args.skip_api:
        api = api_bench(args.seconds, args.clients)
        results["api"] = api
        print(
            f"API on PostgreSQL, gunicorn gthread 2x4, {args.clients} clients, {args.seconds:.0f} s each:"
        )
        for key in (
            "healthz",
            "patron_accruals",
            "naive_accruals",
            "patron_redemptions",
            "naive_redemptions",
        ):
            r = api[key]  # type: ignore[index]
            print(
                f"  {key:20s} {r['requests_per_s']:8.1f} req/s   p50 {r['p50_ms']:6.1f} ms   "
                f"p95 {r['p95_ms']:6.1f} ms   {r['statuses']}"
            )
        print(f"  check: {api['check']}")  # type: ignore[index]
    if not args.skip_bulk:
        bulk = bulk_bench(args.orders, args.members)
        results["bulk"] = bulk
        print(f"Bulk: {args.orders:,} orders into a store of {args.members:,} customers:")
        for key in ("without_members", "all_members"):
            print(f"  {key:16s} {bulk[key]}")  # type: ignore[index]
        print(f"  points add {100 * bulk['added_share']:.1f}% to the import's time (target <= 50%)")  # type: ignore[operator]
    print(json.dumps(results, default=str))


if __name__ == "__main__":
    main()
