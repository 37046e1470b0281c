"""Web latency: the customer list and the customer 360 page on 1M customers and 10M orders in
PostgreSQL, beside the Django admin's default change list of the same customers, same run.

The database ``patron_bench_web`` is dropped and rebuilt: ``patron init`` migrates it, then
generated data (NumPy, written as CSV by pyarrow) goes in with COPY. For the load only, the
secondary indexes are dropped and rebuilt afterwards and foreign-key triggers are off
(``session_replication_role = replica``; the data is consistent by construction); then
VACUUM ANALYZE. The app runs as in production: ``patron serve`` (waitress, 8 threads) in its
own process, DEBUG off. The client signs in over HTTP as an admin-role user (http.client with
the session cookie and the CSRF token) and times whole requests, one at a time, on one
keep-alive connection: server time plus loopback, each page with varying parameters.

    .venv/bin/python benchmarks/web_latency.py [--customers 1000000] [--orders 10000000]
                                               [--requests 200] [--keep-db]

Search that finds people (customers/search.py): the list's substring searches (the last four
digits of a phone, a two-character given name, a part of an email) on PostgreSQL (pg_trgm GIN)
and on SQLite (FTS5 trigram, kept by triggers while the customers are inserted):

    .venv/bin/python benchmarks/web_latency.py --only-search [--engine sqlite]

``--only-search`` loads the customers alone (no orders) and times the search pages only, and
the list sorted by a figure of the latest analysis run ("sort:" pages: one completed run's
scores for the 85% of customers who ordered are loaded beside the customers, in both modes).
"""

from __future__ import annotations

import argparse
import base64
import http.client
import io
import json
import os
import queue
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from http.cookies import SimpleCookie
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
from patron.demo.catalog import (  # noqa: E402
    ACQUISITION_CHANNELS,
    GIVEN_F,
    GIVEN_M,
    GIVEN_U,
    MOBILE_PREFIXES,
    ORDER_CHANNELS,
    REGIONS,
    STORES,
    SURNAMES,
)

