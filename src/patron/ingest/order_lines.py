"""Files of order lines whose orders come in another file of the same platform.

Taobao exports its orders (buyer, time, amount, status) and their lines (宝贝: title,
price, quantity, merchant code) as two files joined on the order number. Imported in either
order they give the same result: the lines of an order already in the store replace its
lines; the others wait in :class:`~patron.ingest.models.PendingOrderLine` and join their
order when it is imported. The order's total comes from the order file only: lines never
change an order's amount.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.db import connection
from django.utils import timezone

from patron.ingest.models import PendingOrderLine
from patron.ingest.rows import cents
from patron.sales.models import Order, OrderLine, Product

STAGE_LINES = "patron_stage_lines"
_COLUMNS = ("line", "order_key", "sku", "product_name", "category", "quantity", "amount_cents")


def _table(model: type) -> str:
    return connection.ops.quote_name(model._meta.db_table)  # type: ignore[attr-defined]


def order_lines_prepare(columns: dict[str, pa.Array], lines: np.ndarray) -> pa.Table:
    """Validated columns of an order-lines file -> staged lines: the product (its code, else
    its name), the quantity (1 when blank) and the amount (unit price x quantity, else the
    line's own amount, else 0)."""
    n = len(lines)
    nulls = pa.nulls(n, pa.string())
    sku = columns.get("sku")
    name = columns.get("product_name", nulls)
    sku = pc.coalesce(sku, name) if sku is not None else name
    quantity = columns.get("quantity")
    quantity = (
        pc.fill_null(pc.cast(quantity, pa.float64()), 1.0)
        if quantity is not None
        else pa.array(np.ones(n))
    )
    price = columns.get("unit_price")
    amount: pa.Array = pa.nulls(n, pa.int64())
    if price is not None:
        amount = pc.cast(
            pc.round(pc.multiply(pc.cast(cents(price), pa.float64()), quantity)), pa.int64()
        )
    if "amount" in columns:
        amount = pc.coalesce(amount, cents(columns["amount"]))
    return pa.table(
        {
            "line": pa.array(lines, pa.int64()),
            "order_key": columns["order_id"],
            "sku": sku,
            "product_name": name,
            "category": columns.get("category", nulls),
            "quantity": quantity,
            "amount_cents": pc.fill_null(amount, 0),
        }
    )


class OrderLinesSink:
    """Stages the lines of a file, then attaches them to their orders or keeps them waiting."""

    reading = "lines of orders in another file"

    def __init__(self, *, source: str) -> None:
        self.source = source
        self.postgres = connection.vendor == "postgresql"
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {STAGE_LINES}")
            types = (
                ("INTEGER", "TEXT", "TEXT", "TEXT", "TEXT", "REAL", "INTEGER")
                if not self.postgres
                else ("bigint", "text", "text", "text", "text", "numeric(12,3)", "bigint")
            )
            cols = ", ".join(f"{c} {t}" for c, t in zip(_COLUMNS, types, strict=True))
            cursor.execute(f"CREATE TEMPORARY TABLE {STAGE_LINES} ({cols})")

    def write(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        rows = zip(*(table[c].to_pylist() for c in _COLUMNS), strict=True)
        marks = ", ".join(["%s"] * len(_COLUMNS))
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {STAGE_LINES} ({', '.join(_COLUMNS)}) VALUES ({marks})", list(rows)
            )

    def finish(self, report: Any) -> None:
        now = timezone.now()
        money = (
            "CAST(s.amount_cents AS numeric) / 100" if self.postgres else "s.amount_cents / 100.0"
        )
        order, line, product = _table(Order), _table(OrderLine), _table(Product)
        pending = _table(PendingOrderLine)
        numbered = f"""SELECT s.*, ROW_NUMBER() OVER (PARTITION BY s.order_key ORDER BY s.line)
                           AS line_no FROM {STAGE_LINES} s"""
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {product}")
            before = int(cursor.fetchone()[0])
            cursor.execute(
                f"""INSERT INTO {product} (sku, name, category, created_at, updated_at)
                    SELECT sku, COALESCE(MIN(product_name), ''), COALESCE(MIN(category), ''),
                        %s, %s
                    FROM {STAGE_LINES}
                    WHERE sku IS NOT NULL AND sku NOT IN (SELECT sku FROM {product})
                    GROUP BY sku""",
                [now, now],
            )
            cursor.execute(f"SELECT COUNT(*) FROM {product}")
            report.products_created = int(cursor.fetchone()[0]) - before
            # Lines of orders in the store replace those orders' lines.
            matched = f"""SELECT o.id FROM {order} o
                          WHERE o.source = %s AND o.external_id IN
                              (SELECT order_key FROM {STAGE_LINES})"""
            cursor.execute(f"SELECT COUNT(*) FROM ({matched}) m", [self.source])
            report.updated = int(cursor.fetchone()[0])
            cursor.execute(f"DELETE FROM {line} WHERE order_id IN ({matched})", [self.source])
            cursor.execute(
                f"""INSERT INTO {line} (order_id, line_no, product_id, quantity, amount)
                    SELECT o.id, s.line_no, p.id, s.quantity, {money}
                    FROM ({numbered}) s
                    JOIN {order} o ON o.source = %s AND o.external_id = s.order_key
                    LEFT JOIN {product} p ON p.sku = s.sku""",
                [self.source],
            )
            report.lines = int(cursor.rowcount)
            # The others wait for their order (a newer file of lines replaces the older).
            cursor.execute(
                f"""DELETE FROM {pending} WHERE source = %s
                    AND order_external_id IN (SELECT order_key FROM {STAGE_LINES})""",
                [self.source],
            )
            cursor.execute(
                f"""INSERT INTO {pending} (source, order_external_id, line_no, product_id,
                        quantity, amount, imported_at)
                    SELECT %s, s.order_key, s.line_no, p.id, s.quantity, {money}, %s
                    FROM ({numbered}) s
                    LEFT JOIN {product} p ON p.sku = s.sku
                    WHERE NOT EXISTS (SELECT 1 FROM {order} o
                        WHERE o.source = %s AND o.external_id = s.order_key)""",
                [self.source, now, self.source],
            )
            report.lines_pending = int(cursor.rowcount)

    def close(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {STAGE_LINES}")


def pending_lines_attach(*, source: str) -> int:
    """Give the orders of ``source`` now in the store the lines that waited for them (they
    replace any lines the order had); returns how many lines joined their order."""
    if not PendingOrderLine.objects.filter(source=source).exists():
        return 0
    order, line, pending = _table(Order), _table(OrderLine), _table(PendingOrderLine)
    waiting = f"""SELECT o.id FROM {order} o WHERE o.source = %s AND o.external_id IN
                      (SELECT order_external_id FROM {pending} WHERE source = %s)"""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {line} WHERE order_id IN ({waiting})", [source, source])
        cursor.execute(
            f"""INSERT INTO {line} (order_id, line_no, product_id, quantity, amount)
                SELECT o.id, p.line_no, p.product_id, p.quantity, p.amount
                FROM {pending} p
                JOIN {order} o ON o.source = p.source AND o.external_id = p.order_external_id
                WHERE p.source = %s""",
            [source],
        )
        attached = int(cursor.rowcount)
        cursor.execute(
            f"""DELETE FROM {pending} WHERE source = %s AND order_external_id IN
                    (SELECT external_id FROM {order} WHERE source = %s)""",
            [source, source],
        )
    return attached
