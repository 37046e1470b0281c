"""One orders-API update on a large store: how long the purchase summary's refresh makes it.

    PATRON_DATABASE_URL=postgresql://.../patron_bench_x .venv/bin/python \
        benchmarks/purchase_summary_update.py [--orders 1000000] [--customers 200000]

Loads the orders once (a CSV through the importer, source "pos"; skipped when the store has
them already), then times ``POST /api/v1/orders/batch``'s service with one order that moves to
another customer, inside a transaction rolled back afterwards (the store is
the same for every run), and counts the summary rows the update changed (its two customers).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import django
import numpy as np

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "patron.settings")
django.setup()

from django.db import connection, transaction  # noqa: E402

from patron.core.setup import database_init  # noqa: E402
from patron.ingest.importer import ImportOptions, import_file  # noqa: E402
from patron.ingest.mapping import EntityKind  # noqa: E402
from patron.sales.models import Order, PurchaseSummary  # noqa: E402
from patron.sales.services import order_batch_import  # noqa: E402


def load(orders: int, customers: int) -> None:
    rng = np.random.default_rng(7)
    owner = rng.integers(0, customers, size=orders)
    days = rng.integers(0, 3 * 365, size=orders)
    cents = rng.integers(100, 50_000, size=orders)
    base = np.datetime64("2022-01-01")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "orders.csv"
        with path.open("w", encoding="utf-8") as out:
            out.write("order_id,customer_id,ordered_at,amount\n")
            for i in range(orders):
                out.write(f"o{i},c{owner[i]},{base + days[i]},{cents[i] / 100:.2f}\n")
        report = import_file(
            path, kind=EntityKind.TRANSACTIONS, options=ImportOptions(source="pos")
        )
    assert report.committed, report.errors
    if connection.vendor == "postgresql":  # as autovacuum would soon: a store's usual statistics
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=200_000)
    args = parser.parse_args()
    database_init()
    if Order.objects.filter(source="pos").count() < args.orders:
        started = time.perf_counter()
        load(args.orders, args.customers)
        print(f"loaded {args.orders:,} orders in {time.perf_counter() - started:.1f} s")
    order = Order.objects.filter(source="pos", external_id="o1").select_related("customer").get()
    target = f"c{(int(order.customer.external_id[1:]) + 1) % args.customers}"
    update = {
        "order_id": "o1",
        "customer_id": target,
        "ordered_at": order.ordered_at.isoformat(),
        "amount": str(order.amount),
    }
    with transaction.atomic():
        before = {s.pk: (s.orders, s.spend) for s in PurchaseSummary.objects.all().iterator()}
        started = time.perf_counter()
        totals = order_batch_import(orders=[update], source="pos")
        seconds = time.perf_counter() - started
        after = {s.pk: (s.orders, s.spend) for s in PurchaseSummary.objects.all().iterator()}
        transaction.set_rollback(True)
    assert totals["updated"] == 1, totals
    changed = sum(1 for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    print(
        f"one-order API update on {Order.objects.count():,} orders: {seconds * 1000:.0f} ms; "
        f"summary rows changed: {changed}"
    )


if __name__ == "__main__":
    main()
