from __future__ import annotations

import datetime as dt

from ninja import Schema


class TicketIn(Schema):
    customer_id: int | str  # the customer's id (external id), as in /customers
    kind: str
    category: str
    channel: str
    subject: str
    text: str = ""
    order_id: int | str | None = None  # the order's id at its source, of this customer


class TicketCreatedOut(Schema):
    id: int
    priority: str
    due_at: dt.datetime
