"""Segments and sending at scale, with a plain Django mail loop beside ours in the same run.

1. A segment counted over N customers (default 1,000,000; 3 orders each, an analysis run of
   scores, consent rows), in the database: the issue's example rule, a consent rule, and
   everyone. Target on PostgreSQL: < 1 s.
2. M e-mails (default 100,000) handed to a local SMTP server (aiosmtpd in its own process,
   discarding what it receives, offering PIPELINING as Postfix and other MTAs do unless
   ``--no-pipelining``) through the outbox: per-recipient rows, consent, opt-outs,
   suppressed addresses and the frequency cap checked at dispatch, each batch claimed in one
   commit, each message written in the worker's journal before it goes out and once
   accepted, the batch marked sent in one statement. Beside it, on the same server in the
   same run, Django's ``send_mass_mail`` over one connection with the same count and texts
   (no database; smtplib never pipelines). Target: >= 500 messages/s and no slower than the
   plain loop.

    PATRON_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/patron_bench_campaigns \\
        .venv/bin/python benchmarks/segment_and_send.py [--customers 1000000] \\
        [--messages 100000] [--workers 1]

The database named by PATRON_DATABASE_URL is migrated and filled (its customers, orders and
outbox are replaced); by default a SQLite file under /tmp.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = {
    "all": [
        {"field": "value_tier", "op": "in", "value": ["very_high", "high"]},
        {
            "any": [
                {"field": "days_since_last_purchase", "op": ">", "value": 90},
                {"field": "churn_risk", "op": "=", "value": "high"},
            ]
        },
    ]
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _series(vendor: str, n: int) -> str:
    if vendor == "postgresql":
        return f"(SELECT g AS x FROM generate_series(1, {n}) g)"
    return f"(WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < {n}) SELECT x FROM s)"  # noqa: E501


def fill(customers: int) -> None:
    """Replace the store's customers with ``customers`` synthetic ones, set-based in SQL."""
    from django.db import connection

    from patron.customers.models import Customer

    if Customer.objects.filter(external_id__startswith="B").count() == customers:
        print(f"store already holds {customers:,} benchmark customers")
        return
    vendor = connection.vendor
    true, false = ("true", "false") if vendor == "postgresql" else ("1", "0")
    now = "now()" if vendor == "postgresql" else "datetime('now')"
    json_empty = "'[]'::jsonb" if vendor == "postgresql" else "'[]'"
    obj_empty = "'{}'::jsonb" if vendor == "postgresql" else "'{}'"
    today = "current_date" if vendor == "postgresql" else "date('now')"
    minus_days = (
        (lambda e: f"({today} - ({e})::int)")
        if vendor == "postgresql"
        else (lambda e: f"date('now', '-' || ({e}) || ' days')")
    )
    started = time.perf_counter()
    with connection.cursor() as c:
        for table in (
            "campaigns_response",
            "campaigns_target",
            "campaigns_campaign",
            "messaging_outboxmessage",
            "messaging_unsubscribe",
            "insights_customerscore",
            "insights_analysisrun",
            "sales_orderline",
            "sales_purchasesummary",
            "sales_order",
            "customers_consent",
            "customers_interaction",
            "customers_customer",
        ):
            c.execute(f"DELETE FROM {table}")
        c.execute(
            "INSERT INTO customers_customer (external_id, name, phone, phone_is_masked, email, "
            "gender, region, city, occupation, acquisition_channel, company, credit_rating, tags, "
            f"attributes, created_at, updated_at) SELECT 'B' || x, 'n' || x, '', {false}, "
            f"'c' || x || '@bench.test', 'u', CASE x % 4 WHEN 0 THEN '北京' WHEN 1 THEN '上海' "
            f"WHEN 2 THEN '广东' ELSE '浙江' END, '', '', '', '', '', {json_empty}, {obj_empty}, "
            f"{now}, {now} FROM {_series(vendor, customers)} g"
        )
        c.execute(
            "INSERT INTO customers_consent (customer_id, channel, granted, recorded_at, source) "
            f"SELECT id, 'email', CASE WHEN id % 5 = 0 THEN {false} ELSE {true} END, {now}, "
            "'bench' FROM customers_customer"
        )
        c.execute(
            "INSERT INTO insights_analysisrun (as_of, created_at, settings, code_version, status, "
            f"figures, customers, error) VALUES ({today}, {now}, {obj_empty}, 'bench', "
            f"'completed', {obj_empty}, {customers}, '')"
        )
        c.execute("SELECT max(id) FROM insights_analysisrun")
        run_id = c.fetchone()[0]
        c.execute(
            "INSERT INTO insights_customerscore (run_id, customer_id, recency_days, frequency, "
            "monetary, r_score, f_score, m_score, segment, value_tier, revenue, cost_to_serve, "
            f"p_alive, risk_level) SELECT {run_id}, id, (id * 7) % 400, 1 + id % 9, 100, "
            "1 + id % 5, 1 + (id / 5) % 5, 1 + (id / 25) % 5, 'loyal', CASE (id * 13) % 5 "
            "WHEN 0 THEN 'very_high' WHEN 1 THEN 'high' WHEN 2 THEN 'moderate' WHEN 3 THEN 'low' "
            "ELSE 'very_low' END, 100, 0, 0.5, CASE (id * 17) % 3 WHEN 0 THEN 'high' WHEN 1 THEN "
            "'medium' ELSE 'low' END FROM customers_customer"
        )
        for k in range(3):
            day = minus_days(f"(id * {31 + k * 7}) % 720")
            ts = f"{day}::timestamptz" if vendor == "postgresql" else f"{day} || ' 10:00:00'"
            c.execute(
                "INSERT INTO sales_order (source, external_id, customer_id, ordered_at, "
                "ordered_on, store, channel, amount, status, raw_status, created_at) "
                f"SELECT 'default', 'O' || id || '-{k}', id, {ts}, {day}, '', '', "
                f"10 + id % 300, 'completed', '', {now} FROM customers_customer"
            )
    from patron.sales.purchases import purchase_summary_rebuild

    purchase_summary_rebuild()  # the orders went in by SQL, around the importer's hook
    if vendor == "postgresql":  # what autovacuum does in time: statistics, visibility map
        connection.ensure_connection()
        raw = connection.connection
        autocommit = raw.autocommit
        raw.autocommit = True
        raw.execute("VACUUM ANALYZE")
        raw.autocommit = autocommit
    print(
        f"filled {customers:,} customers, {3 * customers:,} orders in "
        f"{time.perf_counter() - started:.1f} s"
    )