PG_ADMIN = os.environ.get("PATRON_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
DB_NAME = "patron_bench_web"
CHUNK = 500_000
TARGET_P95_MS = 150.0
# (tag, share of customers); the last is rare, to show the GIN index on a selective filter
TAG_SHARES = (
    ("老客户", 0.20), ("外卖常客", 0.10), ("爱喝茶", 0.08), ("VIP", 0.05),
    ("生日会员", 0.06), ("素食偏好", 0.03), ("企业客户", 0.01), ("黑卡会员", 0.0005),
)  # fmt: skip
EMAIL_DOMAINS = ("qq.com", "163.com", "126.com", "foxmail.com", "gmail.com", "outlook.com")
TABLES = (
    "customers_customer",
    "insights_customerscore",
    "customers_consent",
    "customers_interaction",
    "sales_product",
    "sales_order",
    "sales_orderline",
)
BASE = np.datetime64("2023-01-01T00:00:00", "s").astype(np.int64)
SPAN = 3 * 365 * 86400  # three years of orders


def say(message: str) -> None:
    print(message, flush=True)


# --- data -----------------------------------------------------------------------------------


def _strings(values: list[str] | tuple[str, ...], index: np.ndarray) -> pa.Array:
    return pc.take(pa.array(list(values), pa.string()), pa.array(index))


def _join(*parts: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _padded(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    text = pc.utf8_lpad(pa.array(numbers).cast(pa.string()), width=width, padding="0")
    return _join(prefix, text)


def _stamps(seconds: np.ndarray) -> pa.Array:
    return pa.array(seconds.astype(np.int64), pa.timestamp("s", tz="UTC"))


def _dates(seconds: np.ndarray) -> pa.Array:
    # the business date in Asia/Shanghai (UTC+8)
    return pa.array(((seconds + 8 * 3600) // 86400).astype(np.int32), pa.date32())


def _csv(table: pa.Table) -> bytes:
    out = io.BytesIO()
    pacsv.write_csv(table, out, pacsv.WriteOptions(include_header=False))
    return out.getvalue()


class Shop:
    """Generated customers, with what the requests need to pick realistic parameters."""

    def __init__(self, customers: int, orders: int, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.customers = customers
        self.orders = orders
        rng = self.rng
        surname_weights = np.array([w for _, _, w in SURNAMES])
        self.surname = rng.choice(
            len(SURNAMES), customers, p=surname_weights / surname_weights.sum()
        )
        self.gender = rng.choice(3, customers, p=[0.46, 0.50, 0.04])  # m, f, u
        self.given_count = rng.choice([1, 2], customers, p=[0.3, 0.7])
        region_weights = np.array([w for _, _, w, _ in REGIONS])
        self.region = rng.choice(len(REGIONS), customers, p=region_weights / region_weights.sum())
        channel_weights = np.array([w for _, w, _ in ACQUISITION_CHANNELS])
        self.channel = rng.choice(
            len(ACQUISITION_CHANNELS), customers, p=channel_weights / channel_weights.sum()
        )
        self.has_phone = rng.random(customers) < 0.85
        self.phone = np.array(MOBILE_PREFIXES)[
            rng.integers(0, len(MOBILE_PREFIXES), customers)
        ] * 100_000_000 + rng.integers(0, 100_000_000, customers)
        self.tag_bits = np.zeros(customers, np.int32)
        for bit, (_, share) in enumerate(TAG_SHARES):
            self.tag_bits |= (rng.random(customers) < share).astype(np.int32) << bit
        self.acquired = BASE - rng.integers(0, 2 * 365 * 86400, customers)
        # Order counts per customer: 15% never ordered, the rest lognormal (a long tail)
        weights = rng.lognormal(0.0, 1.2, customers)
        weights[rng.random(customers) < 0.15] = 0.0
        self.order_weights = weights / weights.sum()
        self.top = np.argsort(weights)[-max(1, customers // 100) :]  # the top 1% of buyers
        self.names = self._names()
        self.has_email = np.zeros(customers, bool)  # filled as the customers are generated

    def _names(self) -> np.ndarray:
        rng = self.rng
        given = {0: GIVEN_M, 1: GIVEN_F, 2: GIVEN_U}
        first = np.empty(self.customers, dtype=object)
        second = np.empty(self.customers, dtype=object)
        for code, chars in given.items():
            mask = self.gender == code
            pool = np.array([c for c, _ in chars], dtype=object)
            first[mask] = pool[rng.integers(0, len(pool), mask.sum())]
            second[mask] = pool[rng.integers(0, len(pool), mask.sum())]
        second[self.given_count == 1] = ""
        surnames = np.array([s for s, _, _ in SURNAMES], dtype=object)[self.surname]
        names = surnames + first + second
        names[rng.random(self.customers) < 0.03] = ""  # some records have no name
        return names

    def customer_chunks(self) -> Iterator[bytes]:
        rng = np.random.default_rng(11)
        tag_json = {}
        for bits in np.unique(self.tag_bits):
            tags = [t for i, (t, _) in enumerate(TAG_SHARES) if bits >> i & 1]
            tag_json[int(bits)] = json.dumps(tags, ensure_ascii=False)
        for start in range(0, self.customers, CHUNK):
            stop = min(self.customers, start + CHUNK)
            n = stop - start
            ids = np.arange(start + 1, stop + 1)
            has_email = rng.random(n) < 0.35
            self.has_email[start:stop] = has_email  # for the email searches
            email = _join(
                "u", pa.array(ids).cast(pa.string()), "@",
                _strings(EMAIL_DOMAINS, rng.integers(0, len(EMAIL_DOMAINS), n)),
            )  # fmt: skip
            email = pc.if_else(pa.array(has_email), email, "")
            phone = pc.if_else(
                pa.array(self.has_phone[start:stop]),
                pa.array(self.phone[start:stop]).cast(pa.string()),
                "",
            )
            birth = BASE - rng.integers(18 * 365, 65 * 365, n) * 86400
            birth_dates = pc.if_else(pa.array(rng.random(n) < 0.6), _dates(birth), None)
            region = self.region[start:stop]
            acquired = self.acquired[start:stop]
            bits = self.tag_bits[start:stop]
            table = pa.table(
                {
                    "id": ids,
                    "external_id": _padded("C", ids, 8),
                    "name": pa.array(self.names[start:stop], pa.string()),
                    "phone": phone,
                    "phone_is_masked": pa.array(np.zeros(n, bool)),
                    "email": email,
                    "gender": _strings(("m", "f", "u"), self.gender[start:stop]),
                    "birth_date": birth_dates,
                    "region": _strings([r for r, _, _, _ in REGIONS], region),
                    "city": _strings([c for _, c, _, _ in REGIONS], region),
                    "occupation": pa.array([""] * n),
                    "acquisition_channel": _strings(
                        [c for c, _, _ in ACQUISITION_CHANNELS], self.channel[start:stop]
                    ),
                    "acquired_on": _dates(acquired),
                    "company": pa.array([""] * n),
                    "credit_rating": pa.array([""] * n),
                    "tags": pa.array([tag_json[int(b)] for b in bits], pa.string()),
                    "attributes": pc.if_else(
                        pa.array(rng.random(n) < 0.1), '{"口味": "清淡"}', "{}"
                    ),
                    "created_at": _stamps(acquired),
                    "updated_at": _stamps(acquired),
                }
            )
            yield _csv(table)

    CUSTOMER_COLUMNS = (
        "id, external_id, name, phone, phone_is_masked, email, gender, birth_date, region, "
        "city, occupation, acquisition_channel, acquired_on, company, credit_rating, tags, "
        "attributes, created_at, updated_at"
    )

    SCORE_COLUMNS = (
        "run_id, customer_id, recency_days, frequency, monetary, r_score, f_score, m_score, "
        "segment, value_tier, revenue, margin, cost_to_serve, profit, p_alive, "
        "expected_purchases, clv, value_at_risk, risk_level, risk_score"
    )

    def score_chunks(self, run_id: int) -> Iterator[tuple[int, pa.Table]]:
        """One analysis run's scores for the customers who ever ordered (85%), shaped like a
        real run's (long-tailed money, tiers and segments), for the sorts by run figures."""
        from patron.analytics.segments import SEGMENT_CODES

        rng = np.random.default_rng(13)
        tiers = ("top", "high", "medium", "low", "very_low")
        for start in range(0, self.customers, CHUNK):
            stop = min(self.customers, start + CHUNK)
            ids = np.arange(start + 1, stop + 1)[self.order_weights[start:stop] > 0]
            n = len(ids)
            revenue = np.round(rng.lognormal(5.5, 1.2, n), 2)
            p_alive = rng.beta(2.0, 1.5, n)
            clv = np.round(revenue * rng.uniform(0.1, 1.5, n), 2)
            table = pa.table(
                {
                    "run_id": pa.array(np.full(n, run_id)),
                    "customer_id": pa.array(ids),
                    "recency_days": pa.array(rng.integers(1, 900, n)),
                    "frequency": pa.array(rng.integers(1, 40, n)),
                    "monetary": pa.array(revenue / 3),
                    "r_score": pa.array(rng.integers(1, 6, n)),
                    "f_score": pa.array(rng.integers(1, 6, n)),
                    "m_score": pa.array(rng.integers(1, 6, n)),
                    "segment": _strings(SEGMENT_CODES, rng.integers(0, len(SEGMENT_CODES), n)),
                    "value_tier": _strings(tiers, rng.integers(0, len(tiers), n)),
                    "revenue": pa.array(revenue),
                    "margin": pa.array(np.round(revenue * 0.3, 2)),
                    "cost_to_serve": pa.array(np.round(revenue * 0.05, 2)),
                    "profit": pa.array(np.round(revenue * 0.25, 2)),
                    "p_alive": pa.array(p_alive),
                    "expected_purchases": pa.array(rng.gamma(1.0, 1.0, n)),
                    "clv": pa.array(clv),
                    "value_at_risk": pa.array(np.round(clv * (1 - p_alive), 2)),
                    "risk_level": _strings(("low", "medium", "high"), rng.integers(0, 3, n)),
                    "risk_score": pa.array(1 - p_alive),
                }
            )
            yield n, table

    def consent_chunks(self) -> Iterator[bytes]:
        rng = np.random.default_rng(12)
        for channel, share in (("sms", 0.6), ("email", 0.3), ("wechat", 0.2)):
            for start in range(0, self.customers, CHUNK):
                stop = min(self.customers, start + CHUNK)
                ids = np.arange(start + 1, stop + 1)[rng.random(stop - start) < share]
                n = len(ids)
                yield _csv(
                    pa.table(
                        {
                            "customer_id": ids,
                            "channel": pa.array([channel] * n),
                            "granted": pa.array(rng.random(n) < 0.8),
                            "recorded_at": _stamps(self.acquired[ids - 1]),
                            "source": pa.array(["import"] * n),
                        }
                    )
                )

    CONSENT_COLUMNS = "customer_id, channel, granted, recorded_at, source"

    def interaction_chunks(self) -> Iterator[bytes]:
        rng = np.random.default_rng(13)
        n = self.customers * 3 // 10
        kinds = ("visit", "call", "email", "complaint", "note", "survey")
        texts = ("到店咨询新品", "电话回访，满意", "投诉外卖送达慢", "生日祝福已发送", "问卷已填写")
        for start in range(0, n, CHUNK):
            size = min(n, start + CHUNK) - start
            when = BASE + rng.integers(0, SPAN, size)
            yield _csv(
                pa.table(
                    {
                        "customer_id": rng.integers(1, self.customers + 1, size),
                        "kind": _strings(kinds, rng.integers(0, len(kinds), size)),
                        "channel": _strings(("门店", "电话", "微信"), rng.integers(0, 3, size)),
                        "text": _strings(texts, rng.integers(0, len(texts), size)),
                        "occurred_at": _stamps(when),
                    }
                )
            )

    INTERACTION_COLUMNS = "customer_id, kind, channel, text, occurred_at"
    PRODUCTS = 500

    def product_chunks(self) -> Iterator[bytes]:
        rng = np.random.default_rng(14)
        ids = np.arange(1, self.PRODUCTS + 1)
        yield _csv(
            pa.table(
                {
                    "id": ids,
                    "sku": _padded("SKU", ids, 5),
                    "name": _join("商品", pa.array(ids).cast(pa.string())),
                    "category": _strings(
                        ("茶叶", "礼盒", "茶具", "点心"), rng.integers(0, 4, len(ids))
                    ),
                    "unit_price": np.round(rng.gamma(2.0, 40.0, len(ids)) + 5, 2),
                    "created_at": _stamps(np.full(len(ids), BASE)),
                    "updated_at": _stamps(np.full(len(ids), BASE)),
                }
            )
        )

    PRODUCT_COLUMNS = "id, sku, name, category, unit_price, created_at, updated_at"

    def order_chunks(self, lines_out: list[int]) -> Iterator[tuple[bytes, bytes]]:
        """Orders in time order (ids follow time, as imports make them), each chunk with its
        order lines: 20% of orders have 1-3 lines."""
        rng = np.random.default_rng(15)
        cumulative = np.cumsum(self.order_weights)
        when_all = np.sort(BASE + rng.integers(0, SPAN, self.orders))
        statuses = ("completed", "open", "cancelled", "unpaid", "refunded")
        status_p = [0.92, 0.03, 0.02, 0.01, 0.02]
        line_id = 0
        for start in range(0, self.orders, CHUNK):
            stop = min(self.orders, start + CHUNK)
            n = stop - start
            ids = np.arange(start + 1, stop + 1)
            customer = np.searchsorted(cumulative, rng.random(n) * cumulative[-1], side="right")
            customer = np.minimum(customer, self.customers - 1) + 1
            when = when_all[start:stop]
            amount = np.round(rng.gamma(2.0, 60.0, n) + 1, 2)
            orders = pa.table(
                {
                    "id": ids,
                    "source": pa.array(["default"] * n),
                    "external_id": _padded("O", ids, 9),
                    "customer_id": customer,
                    "ordered_at": _stamps(when),
                    "ordered_on": _dates(when),
                    "store": _strings(STORES, rng.integers(0, len(STORES), n)),
                    "channel": _strings(ORDER_CHANNELS, rng.integers(0, len(ORDER_CHANNELS), n)),
                    "amount": amount,
                    "status": _strings(statuses, rng.choice(len(statuses), n, p=status_p)),
                    "raw_status": pa.array([""] * n),
                    "created_at": _stamps(when),
                }
            )
            with_lines = np.flatnonzero(rng.random(n) < 0.2)
            count = rng.integers(1, 4, len(with_lines))
            order_of_line = np.repeat(with_lines, count)
            first = np.repeat(np.cumsum(count) - count, count)
            line_no = np.arange(len(order_of_line)) - first + 1
            line_ids = np.arange(line_id + 1, line_id + len(order_of_line) + 1)
            line_id += len(order_of_line)
            lines = pa.table(
                {
                    "id": line_ids,
                    "order_id": ids[order_of_line],
                    "line_no": line_no,
                    "product_id": rng.integers(1, self.PRODUCTS + 1, len(order_of_line)),
                    "quantity": rng.integers(1, 4, len(order_of_line)),
                    "amount": np.round(amount[order_of_line] / np.repeat(count, count), 2),
                }
            )
            lines_out[0] = line_id
            yield _csv(orders), _csv(lines)

    ORDER_COLUMNS = (
        "id, source, external_id, customer_id, ordered_at, ordered_on, store, channel, amount, "
        "status, raw_status, created_at"
    )
    LINE_COLUMNS = "id, order_id, line_no, product_id, quantity, amount"


def _prefetched(chunks: Iterator, depth: int = 2) -> Iterator:
    """Make the next chunks in a thread while PostgreSQL takes the current one (2 cores)."""
    box: queue.Queue = queue.Queue(maxsize=depth)
    done = object()

    def produce() -> None:
        try:
            for chunk in chunks:
                box.put(chunk)
        except BaseException as error:  # handed to the consumer
            box.put(error)
        box.put(done)

    threading.Thread(target=produce, daemon=True).start()
    while (item := box.get()) is not done:
        if isinstance(item, BaseException):
            raise item
        yield item


def load(url: str, shop: Shop, *, customers_only: bool = False) -> dict[str, int]:
    import psycopg

    def copy(cur: psycopg.Cursor, table: str, columns: str, data: bytes) -> None:
        with cur.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT csv)") as pipe:
            pipe.write(data)

    started = time.perf_counter()
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SET session_replication_role = replica")  # no FK triggers during the load
        cur.execute("SET maintenance_work_mem = '512MB'")
        cur.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint)",
            [list(TABLES)],
        )
        secondary = cur.fetchall()
        for name, _ in secondary:
            cur.execute(f"DROP INDEX {name}")
        for chunk in shop.product_chunks():
            copy(cur, "sales_product", shop.PRODUCT_COLUMNS, chunk)
        for chunk in _prefetched(shop.customer_chunks()):
            copy(cur, "customers_customer", shop.CUSTOMER_COLUMNS, chunk)
        say(f"  customers: {shop.customers:,} in {time.perf_counter() - started:.0f} s")
        run_id = _run_insert(cur, "%s")
        for _, table in shop.score_chunks(run_id):
            copy(cur, "insights_customerscore", shop.SCORE_COLUMNS, _csv(table))
        say(f"  one completed analysis run's scores: {time.perf_counter() - started:.0f} s")
        for chunk in _prefetched(shop.consent_chunks() if not customers_only else iter(())):
            copy(cur, "customers_consent", shop.CONSENT_COLUMNS, chunk)
        for chunk in _prefetched(shop.interaction_chunks() if not customers_only else iter(())):
            copy(cur, "customers_interaction", shop.INTERACTION_COLUMNS, chunk)
        say(f"  consents and interactions: {time.perf_counter() - started:.0f} s")
        lines = [0]
        order_chunks = shop.order_chunks(lines) if not customers_only else iter(())
        for done, (orders, order_lines) in enumerate(_prefetched(order_chunks), 1):
            copy(cur, "sales_order", shop.ORDER_COLUMNS, orders)
            copy(cur, "sales_orderline", shop.LINE_COLUMNS, order_lines)
            loaded = min(done * CHUNK, shop.orders)
            if done % 4 == 0 or loaded == shop.orders:
                rate = loaded / (time.perf_counter() - started)
                say(f"  orders: {loaded:,} of {shop.orders:,} ({rate:,.0f} rows/s overall)")
        copied = time.perf_counter()
        for name, definition in secondary:
            built = time.perf_counter()
            cur.execute(definition)
            if "trgm" in name:
                say(f"  search index {name} (pg_trgm GIN) in {time.perf_counter() - built:.0f} s")
        say(f"  {len(secondary)} secondary indexes rebuilt in {time.perf_counter() - copied:.0f} s")
        for table in TABLES:
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )
        conn.commit()
    vacuumed = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        for table in TABLES:
            conn.execute(f"VACUUM (ANALYZE) {table}")
    say(f"  VACUUM ANALYZE in {time.perf_counter() - vacuumed:.0f} s")
    return {"seconds": round(time.perf_counter() - started), "lines": lines[0]}


def load_sqlite(path: Path, shop: Shop) -> dict[str, int]:
    """The customers into a migrated SQLite file, in the app's own way: INSERTs, one
    transaction per chunk, the search triggers filling the FTS5 trigram index as rows go in."""
    import sqlite3

    started = time.perf_counter()
    columns = [c.strip() for c in shop.CUSTOMER_COLUMNS.split(",")]
    marks = ", ".join("?" * len(columns))
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    for chunk in _prefetched(shop.customer_chunks()):
        table = pacsv.read_csv(
            io.BytesIO(chunk),
            read_options=pacsv.ReadOptions(column_names=columns),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in columns},
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
            ),
        )
        rows = zip(*(table.column(c).to_pylist() for c in columns), strict=True)
        with conn:
            conn.executemany(
                f"INSERT INTO customers_customer ({', '.join(columns)}) VALUES ({marks})",
                (tuple("" if v is None and c not in NULLABLE else v for c, v in
                       zip(columns, row, strict=True)) for row in rows),
            )  # fmt: skip
    seconds = round(time.perf_counter() - started)
    say(f"  customers: {shop.customers:,} with their search index in {seconds} s")
    run_id = _run_insert(conn, "?")
    score_columns = [c.strip() for c in shop.SCORE_COLUMNS.split(",")]
    marks = ", ".join("?" * len(score_columns))
    scored = 0
    for n, table in shop.score_chunks(run_id):
        with conn:
            conn.executemany(
                f"INSERT INTO insights_customerscore ({shop.SCORE_COLUMNS}) VALUES ({marks})",
                zip(*(table.column(c).to_pylist() for c in score_columns), strict=True),
            )
        scored += n
    say(f"  one completed analysis run: {scored:,} customer scores")
    conn.execute("ANALYZE")
    conn.close()
    return {"seconds": seconds, "lines": 0}


NULLABLE = {"birth_date", "acquired_on"}


def _run_insert(cursor: object, mark: str) -> int:
    """A completed analysis run row (its scores are loaded beside it); returns its id."""
    done = cursor.execute(  # type: ignore[attr-defined]
        "INSERT INTO insights_analysisrun (as_of, created_at, settings, code_version, status, "
        f"figures, customers, duration, error) VALUES ({', '.join([mark] * 9)}) RETURNING id",
        ["2025-12-31", "2026-01-01 00:00:00", "{}", "bench", "completed", "{}", 0, 1.0, ""],
    )
    return int(done.fetchone()[0])  # sqlite3 and psycopg both return the cursor


def _existing(customers: int, orders: int) -> bool:
    import psycopg

    try:
        with psycopg.connect(f"{PG_ADMIN}/{DB_NAME}") as conn:
            found = conn.execute(
                "SELECT (SELECT count(*) FROM customers_customer), "
                "(SELECT count(*) FROM sales_order)"
            ).fetchone()
    except psycopg.Error:
        return False
    return found == (customers, orders)


def database() -> str:
    import psycopg

    with psycopg.connect(PG_ADMIN + "/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")
    return f"{PG_ADMIN}/{DB_NAME}"


# --- client ---------------------------------------------------------------------------------


class Browser:
    """One keep-alive HTTP connection with a cookie jar, like a signed-in browser tab."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None
    ) -> tuple[int, str, str]:
        headers = {"Host": "127.0.0.1", "Accept-Language": "zh-hans"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        for header in response.headers.get_all("Set-Cookie") or []:
            for key, morsel in SimpleCookie(header).items():
                self.cookies[key] = morsel.value
        return response.status, response.headers.get("Location", ""), text

    def sign_in(self, username: str, password: str) -> None:
        status, _, page = self.request("GET", "/accounts/login/")
        marker = 'name="csrfmiddlewaretoken" value="'
        if status != 200 or marker not in page:
            raise SystemExit(f"sign-in page: HTTP {status}")
        token = page.split(marker, 1)[1].split('"', 1)[0]
        form = {"username": username, "password": password, "csrfmiddlewaretoken": token}
        status, _, _ = self.request("POST", "/accounts/login/", form)
        if status != 302:
            raise SystemExit(f"sign-in failed: HTTP {status}")

    def timed(self, path: str) -> float:
        started = time.perf_counter()
        status, _, _ = self.request("GET", path)
        elapsed = (time.perf_counter() - started) * 1000
        if status != 200:
            raise SystemExit(f"GET {path}: HTTP {status}")
        return elapsed


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cursor(values: list[object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def _q(**params: str) -> str:
    return "?" + urllib.parse.urlencode(params)


def pages(shop: Shop, rng: np.random.Generator) -> list[tuple[str, str, Callable[[], str]]]:
    """(label, peer label, path maker): each call makes the next request's path."""
    n = shop.customers

    def ext(index: int) -> str:
        return f"C{index + 1:08d}"

    def named() -> int:
        while True:
            i = int(rng.integers(0, n))
            if shop.names[i]:
                return i

    def phoned() -> int:
        while True:
            i = int(rng.integers(0, n))
            if shop.has_phone[i]:
                return i

    def pick(values: list[str]) -> str:
        return values[int(rng.integers(0, len(values)))]

    def given_named() -> int:  # a two-character given name (surname + two)
        while True:
            i = named()
            if len(shop.names[i]) == 3:
                return i

    regions = sorted({r for r, _, _, _ in REGIONS})
    channels = [c for c, _, _ in ACQUISITION_CHANNELS]
    common_tags = [t for t, share in TAG_SHARES if share >= 0.01]
    rare_tag = TAG_SHARES[-1][0]
    top = [int(i) for i in shop.top]
    ours, admin = "/customers/", "/admin/customers/customer/"
    deep = (n // 400, n // 100)  # admin pages of 100: the last three quarters
    return [
        ("list: first page", "admin: change list", lambda: ours),
        ("list: name prefix (2 chars)", "admin: ?q=name",
         lambda: ours + _q(q=shop.names[named()][:2])),
        ("list: full name", "admin: ?q=name", lambda: ours + _q(q=shop.names[named()])),
        ("list: phone", "admin: ?q=phone", lambda: ours + _q(q=str(shop.phone[phoned()]))),
        ("list: id", "admin: ?q=id", lambda: ours + _q(q=ext(int(rng.integers(0, n))))),
        *search_pages(shop, rng, named, phoned, given_named),
        ("list: region", "admin: change list", lambda: ours + _q(region=pick(regions))),
        ("list: channel, by name", "admin: change list",
         lambda: ours + _q(acquisition_channel=pick(channels), sort="name")),
        ("list: tag (1-20%)", "admin: change list", lambda: ours + _q(tag=pick(common_tags))),
        ("list: tag (0.05%)", "admin: change list", lambda: ours + _q(tag=rare_tag)),
        ("list: consent sms, region", "admin: change list",
         lambda: ours + _q(consent="sms", region=pick(regions))),
        *sort_pages(rng, n, pick),
        ("list: deep page (keyset)", "admin: deep page",
         lambda: ours + _q(after=_cursor([ext(int(rng.integers(n // 4, n)))]))),
        ("list: deep page, by name", "admin: deep page", lambda: ours + _q(sort="name",
         after=_cursor([shop.names[i := named()], ext(i)]))),
        ("customer 360", "admin: change list", lambda: f"{ours}{ext(int(rng.integers(0, n)))}/"),
        ("customer 360, top 1% buyers", "admin: change list",
         lambda: f"{ours}{ext(top[int(rng.integers(0, len(top)))])}/"),
        ("admin: change list", "", lambda: admin),
        ("admin: ?q=name", "", lambda: admin + _q(q=shop.names[named()])),
        ("admin: ?q=phone", "", lambda: admin + _q(q=str(shop.phone[phoned()]))),
        ("admin: ?q=id", "", lambda: admin + _q(q=ext(int(rng.integers(0, n))))),
        ("admin: deep page", "", lambda: admin + _q(p=str(int(rng.integers(*deep))))),
    ]  # fmt: skip


def sort_pages(
    rng: np.random.Generator, n: int, pick: Callable[[list[str]], str]
) -> list[tuple[str, str, Callable[[], str]]]:
    """Sorts by a figure of the latest analysis run (customers/values.py), on their own and
    after a filter, and a page further down such a sort (keyset on the figure and the id)."""
    ours = "/customers/"
    keys = ["clv", "revenue", "-revenue", "p_alive", "risk", "tier", "last_purchase", "orders"]
    return [
        ("sort: by a run figure", "admin: change list",
         lambda: ours + _q(sort=pick(keys))),
        ("sort: by CLV, deep page", "admin: change list", lambda: ours + _q(
            sort="clv", after=_cursor([f"{rng.uniform(5, 200):.2f}", int(rng.integers(1, n))]))),
        ("sort: tier filter, by CLV", "admin: change list",
         lambda: ours + _q(value_tier=pick(["top", "high", "low"]), sort="clv")),
    ]  # fmt: skip


def search_pages(
    shop: Shop,
    rng: np.random.Generator,
    named: Callable[[], int],
    phoned: Callable[[], int],
    given_named: Callable[[], int],
) -> list[tuple[str, str, Callable[[], str]]]:
    """Substring searches of the list (customers/search.py), beside the admin's ?q= (which
    is LIKE '%...%' over the table)."""
    ours = "/customers/"

    def emailed() -> int:
        while True:  # the benchmark's emails: u<id>@domain for ~35% of the customers
            i = int(rng.integers(0, shop.customers))
            if shop.has_email[i] or not shop.has_email.any():
                return i

    return [
        ("search: phone, last 4 digits", "admin: ?q=phone",
         lambda: ours + _q(q=str(shop.phone[phoned()])[-4:])),
        ("search: given name (2 chars)", "admin: ?q=name",
         lambda: ours + _q(q=shop.names[given_named()][1:])),
        ("search: part of a name (3)", "admin: ?q=name",
         lambda: ours + _q(q=shop.names[given_named()])),
        ("search: part of an email", "admin: ?q=name",
         lambda: ours + _q(q=f"u{emailed() + 1}@")),
    ]  # fmt: skip


# --- run ------------------------------------------------------------------------------------


SIGN_IN_USER = r"""
import os
import django
os.environ["DJANGO_SETTINGS_MODULE"] = "patron.settings"
django.setup()
from django.contrib.auth import get_user_model
from patron.accounts.services import user_role_set
user, _ = get_user_model().objects.get_or_create(username="bench")
user.set_password(os.environ["PATRON_PASSWORD"])
user.save()
user_role_set(user=user, role="admin")
"""


def run(cmd: list[str], env: dict[str, str]) -> str:
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    return proc.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=10_000_000)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page")
    parser.add_argument(
        "--peer-requests", type=int, default=50, help="timed requests per Django admin page"
    )
    parser.add_argument("--keep-db", action="store_true", help=f"keep {DB_NAME} afterwards")
    parser.add_argument(
        "--reuse-db",
        action="store_true",
        help=f"measure the {DB_NAME} an earlier --keep-db run built with the same sizes",
    )
    parser.add_argument(
        "--sort-requests", type=int, default=10,
        help="timed requests per 'sort:' page (sorting by a run figure is slow at 1M)",
    )  # fmt: skip
    parser.add_argument(
        "--sqlite-file", type=Path,
        help="with --engine sqlite: keep the store in this file, and reuse it when it exists "
        "(loaded by an earlier run with the same sizes and seed)",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--engine", choices=("postgresql", "sqlite"), default="postgresql",
        help="the store: PostgreSQL (default) or a SQLite file (with --only-search)",
    )  # fmt: skip
    parser.add_argument(
        "--only-search", action="store_true",
        help="load the customers only and time the list's searches (no orders)",
    )  # fmt: skip
    args = parser.parse_args()
    if args.engine == "sqlite" and not args.only_search:
        parser.error("--engine sqlite measures the searches: add --only-search")
    if args.only_search:
        args.orders = 0
    patron = str(Path(sys.executable).parent / "patron")
    store = f"PostgreSQL {DB_NAME}" if args.engine == "postgresql" else "SQLite (a file)"
    say(
        f"web latency: {args.customers:,} customers, {args.orders:,} orders, {store}; "
        f"{os.cpu_count()} CPUs"
        + ("" if args.orders >= 10_000_000 else " (fewer orders than the 10M target)")
    )
    with tempfile.TemporaryDirectory(prefix="patron-bench-") as tmp:
        password = secrets.token_urlsafe(16)
        env = {
            **os.environ,
            "PATRON_VAR_DIR": str(Path(tmp) / "var"),
            "PATRON_SECRET_KEY": secrets.token_urlsafe(50),
            "PATRON_ALLOWED_HOSTS": "127.0.0.1",
            "PATRON_PASSWORD": password,
        }
        env.pop("PATRON_DEBUG", None)
        shop = Shop(args.customers, max(args.orders, 1), args.seed)
        if args.engine == "sqlite":
            path = args.sqlite_file or Path(tmp) / "bench.sqlite3"
            reuse = path.exists()
            env["PATRON_DATABASE_URL"] = f"sqlite:///{path}"
            t0 = time.perf_counter()
            run([patron, "init"], env)
            say(f"migrated with `patron init` in {time.perf_counter() - t0:.0f} s")
            if reuse:
                say(f"reusing {path} as an earlier run loaded it (same sizes and seed)")
                for _ in shop.customer_chunks():  # who has an email, as the load knew it
                    pass
            else:
                load_sqlite(path, shop)
        elif args.reuse_db and _existing(args.customers, args.orders):
            env["PATRON_DATABASE_URL"] = f"{PG_ADMIN}/{DB_NAME}"
            run([patron, "init"], env)  # migrations added since are applied
            say(f"reusing {DB_NAME} as an earlier run loaded it (same sizes and seed)")
        else:
            env["PATRON_DATABASE_URL"] = database()
            t0 = time.perf_counter()
            run([patron, "init"], env)
            say(f"migrated with `patron init` in {time.perf_counter() - t0:.0f} s; loading (COPY)")
            t0 = time.perf_counter()
            loaded = load(env["PATRON_DATABASE_URL"], shop, customers_only=args.only_search)
            say(
                f"loaded {args.customers:,} customers, {args.orders:,} orders, "
                f"{loaded['lines']:,} order lines in {time.perf_counter() - t0:.0f} s"
            )
        run([sys.executable, "-c", SIGN_IN_USER], env)
        port = _free_port()
        server = subprocess.Popen(
            [patron, "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            measure(
                shop, port, password, args.requests, args.peer_requests,
                only_search=args.only_search, sort_requests=args.sort_requests,
            )  # fmt: skip
        finally:
            server.terminate()
            server.wait(timeout=30)
    if not args.keep_db and args.engine == "postgresql":
        import psycopg

        with psycopg.connect(PG_ADMIN + "/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


def measure(
    shop: Shop,
    port: int,
    password: str,
    requests: int,
    peer_requests: int,
    *,
    only_search: bool = False,
    sort_requests: int = 10,
) -> None:
    browser = Browser(port)
    for _ in range(100):
        try:
            browser.request("GET", "/healthz")
            break
        except OSError:
            browser.conn.close()
            time.sleep(0.2)
    browser.sign_in("bench", password)
    say(
        f"client: http.client over loopback to `patron serve` (waitress), signed in as an "
        f"admin-role user; timed requests one at a time: {requests} per page of ours, "
        f"{peer_requests} per admin page; 5 untimed warm-up requests before each page "
        f"(the list's filter choices are cached for 10 min)"
    )
    rng = np.random.default_rng(99)
    plan = pages(shop, rng)
    if only_search:  # the searches, the name and phone look-ups they replace, the admin's
        wanted = ("search:", "sort:", "list: first page", "list: name prefix", "list: full name",
                  "list: phone", "list: id", "admin: ?q=", "admin: change list")  # fmt: skip
        plan = [p for p in plan if p[0].startswith(wanted)]
    results: dict[str, np.ndarray] = {}
    for label, _, make in plan:
        for _ in range(5):
            browser.timed(make())
        count = peer_requests if label.startswith("admin") else requests
        count = min(count, sort_requests) if label.startswith("sort:") else count
        started = time.perf_counter()
        results[label] = np.array([browser.timed(make()) for _ in range(count)])
        print(f"  {label}: {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    say("")
    say(f"{'page':<30}{'p50 ms':>8}{'p95 ms':>8}{'max ms':>8}   {'p95 vs peer':<28}")
    for label, peer, _ in plan:
        times = results[label]
        p50, p95 = np.percentile(times, 50), np.percentile(times, 95)
        versus = ""
        if peer in results:
            ratio = p95 / np.percentile(results[peer], 95)
            versus = f"{ratio:.2f}x of {peer}"
        mark = "" if label.startswith("admin") or p95 < TARGET_P95_MS else "  over target"
        say(f"{label:<30}{p50:>8.1f}{p95:>8.1f}{times.max():>8.1f}   {versus:<28}{mark}")
    ours = [label for label, _, _ in plan if not label.startswith("admin")]
    worst = max(ours, key=lambda label: np.percentile(results[label], 95))
    say(
        f"target: p95 < {TARGET_P95_MS:.0f} ms for the list and the 360 page; worst: {worst} "
        f"at {np.percentile(results[worst], 95):.1f} ms"
    )


if __name__ == "__main__":
    main()
