"""Bulk writers: stage validated rows in a temporary table, then merge with set-based SQL.

Staging keeps memory flat (a batch at a time leaves Python) and lets the database do the
work: numbering repeated identical rows, grouping item lines into orders, counting
inserted / updated / unchanged orders, and inserting them, in a few statements.
PostgreSQL receives the stage through COPY; SQLite through ``executemany``.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from django.db import connection
from django.utils import timezone

from patron.customers.models import Customer
from patron.ingest.bare_customers import bare_customers_insert
from patron.ingest.conflicts import stage_conflicts_check
from patron.ingest.indexes import indexes_rebuilt_if_cheaper
from patron.ingest.order_stream import OrderStream
from patron.ingest.rows import cents_sql, money_sql, order_status_sql
from patron.sales.models import Order, OrderLine, Product

STAGE = "patron_stage_tx"
STAGE_ORDERS = "patron_stage_orders"

# (name, SQLite type, PostgreSQL type, default when a file has no such column)
_STAGE_COLUMNS: tuple[tuple[str, str, str, str], ...] = (
    ("line", "INTEGER", "bigint", ""),
    ("order_key", "TEXT", "text", ""),
    ("row_key", "TEXT", "text", ""),
    ("customer_ext", "TEXT", "text", ""),
    ("ordered_at", "TEXT", "timestamptz", ""),
    ("ordered_on", "TEXT", "date", ""),
    ("store", "TEXT", "text", "''"),
    ("channel", "TEXT", "text", "''"),
    ("amount_cents", "INTEGER", "bigint", ""),
    ("cost_cents", "INTEGER", "bigint", ""),
    ("status", "TEXT", "text", "'completed'"),
    ("raw_status", "TEXT", "text", "''"),
    ("original_key", "TEXT", "text", ""),
    ("sku", "TEXT", "text", ""),
    ("product_name", "TEXT", "text", ""),
    ("category", "TEXT", "text", ""),
    ("quantity", "REAL", "numeric(12,3)", ""),
    ("line_amount_cents", "INTEGER", "bigint", ""),
)
STAGE_COLUMN_NAMES = tuple(c[0] for c in _STAGE_COLUMNS)


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


def _table(model: type) -> str:
    return connection.ops.quote_name(model._meta.db_table)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class MergeCounts:
    inserted: int
    updated: int
    unchanged: int
    customers_created: int
    products_created: int
    lines_written: int


class TransactionStage:
    """A temporary table of validated transaction rows, filled batch by batch."""

    def __init__(
        self,
        columns: tuple[str, ...] = STAGE_COLUMN_NAMES,
        *,
        order_total_repeated: bool = False,
        source: str | None = None,
        item_lines: bool = False,
    ) -> None:
        """``columns``: the stage columns the file fills; the others take their default.

        Binding fewer values per row is most of what staging costs on SQLite. With the
        ``source`` (and no item lines), a file of whole orders may be streamed into an empty
        store instead (:mod:`patron.ingest.order_stream`).
        """
        self.rows = 0
        self.postgres = _is_postgres()
        self.columns = tuple(c for c in STAGE_COLUMN_NAMES if c in columns)
        self.has_row_keys = "row_key" in self.columns
        # The order's total stands on each of its item rows (JD, Shopify): take it once.
        self.order_total_repeated = order_total_repeated
        self._known_customers: set[str] = set()
        # Hashes of the order keys, while none is null: a file of one row per order (the
        # usual case) then skips grouping a million rows by key in the merge.
        self._order_key_hashes: list[np.ndarray] | None = (
            [] if "order_key" in self.columns and not self.has_row_keys else None
        )
        whole_orders = (
            not item_lines
            and not order_total_repeated
            and self._order_key_hashes is not None
            and "original_key" not in self.columns
        )
        self._stream_source = source if whole_orders else None
        self._stream: OrderStream | None = None
        self._streamed_customers = 0
        self._orders_staged = False  # the merge compared stored orders (STAGE_ORDERS)

    def create(self) -> None:
        cols = ", ".join(
            f"{name} {pg if self.postgres else lite}" + (f" DEFAULT {default}" if default else "")
            for name, lite, pg, default in _STAGE_COLUMNS
        )
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
            cursor.execute(f"DROP TABLE IF EXISTS {STAGE_ORDERS}")
            cursor.execute(f"CREATE TEMPORARY TABLE {STAGE} ({cols})")
        if self._stream_source is not None and OrderStream.possible():
            self._stream = OrderStream(self._stream_source, timezone.now())
            self._stream.start()

    def _unstream(self) -> None:
        """Back to staging: the streamed orders move into the stage."""
        assert self._stream is not None
        self._stream.unstream(STAGE)
        self._streamed_customers = self._stream.customers_created
        self._stream = None

    def abort(self) -> None:
        """The import failed: stop a stream's writes before the transaction rolls back."""
        if self._stream is not None:
            self._stream.abort()
            self._stream = None

    def drop(self) -> None:
        self.abort()
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
            cursor.execute(f"DROP TABLE IF EXISTS {STAGE_ORDERS}")

    def append(self, table: pa.Table) -> None:
        """Append rows; ``table`` has at least this stage's ``columns``."""
        if table.num_rows == 0:
            return
        table = table.select(list(self.columns))
        self._note_order_keys(table["order_key"] if self._order_key_hashes is not None else None)
        if self._stream is not None:
            if table["order_key"].null_count == 0:
                self._stream.write(table)
                self.rows += table.num_rows
                return
            self._unstream()  # a row without an order id: the merge must number it
        self._note_customers(table["customer_ext"])
        with connection.cursor() as cursor:
            if self.postgres:
                buffer = io.BytesIO()
                pacsv.write_csv(
                    table,
                    buffer,
                    write_options=pacsv.WriteOptions(include_header=False, quoting_style="needed"),
                )
                raw = cursor.cursor  # psycopg cursor under Django's wrapper
                names = ", ".join(self.columns)
                with raw.copy(f"COPY {STAGE} ({names}) FROM STDIN WITH (FORMAT csv)") as copy:
                    copy.write(buffer.getvalue())
            else:
                marks = ", ".join("?" for _ in self.columns)
                columns = [col.to_pylist() for col in table.columns]
                cursor.executemany(
                    f"INSERT INTO {STAGE} ({', '.join(self.columns)}) VALUES ({marks})",
                    zip(*columns, strict=True),
                )
        self.rows += table.num_rows

    def _note_customers(self, ids: pa.ChunkedArray) -> None:
        """Remember the batch's customer ids; bare records are created once, in ``merge``."""
        self._known_customers.update(pc.unique(ids).to_pylist())

    def _note_order_keys(self, keys: pa.ChunkedArray | None) -> None:
        if keys is None or self._order_key_hashes is None:
            return
        if keys.null_count:
            self._order_key_hashes = None
            return
        hashes = np.fromiter(map(hash, keys.to_pylist()), dtype=np.int64, count=len(keys))
        self._order_key_hashes.append(hashes)

    @functools.cached_property
    def one_row_per_order(self) -> bool:
        """Every staged row has its own order key (asked once all rows are staged).

        Equal hashes of different keys only cost the grouping, never a wrong merge."""
        if not self._order_key_hashes:
            return False
        hashes = np.concatenate(self._order_key_hashes)
        self._order_key_hashes = None
        hashes.sort()  # a sort is several times faster than numpy's hashed unique here
        return not (hashes[1:] == hashes[:-1]).any()

    def merge(self, *, source: str, item_lines: bool) -> MergeCounts:
        """Turn staged rows into customers, products, orders and lines; count what changed."""
        if self._stream is not None:
            if self.one_row_per_order:
                self._stream.finish()
                return MergeCounts(
                    inserted=self._stream.inserted,
                    updated=0,
                    unchanged=0,
                    customers_created=self._stream.customers_created,
                    products_created=0,
                    lines_written=0,
                )
            self._unstream()  # two rows share an order id: the merge groups them
        now = timezone.now()
        with connection.cursor() as cursor:
            if not self.one_row_per_order:  # rows share order ids: all with one customer?
                stage_conflicts_check(cursor, STAGE)
            if self.postgres:
                # Sorting and hashing a million staged rows, and building indexes, in memory
                # on the server rather than in temporary files; for this transaction only.
                cursor.execute("SET LOCAL work_mem = '256MB'")
                cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
                # Temporary tables are never analysed automatically: without row counts the
                # planner picks a million index probes over one hash join.
                cursor.execute(f"ANALYZE {STAGE}")
            with indexes_rebuilt_if_cheaper(Customer, adding=len(self._known_customers)):
                customers_created = bare_customers_insert(sorted(self._known_customers))
            products_created = self._insert_products(cursor, now) if item_lines else 0
            first_import = not Order.objects.filter(source=source).exists()
            select, params = self._stage_orders_select(source, first_import=first_import)
            lines = 0
            if first_import and not item_lines and "original_key" not in self.columns:
                # Nothing to compare, link or itemise: orders go straight in, one pass.
                counts = {"new": self._insert_orders_directly(cursor, source, now, select, params)}
            else:
                cursor.execute(f"CREATE TEMPORARY TABLE {STAGE_ORDERS} AS {select}", params)
                self._orders_staged = not first_import
                if not self.postgres:
                    cursor.execute(f"CREATE INDEX {STAGE_ORDERS}_ext ON {STAGE_ORDERS} (ext)")
                cursor.execute(f"SELECT state, COUNT(*) FROM {STAGE_ORDERS} GROUP BY state")
                counts = dict(cursor.fetchall())
                self._write_orders(cursor, source, now, new=counts.get("new", 0))
                lines = self._write_lines(cursor, source) if item_lines else 0
                if "original_key" in self.columns:
                    self._link_returns(cursor, source)
        return MergeCounts(
            inserted=counts.get("new", 0),
            updated=counts.get("changed", 0),
            unchanged=counts.get("same", 0),
            customers_created=customers_created + self._streamed_customers,
            products_created=products_created,
            lines_written=lines,
        )

    def changed_customers(self) -> str | None:
        """After ``merge``, until ``drop``: an SQL query (no parameters) of the customer ids of
        the stored orders it updated, each order's customer now and before (an order may move
        to another customer); None when it updated none."""
        if not self._orders_staged:
            return None
        changed = f"FROM {STAGE_ORDERS} WHERE state = 'changed'"
        return f"SELECT customer_pk {changed} UNION SELECT was_customer_pk {changed}"

    # -- steps -------------------------------------------------------------------------

    def _insert_products(self, cursor, now: datetime) -> int:  # type: ignore[no-untyped-def]
        product = _table(Product)
        before = self._count(cursor, product)
        cursor.execute(
            f"""INSERT INTO {product} (sku, name, category, created_at, updated_at)
                SELECT sku, COALESCE(MIN(product_name), ''), COALESCE(MIN(category), ''), %s, %s
                FROM {STAGE}
                WHERE sku IS NOT NULL AND sku NOT IN (SELECT sku FROM {product})
                GROUP BY sku""",
            [now, now],
        )
        return self._count(cursor, product) - before

    def _insert_orders_directly(  # type: ignore[no-untyped-def]
        self, cursor, source: str, now: datetime, select: str, params: list[object]
    ) -> int:
        order = _table(Order)
        cursor.execute(f"SELECT COUNT(*) FROM {STAGE}")
        with indexes_rebuilt_if_cheaper(Order, adding=int(cursor.fetchone()[0]), unique=True):
            cursor.execute(
                f"""INSERT INTO {order} (source, external_id, customer_id, ordered_at, ordered_on,
                        store, channel, amount, cost, status, raw_status, created_at)
                    SELECT %s, ext, customer_pk, ordered_at, ordered_on, store, channel,
                        {self._money("amount_cents")}, {self._money("cost_cents")}, status,
                        raw_status, %s
                    FROM ({select}) so""",
                [source, now, *params],
            )
            return int(cursor.rowcount)

    def _stage_orders_select(self, source: str, *, first_import: bool) -> tuple[str, list[object]]:
        """One row per order with its state (new, changed, same) against the stored orders."""
        pg = self.postgres
        same = "IS NOT DISTINCT FROM" if pg else "IS"
        amount_eq = f"{cents_sql('o.amount', postgres=pg)} = g.amount_cents"
        cost_eq = f"{cents_sql('o.cost', postgres=pg)} {same} g.cost_cents"
        customer, order = _table(Customer), _table(Order)
        ext = (
            "COALESCE(order_key, row_key || '-' || CAST(ROW_NUMBER() OVER ("
            "PARTITION BY row_key ORDER BY line) AS TEXT))"
            if self.has_row_keys
            else "order_key"
        )
        status = order_status_sql("g.status", "g.amount_cents")
        attributes = (
            "customer_ext, ordered_at, ordered_on, store, channel, status, raw_status, original_key"
        )
        if self.one_row_per_order:  # each row is its order: nothing to group
            grouped = (
                f"SELECT ext, line AS first_line, {attributes}, amount_cents, cost_cents FROM keyed"
            )
        elif pg:
            # The order's attributes come from its first line (DISTINCT ON), its money from all.
            money = (
                "amount_cents, cost_cents"
                if self.order_total_repeated
                else "SUM(amount_cents) OVER (PARTITION BY ext) AS amount_cents, "
                "SUM(cost_cents) OVER (PARTITION BY ext) AS cost_cents"
            )
            grouped = f"""
                SELECT DISTINCT ON (ext) ext, line AS first_line, {attributes}, {money}
                FROM keyed ORDER BY ext, line"""
        else:
            # SQLite takes bare columns from the row that gives MIN(line): the first line.
            money = (
                "amount_cents, cost_cents"
                if self.order_total_repeated
                else "SUM(amount_cents) AS amount_cents, SUM(cost_cents) AS cost_cents"
            )
            grouped = f"""
                SELECT ext, MIN(line) AS first_line, {attributes}, {money}
                FROM keyed GROUP BY ext"""
        if first_import:  # nothing to compare with: every order is new
            existing, state, params = "", "'new'", []
            order_pk = was_customer = "CAST(NULL AS BIGINT)"
        else:
            existing = f"LEFT JOIN {order} o ON o.source = %s AND o.external_id = g.ext"
            order_pk, was_customer, params = "o.id", "o.customer_id", [source]
            state = f"""CASE WHEN o.id IS NULL THEN 'new'
                        WHEN o.customer_id = c.id AND o.ordered_at = g.ordered_at
                         AND o.ordered_on = g.ordered_on AND o.store = g.store
                         AND o.channel = g.channel AND {amount_eq} AND {cost_eq}
                         AND o.raw_status = g.raw_status
                         AND o.status = ({status})
                        THEN 'same' ELSE 'changed' END"""
        select = f"""
            WITH keyed AS (SELECT s.*, {ext} AS ext FROM {STAGE} s),
            grouped AS ({grouped})
            SELECT g.ext, g.first_line, g.amount_cents, g.cost_cents, g.customer_ext,
                   c.id AS customer_pk, g.ordered_at, g.ordered_on, g.store, g.channel,
                   {status} AS status, g.raw_status, g.original_key, {order_pk} AS order_pk,
                   {was_customer} AS was_customer_pk, {state} AS state
            FROM grouped g
            JOIN {customer} c ON c.external_id = g.customer_ext
            {existing}"""
        return select, params

    def _money(self, column: str) -> str:
        return money_sql(column, postgres=self.postgres)

    def _write_orders(self, cursor, source: str, now: datetime, new: int) -> None:  # type: ignore[no-untyped-def]
        order = _table(Order)
        with indexes_rebuilt_if_cheaper(Order, adding=new, unique=True):
            cursor.execute(
                f"""INSERT INTO {order} (source, external_id, customer_id, ordered_at, ordered_on,
                        store, channel, amount, cost, status, raw_status, created_at)
                    SELECT %s, ext, customer_pk, ordered_at, ordered_on, store, channel,
                        {self._money("amount_cents")}, {self._money("cost_cents")}, status,
                        raw_status, %s
                    FROM {STAGE_ORDERS} WHERE state = 'new'""",
                [source, now],
            )
        cursor.execute(
            f"""UPDATE {order} SET customer_id = s.customer_pk, ordered_at = s.ordered_at,
                    ordered_on = s.ordered_on, store = s.store, channel = s.channel,
                    amount = {self._money("s.amount_cents")}, cost = {self._money("s.cost_cents")},
                    status = s.status, raw_status = s.raw_status
                FROM {STAGE_ORDERS} s
                WHERE {order}.id = s.order_pk AND s.state = 'changed'"""
        )

    def _write_lines(self, cursor, source: str) -> int:  # type: ignore[no-untyped-def]
        order, line, product = _table(Order), _table(OrderLine), _table(Product)
        cursor.execute(
            f"""DELETE FROM {line} WHERE order_id IN (
                    SELECT order_pk FROM {STAGE_ORDERS} WHERE state = 'changed')"""
        )
        cursor.execute(
            f"""INSERT INTO {line} (order_id, line_no, product_id, quantity, amount)
                SELECT o.id, ROW_NUMBER() OVER (PARTITION BY k.order_key ORDER BY k.line),
                    p.id, COALESCE(k.quantity, 1),
                    {self._money("COALESCE(k.line_amount_cents, k.amount_cents)")}
                FROM {STAGE} k
                JOIN {STAGE_ORDERS} s ON s.ext = k.order_key AND s.state IN ('new', 'changed')
                JOIN {order} o ON o.source = %s AND o.external_id = k.order_key
                LEFT JOIN {product} p ON p.sku = k.sku""",
            [source],
        )
        return int(cursor.rowcount)

    def _link_returns(self, cursor, source: str) -> None:  # type: ignore[no-untyped-def]
        order = _table(Order)
        cursor.execute(
            f"""UPDATE {order} SET original_order_id = (
                    SELECT o2.id FROM {order} o2
                    WHERE o2.source = %s AND o2.external_id = s.original_key)
                FROM {STAGE_ORDERS} s
                WHERE {order}.source = %s AND {order}.external_id = s.ext
                  AND s.original_key IS NOT NULL AND s.state IN ('new', 'changed')""",
            [source, source],
        )

    @staticmethod
    def _count(cursor, table: str) -> int:  # type: ignore[no-untyped-def]
        cursor.execute(f"SELECT COUNT(*) FROM {table}")
        return int(cursor.fetchone()[0])


def utc_text(timestamps: pa.Array) -> pa.Array:
    """UTC timestamps -> 'YYYY-MM-DD HH:MM:SS' text, the form Django stores on SQLite.

    Order times are kept to the second.
    """
    naive = pc.cast(pc.cast(timestamps, pa.timestamp("s", tz="UTC"), safe=False), pa.timestamp("s"))
    text = pc.cast(naive, pa.string())  # 'YYYY-MM-DD HH:MM:SS', much faster than strftime
    if _is_postgres():
        return pc.binary_join_element_wise(text, "+00:00", "")
    return text
