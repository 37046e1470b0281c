"""Writes over orders. The API's orders take the importer's path: same checks, same writer."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from patron.ingest.importer import ImportOptions, import_records
from patron.ingest.mapping import EntityKind

ORDER_FIELDS = (
    "order_id",
    "customer_id",
    "ordered_at",
    "amount",
    "cost",
    "store",
    "channel",
    "status",
    "original_order_id",
)


@transaction.atomic
def order_batch_import(*, orders: list[dict[str, Any]], source: str) -> dict[str, Any]:
    """Create or update orders, all or nothing, idempotent by (source, order id).

    Orders with lines are written as item lines (their amount is the sum of the lines);
    errors name the order's position in the batch (``line``) and the field.
    """
    plain, itemised = [], []
    for position, order in enumerate(orders, start=1):
        (itemised if order.get("lines") else plain).append((position, order))
    totals = {
        "read": len(orders),
        "inserted": 0,
        "updated": 0,
        "unchanged": 0,
        "rejected": 0,
        "errors": [],
    }
    options = ImportOptions(source=source)
    for group, item_lines in ((plain, False), (itemised, True)):
        if not group:
            continue
        records, positions = [], []
        for position, order in group:
            base = {f: order.get(f) for f in ORDER_FIELDS}
            if item_lines:
                for line in order["lines"]:
                    records.append(
                        {
                            **base,
                            **{
                                k: line.get(k)
                                for k in ("sku", "product_name", "category", "quantity", "amount")
                            },
                        }
                    )
                    positions.append(position)
            else:
                records.append(base)
                positions.append(position)
        report = import_records(records, kind=EntityKind.TRANSACTIONS, options=options)
        for key in ("inserted", "updated", "unchanged"):
            totals[key] += getattr(report, key)
        totals["rejected"] += len({positions[e.line - 1] for e in report.errors})
        totals["errors"] += [{**e.as_dict(), "line": positions[e.line - 1]} for e in report.errors]
    if totals["rejected"]:
        transaction.set_rollback(True)
        totals["inserted"] = totals["updated"] = totals["unchanged"] = 0
    totals["errors"].sort(key=lambda e: e["line"])
    return totals
