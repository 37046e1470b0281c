from __future__ import annotations

from decimal import Decimal

from ninja import Field, Schema


class OrderLineIn(Schema):
    sku: str | None = None
    product_name: str | None = None
    category: str | None = None
    quantity: Decimal = Decimal(1)
    amount: Decimal


class OrderIn(Schema):
    order_id: str = Field(..., description="Your order number; re-sending it never duplicates.")
    customer_id: str
    ordered_at: str = Field(..., description="ISO 8601, e.g. 2024-01-31T12:30:00+08:00")
    amount: Decimal | None = Field(None, description="Required without lines; else their sum.")
    cost: Decimal | None = None
    store: str | None = None
    channel: str | None = None
    status: str = "completed"
    original_order_id: str | None = None
    lines: list[OrderLineIn] = []


class OrderBatchIn(Schema):
    orders: list[OrderIn]
    source: str = "api"


class RowErrorOut(Schema):
    line: int
    column: str
    value: str | None
    message: str


class ImportResultOut(Schema):
    read: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    errors: list[RowErrorOut]