def count_segments() -> None:
    from django.db import connection

    from patron.campaigns.rules import segment_count

    rules = {
        "issue example": EXAMPLE,
        "email consent, Shanghai": {
            "all": [
                {"field": "consent_email", "op": "=", "value": True},
                {"field": "region", "op": "=", "value": "上海"},
            ]
        },
        "value tier (scores only)": {
            "all": [{"field": "value_tier", "op": "in", "value": ["very_high", "high"]}]
        },
        "everyone": {"all": []},
    }
    for name, rule in rules.items():
        times = []
        for _ in range(3):
            started = time.perf_counter()
            n = segment_count(rules=rule)
            times.append(time.perf_counter() - started)
        print(
            f"segment count on {connection.vendor} ({name}): {n:,} customers, "
            f"best {min(times):.3f} s of 3 (first {times[0]:.3f} s)"
        )


_SERVER = """
import sys, threading
from aiosmtpd.controller import Controller

class Sink:  # discards what it receives; offers PIPELINING (RFC 2920) when asked
    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if sys.argv[2] == "1":
            return [*responses[:-1], "250-PIPELINING", responses[-1]]
        return responses

    async def handle_DATA(self, server, session, envelope):
        return "250 OK"

Controller(Sink(), hostname="127.0.0.1", port=int(sys.argv[1])).start()
threading.Event().wait()
"""


def _smtp_server(port: int, *, pipelining: bool) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [sys.executable, "-c", _SERVER, str(port), "1" if pipelining else "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the SMTP server did not start")


