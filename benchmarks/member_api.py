# ruff: noqa: E501  (the scripts run in the benchmark's subprocesses are strings)
"""Member API latency on PostgreSQL: ``GET /api/v1/member/me`` with 8 concurrent keep-alive
clients at 200k members (two ledger lots each, tiers on), each request with another member's
token, beside the staff API's ``GET /api/v1/loyalty/members/{card}`` for the same members and
the framework's own ceiling (``/healthz``), all served by the same gunicorn in the same run.

    .venv/bin/python benchmarks/member_api.py [--seconds 10] [--clients 8] [--members 200000]

Target (issue #20): p95 < 50 ms for GET /me. Needs the bench extra (gunicorn):
``.venv/bin/pip install -c requirements.lock -e '.[bench]'``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from loyalty_throughput import database, drive, drop, free_port, run_python

BIN = Path(sys.executable).parent
TOKENS = 2000

SETUP = r"""
import datetime as dt, json, sys, time
import django
django.setup()
from patron.core.setup import database_init
database_init()
from django.db import connection, transaction
from django.utils import timezone
from patron.accounts.services import user_role_set
from django.contrib.auth import get_user_model
from patron.core.services import token_create
from patron.customers.models import Customer
from patron.ingest.bare_customers import bare_customers_insert
from patron.loyalty.cards import card_new
from patron.loyalty.models import LedgerEntry, Member, Tier
from patron.loyalty.services import programme_get
from patron.members.auth import secret_hash, token_new
from patron.members.models import MemberSession
n, tokens = int(sys.argv[1]), int(sys.argv[2])
started = time.perf_counter()
programme = programme_get()
programme.tiers_enabled, programme.tier_basis, programme.expiry_mode = True, "points", "days"
programme.save()
silver = Tier.objects.create(programme=programme, code="silver", name_en="Silver", name_zh="银卡", rank=0, threshold=0)
Tier.objects.create(programme=programme, code="gold", name_en="Gold", name_zh="金卡", rank=1, threshold=5000)
today = timezone.localdate()
when = timezone.now() - dt.timedelta(days=400)
with transaction.atomic():
    bare_customers_insert([f"M{i:07d}" for i in range(n)])
    members = [Member(customer_id=pk, card_number=card_new(), referral_code=f"R{k:09d}", enrolled_at=when, tier=silver)
               for k, pk in enumerate(Customer.objects.values_list("pk", flat=True).order_by("pk"))]
    Member.objects.bulk_create(members, batch_size=10000)
    ids = list(Member.objects.values_list("pk", flat=True).order_by("pk"))
    now = timezone.now()
    for start in range(0, len(ids), 20000):
        entries = []
        for pk in ids[start:start + 20000]:
            for j, (days, points) in enumerate(((200, 1200), (20, 300))):
                day = today - dt.timedelta(days=days)
                entries.append(LedgerEntry(member_id=pk, kind="earn", points=points, is_lot=True, source=f"o:{pk}:{j}",
                                           effective_on=day, expires_on=day + dt.timedelta(days=365), created_at=now))
        LedgerEntry.objects.bulk_create(entries, batch_size=10000)
    raw, sessions = [], []
    step = max(1, len(ids) // tokens)
    for pk in ids[::step][:tokens]:
        token = token_new()
        raw.append(token)
        sessions.append(MemberSession(member_id=pk, token_hash=secret_hash(token), kind="api", created_at=now,
                                      expires_at=now + dt.timedelta(days=30)))
    MemberSession.objects.bulk_create(sessions)
cards = list(Member.objects.filter(pk__in=ids[::step][:tokens]).values_list("card_number", flat=True))
with connection.cursor() as cursor:
    cursor.execute("ANALYZE")
user = get_user_model().objects.create(username="till")
user_role_set(user=user, role="marketing")
print(json.dumps({"tokens": raw, "cards": cards, "staff": token_create(username="till")[1],
                  "entries": LedgerEntry.objects.count(), "members": Member.objects.count(),
                  "setup_s": round(time.perf_counter() - started, 1)}))
"""

BENCH_SETTINGS = """
from patron.settings import *  # noqa: F403
DEBUG = False
"""


def load(port: int, paths_and_tokens, seconds: float, clients: int) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """GETs for ``seconds``; ``paths_and_tokens(k, i)`` gives each request's path and bearer
    token (the load driver is loyalty_throughput's)."""

    def request(k: int, i: int) -> tuple[str, str, None, dict[str, str]]:
        path, token = paths_and_tokens(k, i)
        return ("GET", path, None, {"Authorization": f"Bearer {token}"})

    figures = drive(port, request, seconds, clients)
    return {k: round(v, 1) if isinstance(v, float) else v for k, v in figures.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--members", type=int, default=200_000)
    args = parser.parse_args()
    if not (BIN / "gunicorn").exists():
        raise SystemExit(
            "gunicorn is missing: .venv/bin/pip install -c requirements.lock -e '.[bench]'"
        )
    name = "patron_bench_member_api"
    url = database(name)
    try:
        with tempfile.TemporaryDirectory(prefix="patron-member-bench-") as tmp:
            Path(tmp, "member_bench_settings.py").write_text(BENCH_SETTINGS)
            env = {
                **os.environ,
                "PATRON_DATABASE_URL": url,
                "DJANGO_SETTINGS_MODULE": "member_bench_settings",
                "PYTHONPATH": tmp,
                "PATRON_ALLOW_INSECURE_KEY": "1",
                "PATRON_SECRET_KEY": "bench-" + "x" * 50,
                "PATRON_JOBS_IMMEDIATE": "1",  # /healthz answers without a worker
            }
            setup = json.loads(run_python(SETUP, env, str(args.members), str(TOKENS)))
            tokens, cards, staff = setup.pop("tokens"), setup.pop("cards"), setup.pop("staff")
            port = free_port()
            server = subprocess.Popen(
                [str(BIN / "gunicorn"), "-k", "gthread", "-w", "2", "--threads", "4",
                 "--no-control-socket", "-b", f"127.0.0.1:{port}", "--log-level", "warning",
                 "patron.wsgi:application"],
                env=env,
                cwd=tmp,
            )  # fmt: skip
            try:
                ready = time.perf_counter() + 120
                while time.perf_counter() < ready:
                    try:
                        probe = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                        probe.request("GET", "/healthz")
                        if probe.getresponse().status == 200:
                            break
                    except OSError:
                        time.sleep(0.5)
                rng = np.random.default_rng(7)
                picks = rng.integers(0, len(tokens), size=100_000)

                def me(k: int, i: int) -> tuple[str, str]:
                    return "/api/v1/member/me", tokens[picks[(k * 10_007 + i) % len(picks)]]

                def staff_member(k: int, i: int) -> tuple[str, str]:
                    card = cards[picks[(k * 10_007 + i) % len(picks)]]
                    return f"/api/v1/loyalty/members/{card}", staff

                load(port, me, 3.0, args.clients)  # warm-up, not counted
                results = {
                    "setup": setup,
                    "healthz": load(
                        port, lambda k, i: ("/healthz", ""), args.seconds, args.clients
                    ),
                    "member_me": load(port, me, args.seconds, args.clients),
                    "staff_member_get": load(port, staff_member, args.seconds, args.clients),
                }
            finally:
                server.terminate()
                server.wait(timeout=30)
    finally:
        drop(name)
    print(json.dumps(results, indent=2))
    p95 = results["member_me"]["p95_ms"]  # type: ignore[index]
    verdict = "meets" if p95 < 50 else "misses"
    print(
        f"GET /me p95 {p95} ms with {args.clients} clients at {setup['members']} members: {verdict} the 50 ms target"
    )


if __name__ == "__main__":
    main()
