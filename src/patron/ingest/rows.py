"""What an imported transaction row becomes: the one rule set behind every path in.

The import's staging (:mod:`patron.ingest.staging`), the bulk merge and the streamed first
load (:mod:`patron.ingest.writers`, :mod:`patron.ingest.order_stream`), the file-mode analysis
(:mod:`patron.insights.sources`) and its Parquet fast path (:mod:`patron.insights.parquet_fast`)
all call these functions, so a rule is written once. Pure Arrow (and SQL text for the paths
that run in a database): no Django, no I/O.

The rules:

- **Status and sign.** A row whose status is ``returned`` is a return: its amount and cost are
  stored negative, whatever sign the file used (:func:`signed_by_status`). An order whose
  status is ``completed`` but whose total is negative is a return too (:func:`order_status`,
  :func:`order_status_sql`): the merge of item lines can only see that once they are summed.
  Cancelled rows are kept in the store (``status = cancelled``) and left out of analyses,
  like unpaid and unknown ones (``patron.sales.models.REVENUE_STATUSES``).
- **Money in cents.** Amounts are exact decimals with two places; they travel as integer
  cents (:func:`cents`) and are written back as ``decimal(18, 2)`` (:func:`money`).
- **Item lines into orders.** Item lines with an order id are that order's lines; without
  one, the lines of one customer at one time are one order (:func:`purchase_identity`), kept
  in the store under ``g-`` + a content hash (:func:`item_line_order_keys`).
- **The business date** of a row is its time's date in the shop's time zone
  (:func:`business_dates`); analyses read that date, never the UTC time.
- **Ids** are text as cleaned by :func:`patron.ingest.cleaning.parse_identifier` (wrappers,
  tabs and spaces stripped, placeholders null, Excel's scientific notation refused), at most
  the store's length (:data:`patron.ingest.fields.MAX_LENGTHS`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from patron.ingest.cleaning import local_dates

__all__ = [
    "CANCELLED",
    "COMPLETED",
    "PAID_STATUSES",
    "RETURNED",
    "business_dates",
    "cents",
    "cents_expr",
    "cents_sql",
    "content_keys",
    "item_line_order_keys",
    "money",
    "money_sql",
    "order_status",
    "order_status_sql",
    "purchase_identity",
    "signed_by_status",
    "signed_sql",
]

COMPLETED = "completed"
RETURNED = "returned"
CANCELLED = "cancelled"
#: Statuses under which money changed hands: only these can be refunded.
PAID_STATUSES = ("completed", "open", "refunded")
#: What joins the parts of a row's identity before it is hashed.
_SEPARATOR = "\x1f"


def cents(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Decimal amounts (two places at most) -> exact integer cents."""
    scaled = pc.multiply(pc.cast(values, pa.decimal128(18, 2)), pa.scalar(100, pa.decimal128(5, 0)))
    return pc.cast(scaled, pa.int64())


def money(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Whole cents -> ``decimal128(18, 2)``, exact (written as ``12.34`` in CSV); null stays
    null."""
    array = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    whole = array.fill_null(0).to_numpy().astype(np.int64)
    words = np.empty((len(whole), 2), dtype=np.int64)
    words[:, 0] = whole
    words[:, 1] = whole >> 63  # the high word of a two's-complement 128-bit integer
    decimals = pa.Array.from_buffers(
        pa.decimal128(18, 2), len(whole), [None, pa.py_buffer(words.tobytes())]
    )
    if array.null_count:
        decimals = pc.if_else(pc.is_null(array), pa.scalar(None, decimals.type), decimals)
    return decimals


def cents_sql(column: str, *, postgres: bool) -> str:
    """Stored money (a SQL expression) -> integer cents, as SQL: PostgreSQL's numeric is exact;
    SQLite keeps amounts as REAL, exact to far below a cent, so they are rounded."""
    if postgres:
        return f"CAST({column} * 100 AS bigint)"
    return f"CAST(ROUND({column} * 100) AS INTEGER)"


def money_sql(column: str, *, postgres: bool) -> str:
    """Integer cents (a SQL expression) -> the store's money, as SQL."""
    return f"CAST({column} AS numeric) / 100" if postgres else f"{column} / 100.0"


def cents_expr(column: Any, *, exact: bool) -> Any:
    """Stored money (an Ibis column) -> integer cents: exact decimals (PostgreSQL) multiply;
    SQLite's REAL amounts are rounded (as :func:`cents_sql`)."""
    if exact:
        return (column * 100).cast("int64")
    return (column.cast("float64") * 100).round().cast("int64")


def signed_by_status(values: pa.Array, returned: pa.Array) -> pa.Array:
    """Amounts (or costs) of returned rows made negative, whatever sign the file used.

    ``returned`` is a boolean mask (``status == "returned"``)."""
    return pc.if_else(returned, pc.negate(pc.abs(values)), values)


def order_status(status: pa.Array | pa.ChunkedArray, amount_cents: pa.Array) -> pa.Array:
    """An order's status from its own and its total: completed with a negative total is a
    return."""
    negative = pc.less(amount_cents, 0)
    return pc.if_else(pc.and_(negative, pc.equal(status, COMPLETED)), RETURNED, status)


def order_status_sql(status: str, amount_cents: str) -> str:
    """:func:`order_status` as a SQL expression over two column expressions."""
    return (
        f"CASE WHEN {amount_cents} < 0 AND {status} = '{COMPLETED}' THEN '{RETURNED}' "
        f"ELSE {status} END"
    )


def signed_sql(column: str, returned: str) -> str:
    """:func:`signed_by_status` as a SQL expression (``returned``: a SQL condition)."""
    return f"CASE WHEN {returned} THEN -abs({column}) ELSE {column} END"


def business_dates(ordered_at: pa.Array | pa.ChunkedArray, tz: str) -> pa.Array:
    """The business date of each time: its date in the shop's time zone ``tz``."""
    return local_dates(ordered_at, tz)


def purchase_identity(customer_id: pa.Array, ordered_at: pa.Array) -> pa.Array:
    """What makes item lines without an order id one order: one customer at one time."""
    return pc.binary_join_element_wise(customer_id, pc.cast(ordered_at, pa.string()), _SEPARATOR)


def content_keys(parts: Sequence[pa.Array]) -> list[str]:
    """A stable content hash per row of ``parts`` (nulls read as empty text)."""
    texts = [pc.fill_null(pc.cast(part, pa.string()), "") for part in parts]
    joined = pc.binary_join_element_wise(*texts, _SEPARATOR)
    return [
        hashlib.blake2b(value.encode(), digest_size=10).hexdigest() for value in joined.to_pylist()
    ]


def item_line_order_keys(customer_id: pa.Array, ordered_at: pa.Array) -> pa.Array:
    """The stored order id of item lines without one: ``g-`` + the hash of
    :func:`purchase_identity` (the same lines get the same id on every import)."""
    return pa.array(["g-" + k for k in content_keys([customer_id, ordered_at])], pa.string())
