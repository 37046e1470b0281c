"""Where a stored run is computed: the store's orders copied once into DuckDB, by default.

The analysis is Ibis expressions and runs on the app database as it is (``database``), but
SQLite runs every aggregation on one core with a Python function per row for date
differences, and the monthly KPIs and cohorts group ten million orders several times: 737 s
for 10M orders (docs/analytics/runs.md). Copying the five columns the analysis reads
(customer, business date, amount and cost in cents, return flag) through Arrow with ADBC
takes seconds, and DuckDB then runs the same expressions columnar on every core.

``PATRON_ANALYSIS_ENGINE=database`` keeps the work in the app database, for a PostgreSQL
server much larger than the machine running Patron, or memory too small for the copy
(about 30 bytes an order, plus the customer ids).

``PATRON_ANALYSIS_ENGINE=spark`` streams the same orders (with the customers' external ids)
to a temporary Parquet data set and runs the analysis on Spark
(:mod:`patron.insights.spark_store`), for stores whose orders outgrow one machine's memory.

The copy reads orders and customers in one read transaction (one snapshot), so a customer
merged or created meanwhile cannot split the two. It holds the rule of which orders count in
one place: :func:`patron.insights.selectors.live_orders`, compiled for the app database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from django.conf import settings
from django.db import connection

if TYPE_CHECKING:
    import subprocess

    import ibis.expr.types as ir
    import pyarrow as pa

ENGINES = ("duckdb", "database", "spark")
PG_SNAPSHOT = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"


def _schemas() -> tuple[pa.Schema, pa.Schema]:
    import pyarrow as pa

    orders = pa.schema(
        [
            ("customer_pk", pa.int64()),
            ("order_date", pa.date32()),
            ("amount_cents", pa.int64()),
            ("cost_cents", pa.int64()),
            ("is_return", pa.bool_()),
        ]
    )
    customers = pa.schema([("id", pa.int64()), ("external_id", pa.string())])
    return orders, customers


def analysis_engine() -> str:
    """``duckdb`` (the default), ``database`` or ``spark``, from ``PATRON_ANALYSIS_ENGINE``.

    With ``spark`` a stored run copies the orders to Parquet and runs on Spark
    (:mod:`patron.insights.spark_store`).
    """
    engine = getattr(settings, "PATRON_ANALYSIS_ENGINE", "duckdb")
    if engine not in ENGINES:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            f"PATRON_ANALYSIS_ENGINE must be one of {', '.join(ENGINES)}, got {engine!r}"
        )
    return str(engine)


def analysis_transactions(*, as_of: dt.date | None = None) -> ir.Table:
    """The store's transactions in the analytics input contract, on the configured engine.

    With ``as_of`` the copy leaves out later orders (the analysis would ignore them). Under
    ``spark`` this is DuckDB's copy (a stored run on Spark reads the orders as Parquet).
    """
    from patron.insights.selectors import store_transactions

    if analysis_engine() == "database" or connection.vendor not in ("sqlite", "postgresql"):
        return store_transactions()
    return store_transactions_in_duckdb(as_of=as_of)


def release(transactions: ir.Table) -> None:
    """Close the engine connection behind ``transactions`` (for DuckDB: its memory and the
    copy it holds); the table is unusable afterwards."""
    transactions.get_backend().disconnect()


def store_transactions_in_duckdb(*, as_of: dt.date | None = None) -> ir.Table:
    """The store's live orders, copied into an in-memory DuckDB; one row per order.

    No ``order_id`` column: each stored order is one row, so the analysis counts rows rather
    than distinct ids, with the same result.
    """
    from patron.insights.sources import duckdb_backend, in_contract

    orders, customers = _copy(as_of)
    con = duckdb_backend()
    con.con.register("patron_orders", orders)
    con.con.register("patron_customers", customers)
    con.raw_sql(
        "CREATE TEMP VIEW patron_transactions AS SELECT c.external_id AS customer_id, "
        "o.order_date, o.amount_cents, o.cost_cents, o.is_return "
        "FROM patron_orders o JOIN patron_customers c ON c.id = o.customer_pk"
    )
    return in_contract(con.table("patron_transactions"), has_order_id=False)


def live_order_rows(backend: Any, as_of: dt.date | None) -> ir.Table:
    """The orders that count (:func:`~patron.insights.selectors.live_orders`, up to ``as_of``)
    as the five columns of the copy (``customer_pk``, ``order_date``, ``amount_cents``,
    ``cost_cents``, ``is_return``), an expression on the app database's ``backend``."""
    from patron.ingest.rows import cents_expr
    from patron.insights.selectors import live_orders, ordered_between

    live = live_orders(backend)
    if as_of is not None:
        live = live.filter(ordered_between(live, None, as_of))
    sqlite = connection.vendor == "sqlite"  # no decimal type: amounts are REAL
    return live.select(
        customer_pk=live.customer_id,
        order_date=live.ordered_on,
        amount_cents=cents_expr(live.amount, exact=not sqlite),
        cost_cents=cents_expr(live.cost, exact=not sqlite),
        is_return=live.status == "returned",
    )