def send(messages: int, workers: int, *, pipelining: bool) -> None:
    from django.conf import settings
    from django.core.mail import get_connection, send_mass_mail
    from django.db import connection

    from patron.customers.models import Customer
    from patron.messaging.models import OutboxMessage
    from patron.messaging.policy import contact_policy_get

    port = _free_port()
    server = _smtp_server(port, pipelining=pipelining)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    try:
        policy = contact_policy_get()
        policy.quiet_start = policy.quiet_end = 0
        policy.email_cap, policy.window_days = 3, 7
        policy.save()
        OutboxMessage.objects.all().delete()
        recipients = list(
            Customer.objects.filter(consents__channel="email", consents__granted=True)
            .order_by("pk")
            .values_list("pk", "email")[:messages]
        )
        subject, text = "春季礼遇 Spring offer", "您好，这是您的专属优惠。Your code: ABCD234567"
        html = "<p>您好，这是您的专属优惠。</p>"
        started = time.perf_counter()
        OutboxMessage.objects.bulk_create(
            [
                OutboxMessage(
                    key=f"bench:{pk}",
                    channel="email",
                    recipient=email,
                    subject=subject,
                    body_text=text,
                    body_html=html,
                    customer_id=pk,
                    purpose="marketing",
                    topic="offers",
                    language="zh-hans",
                )
                for pk, email in recipients
            ],
            batch_size=5000,
        )
        queued = time.perf_counter() - started
        print(f"queued {len(recipients):,} outbox rows in {queued:.1f} s")

        # the plain loop: one connection, the same messages, no database
        datatuple = [(subject, text, "patron@localhost", [email]) for _, email in recipients]
        started = time.perf_counter()
        sent_plain = send_mass_mail(datatuple, connection=get_connection())
        plain = time.perf_counter() - started

        print(
            f"Django send_mass_mail, one connection: {sent_plain:,} in {plain:.1f} s = "
            f"{sent_plain / plain:,.0f} msg/s (text only, no database)"
        )
        env = {**os.environ, "PATRON_EMAIL_URL": f"smtp://127.0.0.1:{port}"}
        code = (
            "import django, json; django.setup(); from patron.messaging.dispatch import "
            "outbox_dispatch; print(json.dumps(outbox_dispatch().as_dict()))"
        )
        started = time.perf_counter()
        procs = [
            subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE)
            for _ in range(workers)
        ]
        for proc in procs:
            proc.communicate(timeout=3600)
        ours = time.perf_counter() - started
        sent = OutboxMessage.objects.filter(status="sent").count()
        assert sent == len(recipients), sent
        print(
            f"Patron outbox on {connection.vendor}, {workers} worker process(es), one SMTP "
            f"connection each: {sent:,} in {ours:.1f} s = {sent / ours:,.0f} msg/s (text + "
            f"HTML, claimed per batch, journalled before and after each send, consent, "
            f"opt-outs, suppression and cap at dispatch; start-up included)"
        )
        print(f"ratio ours/plain: {(sent / ours) / (sent_plain / plain):.2f}")
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=1, help="outbox worker processes")
    parser.add_argument("--parts", default="segments,send", help="segments, send or both")
    parser.add_argument(
        "--no-pipelining",
        action="store_true",
        help="the SMTP server does not offer PIPELINING (real MTAs such as Postfix do)",
    )
    args = parser.parse_args()
    os.environ.setdefault("PATRON_DATABASE_URL", "sqlite:////tmp/patron-bench-campaigns.sqlite3")
    os.environ.setdefault("PATRON_ALLOW_INSECURE_KEY", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "patron.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    if os.environ["PATRON_DATABASE_URL"].startswith("postgres"):
        _ensure_database(os.environ["PATRON_DATABASE_URL"])
    call_command("migrate", verbosity=0)
    fill(args.customers)
    if "segments" in args.parts:
        count_segments()
    if "send" in args.parts:
        send(min(args.messages, args.customers), args.workers, pipelining=not args.no_pipelining)


def _ensure_database(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


if __name__ == "__main__":
    main()
