"""Where validated rows go: the transaction stage, the order-lines stage, or the ORM upserters.

A sink takes prepared batches (``write``), then, when every row was good (or ``--skip-bad``),
merges them into the store and fills the report (``finish``); ``close`` drops what it staged.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from patron.customers.models import Customer
from patron.ingest.customers import CHUNK, CustomerUpserter, ProductUpserter
from patron.ingest.formats import Preset
from patron.ingest.mapping import ColumnMapping, EntityKind
from patron.ingest.order_lines import OrderLinesSink, pending_lines_attach
from patron.ingest.staging import CUSTOMER_PHONE, stage_columns
from patron.ingest.writers import TransactionStage


class TransactionSink:
    def __init__(self, mapping: ColumnMapping, *, source: str, preset: Preset | None) -> None:
        self.mapping = mapping
        self.source = source
        self.item_lines = mapping.is_item_lines
        self.reading = "order lines" if self.item_lines else "orders"
        self.stage = TransactionStage(
            stage_columns(mapping, preset=preset),
            order_total_repeated=bool(preset and preset.order_total_repeated),
            source=source,
            item_lines=self.item_lines,
        )
        self.stage.create()
        self.phones: dict[str, str] = {}
        self.unknown: Counter[str] = Counter()

    def write(self, table: pa.Table) -> None:
        self.stage.append(table)
        unknown = pc.equal(table["status"], "unknown")
        if pc.any(unknown).as_py():
            self.unknown.update(table["raw_status"].filter(unknown).to_pylist())
        if CUSTOMER_PHONE in table.column_names:
            known = table.select(["customer_ext", CUSTOMER_PHONE]).drop_null()
            self.phones.update(
                zip(
                    known["customer_ext"].to_pylist(),
                    known[CUSTOMER_PHONE].to_pylist(),
                    strict=True,
                )
            )

    def finish(self, report: Any) -> None:
        counts = self.stage.merge(source=self.source, item_lines=self.item_lines)
        report.inserted = counts.inserted
        report.updated = counts.updated
        report.unchanged = counts.unchanged
        report.customers_created = counts.customers_created
        report.products_created = counts.products_created
        report.lines = counts.lines_written + pending_lines_attach(source=self.source)
        report.unknown_statuses = dict(self.unknown.most_common())
        _phones_fill(self.phones)

    def abort(self) -> None:
        self.stage.abort()

    def changed_customers(self) -> str | None:
        return self.stage.changed_customers()

    def close(self) -> None:
        self.stage.drop()


def _phones_fill(phones: dict[str, str]) -> None:
    """Customers named by a phone (an export without buyer ids) get that phone on their
    record when it has none, so they can be reached and the duplicate finder sees them."""
    ids = sorted(phones)
    for start in range(0, len(ids), CHUNK):
        chunk = Customer.objects.filter(external_id__in=ids[start : start + CHUNK], phone="")
        changed = []
        for customer in chunk:
            customer.phone, customer.phone_is_masked = phones[customer.external_id], False
            changed.append(customer)
        Customer.objects.bulk_update(changed, ["phone", "phone_is_masked"], batch_size=500)


def make_sink(
    kind: EntityKind, mapping: ColumnMapping, *, source: str, preset: Preset | None
) -> TransactionSink | OrderLinesSink | CustomerUpserter | ProductUpserter:
    """The sink for a file of this kind (and preset)."""
    if kind is EntityKind.TRANSACTIONS:
        if preset is not None and preset.rows == "order_lines":
            return OrderLinesSink(source=source)
        return TransactionSink(mapping, source=source, preset=preset)
    if kind is EntityKind.CUSTOMERS:
        return CustomerUpserter(mapping, source=source)
    return ProductUpserter(mapping)
