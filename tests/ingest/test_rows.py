"""The row contract (patron.ingest.rows) against rules written out independently here.

Each rule has an Arrow form and, where a database applies it, a SQL form: both are checked
against plain Python (Decimal, hashlib) on the same values, and the SQL runs on SQLite.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
from decimal import Decimal
from zoneinfo import ZoneInfo

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from patron.ingest import rows

CENTS = st.integers(min_value=-(10**12), max_value=10**12)
STATUSES = st.sampled_from(["completed", "returned", "cancelled", "open", "refunded"])


@settings(max_examples=60, deadline=None)
@given(st.lists(CENTS, min_size=1, max_size=30))
def test_cents_and_money_are_exact_inverses(cents: list[int]) -> None:
    # given amounts as exact decimals
    amounts = pa.array([Decimal(c) / 100 for c in cents], pa.decimal128(14, 2))
    # then cents are the decimal times 100, and money gives the decimals back
    assert rows.cents(amounts).to_pylist() == cents
    assert rows.money(pa.array(cents, pa.int64())).to_pylist() == [Decimal(c) / 100 for c in cents]


def test_money_keeps_nulls() -> None:
    assert rows.money(pa.array([150, None, -5], pa.int64())).to_pylist() == [
        Decimal("1.50"),
        None,
        Decimal("-0.05"),
    ]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(STATUSES, CENTS), min_size=1, max_size=30))
def test_order_status_in_arrow_and_in_sql_is_the_rule(orders: list[tuple[str, int]]) -> None:
    # the rule, in words: a completed order with a negative total is a return
    expected = [
        "returned" if status == "completed" and total < 0 else status for status, total in orders
    ]
    status = pa.array([s for s, _ in orders], pa.string())
    totals = pa.array([t for _, t in orders], pa.int64())
    assert rows.order_status(status, totals).to_pylist() == expected
    with sqlite3.connect(":memory:") as con:
        con.execute("CREATE TABLE g (status TEXT, amount_cents INTEGER, n INTEGER)")
        con.executemany(
            "INSERT INTO g VALUES (?, ?, ?)", [(s, t, i) for i, (s, t) in enumerate(orders)]
        )
        sql = rows.order_status_sql("g.status", "g.amount_cents")
        got = [r[0] for r in con.execute(f"SELECT {sql} FROM g ORDER BY n")]
    assert got == expected


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(STATUSES, CENTS), min_size=1, max_size=30))
def test_a_return_is_negative_whatever_sign_the_file_used(rows_in: list[tuple[str, int]]) -> None:
    expected = [-abs(v) if s == "returned" else v for s, v in rows_in]
    returned = pa.array([s == "returned" for s, _ in rows_in])
    values = pa.array([v for _, v in rows_in], pa.int64())
    assert rows.signed_by_status(values, returned).to_pylist() == expected
    with sqlite3.connect(":memory:") as con:
        con.execute("CREATE TABLE t (status TEXT, v INTEGER, n INTEGER)")
        con.executemany(
            "INSERT INTO t VALUES (?, ?, ?)", [(s, v, i) for i, (s, v) in enumerate(rows_in)]
        )
        sql = rows.signed_sql("v", "status = 'returned'")
        assert [r[0] for r in con.execute(f"SELECT {sql} FROM t ORDER BY n")] == expected


@settings(max_examples=60, deadline=None)
@given(st.lists(CENTS, min_size=1, max_size=30))
def test_stored_money_to_cents_and_back_in_sqlite(cents: list[int]) -> None:
    # SQLite keeps the store's amounts as REAL: the SQL forms round them back exactly
    with sqlite3.connect(":memory:") as con:
        con.execute("CREATE TABLE o (amount_cents INTEGER, n INTEGER)")
        con.executemany("INSERT INTO o VALUES (?, ?)", [(c, i) for i, c in enumerate(cents)])
        money = rows.money_sql("amount_cents", postgres=False)
        back = rows.cents_sql("m", postgres=False)
        got = [
            r[0]
            for r in con.execute(f"SELECT {back} FROM (SELECT {money} AS m, n FROM o) ORDER BY n")
        ]
    assert got == cents


def test_item_lines_without_an_order_id_are_one_order_per_customer_and_time() -> None:
    # given three lines: two of C1 at one time, one of C1 a second later
    t0 = dt.datetime(2024, 5, 1, 2, 0, tzinfo=dt.UTC)
    customer = pa.array(["C1", "C1", "C1"])
    at = pa.array([t0, t0, t0 + dt.timedelta(seconds=1)], pa.timestamp("us", tz="UTC"))
    keys = rows.item_line_order_keys(customer, at).to_pylist()
    # then the first two share an order, stored under g- and the hash of customer and time
    text = f"C1\x1f{pa.array([t0], pa.timestamp('us', tz='UTC')).cast(pa.string())[0].as_py()}"
    assert keys[0] == keys[1] != keys[2]
    assert keys[0] == "g-" + hashlib.blake2b(text.encode(), digest_size=10).hexdigest()
    # and the file-mode grouping groups the same lines
    identity = rows.purchase_identity(customer, at).to_pylist()
    assert identity[0] == identity[1] != identity[2]


def test_the_business_date_is_the_local_day() -> None:
    # 2024-05-01 17:30 UTC is already 2 May in Shanghai, still 1 May in New York
    at = pa.array([dt.datetime(2024, 5, 1, 17, 30, tzinfo=dt.UTC)], pa.timestamp("us", tz="UTC"))
    for zone in ("Asia/Shanghai", "America/New_York"):
        expected = dt.datetime(2024, 5, 1, 17, 30, tzinfo=dt.UTC).astimezone(ZoneInfo(zone)).date()
        assert rows.business_dates(at, zone).to_pylist() == [expected]