def _copy(as_of: dt.date | None) -> list[pa.Table]:
    from patron.customers.models import Customer
    from patron.insights.selectors import store_backend

    backend = store_backend()
    try:
        orders_sql = backend.compile(live_order_rows(backend, as_of))
        customer = backend.table(Customer._meta.db_table)
        customers_sql = backend.compile(customer.select("id", "external_id"))
    finally:
        backend.disconnect()
    orders_schema, customers_schema = _schemas()
    queries = [(orders_sql, orders_schema), (customers_sql, customers_schema)]
    if connection.vendor == "sqlite":
        return _copy_sqlite_in_child(str(connection.settings_dict["NAME"]), queries)
    from patron.insights.arrow_copy import copy_tables

    return copy_tables(postgres_connect(), queries, begin=PG_SNAPSHOT)


def postgres_connect() -> Any:
    """An ADBC connection to the app database (PostgreSQL), outside Django's."""
    import adbc_driver_postgresql.dbapi as adbc_postgresql

    return adbc_postgresql.connect(postgres_uri(connection.settings_dict), autocommit=True)


def _copy_sqlite_in_child(path: str, queries: list[tuple[str, pa.Schema]]) -> list[pa.Table]:
    """The copy from SQLite, run in a child process.

    ADBC links a SQLite library of its own. Two SQLite libraries on one file in one process
    break each other's POSIX locks (closing a file drops all of the process's locks on it,
    https://www.sqlite.org/howtocorrupt.html, 2.2.1): Django's connection then fails with
    "disk I/O error", or worse. A child process has locks of its own.
    """
    import pyarrow as pa

    child = _copy_child(path, queries)
    assert child.stdout is not None and child.stderr is not None
    tables = []
    try:
        for _sql, schema in queries:
            tables.append(pa.ipc.open_stream(child.stdout).read_all().cast(schema))
    except (pa.ArrowInvalid, OSError):
        pass  # the child failed: its error is on stderr
    error = child.stderr.read()
    child.wait()
    if child.returncode != 0 or len(tables) != len(queries):
        raise RuntimeError(f"copying the orders from SQLite failed: {error.decode()[-2000:]}")
    return tables


def _copy_child(path: str, queries: list[tuple[str, pa.Schema]]) -> subprocess.Popen[bytes]:
    """A child process of :mod:`patron.insights.arrow_copy` given ``queries`` on the SQLite
    file ``path``: it writes each result as an Arrow stream to its stdout."""
    import subprocess
    import sys

    from patron.insights.arrow_copy import request_json

    child = subprocess.Popen(
        [sys.executable, "-m", "patron.insights.arrow_copy"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdin is not None
    child.stdin.write(request_json(path, queries))
    child.stdin.close()
    return child


def query_batches(sql: str, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    """The rows of one query of the app database as Arrow record batches in ``schema``, read
    as they come (one batch held at a time), through ADBC: in a child process for SQLite
    (see :func:`_copy_sqlite_in_child`), in a read-only snapshot for PostgreSQL."""
    from patron.insights.arrow_copy import cast_batch

    if connection.vendor != "sqlite":
        conn = postgres_connect()
        try:
            cursor = conn.cursor()
            cursor.execute(PG_SNAPSHOT)
            try:
                cursor.execute(sql)
                for batch in cursor.fetch_record_batch():
                    yield cast_batch(batch, schema)
            finally:
                cursor.execute("ROLLBACK")
                cursor.close()
        finally:
            conn.close()
        return
    yield from _sqlite_batches_in_child(str(connection.settings_dict["NAME"]), sql, schema)


def _sqlite_batches_in_child(path: str, sql: str, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    import pyarrow as pa

    child = _copy_child(path, [(sql, schema)])
    assert child.stdout is not None and child.stderr is not None
    try:
        complete = False
        try:
            yield from pa.ipc.open_stream(child.stdout)  # cast to ``schema`` by the child
            complete = True
        except (pa.ArrowInvalid, OSError):
            pass  # the child failed: its error is on stderr
        error = child.stderr.read()
        child.wait()
        if child.returncode != 0 or not complete:
            raise RuntimeError(f"reading the orders from SQLite failed: {error.decode()[-2000:]}")
    finally:
        if child.poll() is None:  # the reader stopped early
            child.kill()
            child.wait()


def postgres_uri(config: dict[str, Any]) -> str:
    """A libpq URI for Django's PostgreSQL settings (socket directories as ``host=``)."""
    user = quote(str(config.get("USER") or ""), safe="")
    password = quote(str(config.get("PASSWORD") or ""), safe="")
    host = str(config.get("HOST") or "")
    port = str(config.get("PORT") or "")
    name = quote(str(config["NAME"]), safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    if host.startswith("/"):
        query = f"?host={quote(host, safe='')}" + (f"&port={port}" if port else "")
        return f"postgresql://{auth}/{name}{query}"
    netloc = f"[{host}]" if ":" in host else host
    return f"postgresql://{auth}{netloc}{':' + port if port else ''}/{name}"
