"""Validated transaction columns -> the rows the bulk writer stages (pure Arrow, no I/O).

Here the platform rules turn into stored facts: a preset's status table and its "once paid"
variants, after-sale statuses that mean a refund, refund rows, amounts net of refunds;
every refund, full or partial, becomes a return (``<order>-refund``, negative, linked to its
order), so net revenue and every analysis built on it are right.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.conf import settings

from patron.ingest.formats import Preset
from patron.ingest.mapping import ColumnMapping
from patron.ingest.rows import (
    PAID_STATUSES,
    RETURNED,
    business_dates,
    cents,
    item_line_order_keys,
    signed_by_status,
)
from patron.ingest.validation import row_keys
from patron.ingest.writers import STAGE_COLUMN_NAMES, utc_text

# What identifies a purchase in a file without order ids (see ``row_keys``).
ROW_KEY_FIELDS = (
    "customer_id",
    "ordered_at",
    "amount",
    "cost",
    "store",
    "channel",
    "status",
    "original_order_id",
)
# A stage column beside the writer's: the unmasked phone a customer id was made from.
CUSTOMER_PHONE = "customer_phone"

_OPTIONAL_STAGE_COLUMNS = {
    "store": "store",
    "channel": "channel",
    "cost": "cost_cents",
    "status": "status",
    "original_order_id": "original_key",
    "product_name": "product_name",
    "category": "category",
    "quantity": "quantity",
}


def stage_columns(mapping: ColumnMapping, *, preset: Preset | None = None) -> tuple[str, ...]:
    """The stage columns a file with this mapping fills."""
    columns = ["line", "customer_ext", "ordered_at", "ordered_on", "amount_cents"]
    if mapping.has("order_id") or mapping.is_item_lines:
        columns.append("order_key")
    else:
        columns.append("row_key")
    if mapping.is_item_lines:
        columns.append("sku")
        if mapping.has("unit_price") and mapping.has("quantity"):
            columns.append("line_amount_cents")
    columns += [c for f, c in _OPTIONAL_STAGE_COLUMNS.items() if mapping.has(f)]
    if mapping.has("status"):
        columns.append("raw_status")
    if preset is not None:  # statuses come from the preset's rules even without a column
        columns += ["status", "raw_status"]
    if mapping.has("refund") or (preset is not None and preset.may_refund):
        columns += ["status", "original_key"]  # refunds become returns linked to their order
    return tuple(dict.fromkeys(columns))


def stage_table(
    columns: dict[str, pa.Array],
    lines: np.ndarray,
    *,
    item_lines: bool,
    preset: Preset | None = None,
) -> pa.Table:
    """Validated typed columns -> the staging table's columns.

    Refunds become return rows (``<order>-refund``, negative, linked to the order); an
    amount net of refunds (Taobao) is grossed up first so the two net out to what was kept.
    A refund counts only on an order that was paid: the refund of a cancelled or unpaid
    order (never revenue) is not a return.
    """
    n = len(lines)
    nulls = pa.nulls(n, pa.string())
    amount = columns["amount"]
    zero = pa.scalar(0, amount.type)
    raw_status = pc.fill_null(columns.get("raw_status", nulls), "")
    status = columns.get("status")
    status = (
        pc.fill_null(status, "completed")
        if status is not None
        else pa.array(["completed"] * n, pa.string())
    )
    refund = columns.get("refund")
    if refund is not None:
        refund = pc.fill_null(pc.abs(refund), zero)
    if preset is not None:
        status = _preset_statuses(status, raw_status, columns, preset)
    refund_rows: pa.Array | None = None
    if preset is not None and preset.refund_row_statuses:
        # Rows that only carry a refund of an order paid elsewhere in this file or in an
        # earlier one: the refund is in the refund column (WeChat Pay) or is the row's own
        # amount (Alipay, negative). They become returns only, never part of the order.
        refund_rows = pc.is_in(raw_status, pa.array(list(preset.refund_row_statuses)))
        own = pc.if_else(refund_rows, pc.abs(amount), zero)
        refund = own if refund is None else pc.if_else(pc.equal(refund, zero), own, refund)
        amount = pc.if_else(refund_rows, zero, amount)
    # A return is stored with a negative amount, whatever sign the file used.
    is_return = pc.equal(status, RETURNED)
    amount = signed_by_status(amount, is_return)
    cost = columns.get("cost")
    if cost is not None:
        cost = signed_by_status(cost, is_return)
    if refund is not None and preset is not None and preset.amount_net_of_refund:
        amount = pc.add(amount, refund)
    before_after_sale = status
    if preset is not None:
        status = _after_sale(status, columns, preset)
        # A row refunded without a refund amount (PDD's 退款成功, a closed paid order) was
        # refunded in full.
        whole = pc.equal(status, "refunded")
        if refund is not None:
            whole = pc.and_(whole, pc.equal(refund, zero))
        if pc.any(whole).as_py():
            refund = pc.if_else(whole, pc.abs(amount), refund if refund is not None else zero)
    if refund is not None:
        fully = pc.and_(pc.greater(refund, 0), pc.greater_equal(refund, amount))
        fully = pc.and_(fully, pc.is_in(status, pa.array(["completed", "open"])))
        status = pc.if_else(fully, "refunded", status)
    order_key = columns.get("order_id")
    if preset is not None and preset.rows == "items" and order_key is not None:
        status = _order_wide_refunds(status, before_after_sale, columns, order_key, preset)
    row_key: pa.Array = nulls
    if order_key is None:
        if item_lines:  # one customer's lines at one time are one order
            order_key = item_line_order_keys(columns["customer_id"], columns["ordered_at"])
        else:
            order_key = nulls
            row_key = pa.array(["r-" + k for k in row_keys(columns, ROW_KEY_FIELDS)], pa.string())
    sku = columns.get("sku")
    if sku is None and item_lines and "product_name" in columns:
        sku = columns["product_name"]  # a product known only by its name: the name is its code
    quantity = columns.get("quantity")
    ordered_at = columns["ordered_at"]
    data = {
        "line": pa.array(lines, pa.int64()),
        "order_key": order_key,
        "row_key": row_key,
        "customer_ext": columns["customer_id"],
        "ordered_at": utc_text(ordered_at),
        "ordered_on": pc.cast(business_dates(ordered_at, settings.TIME_ZONE), pa.string()),
        "store": pc.fill_null(columns.get("store", nulls), ""),
        "channel": pc.fill_null(columns.get("channel", nulls), ""),
        "amount_cents": cents(amount),
        "cost_cents": cents(cost) if cost is not None else pa.nulls(n, pa.int64()),
        "status": status,
        "raw_status": raw_status,
        "original_key": columns.get("original_order_id", nulls),
        "sku": sku if sku is not None else nulls,
        "product_name": columns.get("product_name", nulls),
        "category": columns.get("category", nulls),
        "quantity": pc.cast(quantity, pa.float64())
        if quantity is not None
        else pa.nulls(n, pa.float64()),
        "line_amount_cents": _line_cents(columns.get("unit_price"), quantity, n),
    }
    table = pa.table({name: data[name] for name in STAGE_COLUMN_NAMES})
    if "buyer_phone" in columns:  # the customer was named by this phone (see CustomerKey)
        hidden = columns.get("buyer_phone_is_masked", pa.array(np.zeros(n, dtype=bool)))
        phone = pc.if_else(hidden, pa.scalar(None, pa.string()), columns["buyer_phone"])
        table = table.append_column(CUSTOMER_PHONE, phone)
    orders = table if refund_rows is None else table.filter(pc.invert(refund_rows))
    if refund is None or order_key is nulls:
        return orders
    refunded = pc.and_(pc.greater(refund, 0), pc.is_in(status, pa.array(PAID_STATUSES)))
    if not pc.any(refunded).as_py():
        return orders
    returns = table.filter(refunded)
    k = returns.num_rows
    keys = returns["order_key"].combine_chunks()
    # One return per refund when the file numbers its refunds (a later bill's refund adds
    # to the earlier ones); else one return holding the order's refunded total.
    suffix: pa.Array | pa.Scalar = pa.scalar("-refund")
    refund_id = columns.get("refund_id")
    if refund_id is not None:
        numbered = pc.binary_join_element_wise("-refund-", refund_id.filter(refunded), "")
        suffix = pc.coalesce(numbered, "-refund")
    replace_columns = {
        "order_key": pc.binary_join_element_wise(keys, suffix, ""),
        "amount_cents": pc.negate(cents(refund.filter(refunded))),
        "cost_cents": pa.nulls(k, pa.int64()),
        "status": pa.array(["returned"] * k, pa.string()),
        "raw_status": pa.array([""] * k, pa.string()),
        "original_key": keys,
    }
    for name, values in replace_columns.items():
        returns = returns.set_column(returns.schema.get_field_index(name), name, values)
    return pa.concat_tables([orders, returns])


def _line_cents(unit_price: pa.Array | None, quantity: pa.Array | None, n: int) -> pa.Array:
    """A line's amount from its unit price and quantity, when the file gives both."""
    if unit_price is None or quantity is None:
        return pa.nulls(n, pa.int64())
    price = cents(unit_price)
    return pc.cast(
        pc.round(pc.multiply(pc.cast(price, pa.float64()), pc.cast(quantity, pa.float64()))),
        pa.int64(),
    )


def _preset_statuses(
    status: pa.Array, raw_status: pa.Array, columns: dict[str, pa.Array], preset: Preset
) -> pa.Array:
    """A preset's rules on top of its status table: cancelled when a cancellation time is
    set (Shopify), unpaid when not paid, another status for the same text once paid
    (Taobao's 交易关闭 after payment is a refund)."""
    cancelled_field = preset.cancelled_when_set
    if cancelled_field is not None and cancelled_field in columns:
        status = pc.if_else(pc.is_valid(columns[cancelled_field]), "cancelled", status)
    paid_field = preset.unpaid_when_blank
    if paid_field is None or paid_field not in columns:
        return status
    paid = pc.is_valid(columns[paid_field])
    for text, when_paid in preset.statuses_when_paid.items():
        status = pc.if_else(pc.and_(paid, pc.equal(raw_status, text)), when_paid, status)
    unpaid = pc.and_(pc.invert(paid), pc.is_in(status, pa.array(["completed", "open"])))
    return pc.if_else(unpaid, "unpaid", status)


def _after_sale(status: pa.Array, columns: dict[str, pa.Array], preset: Preset) -> pa.Array:
    """A paid row whose after-sale status (售后状态) says 退款成功 is refunded, whatever its
    order status says (a closed order that was paid and refunded)."""
    after = columns.get("after_sale_status")
    if after is None or not preset.after_sale_statuses:
        return status
    distinct = [v for v in pc.unique(after).to_pylist() if v is not None]
    refunded = [v for v in distinct if preset.after_sale_of(v) == "refunded"]
    if not refunded:
        return status
    hit = pc.fill_null(pc.is_in(after, pa.array(refunded, pa.string())), False)
    hit = pc.and_(hit, pc.not_equal(status, "unpaid"))
    return pc.if_else(hit, "refunded", status)


def _order_wide_refunds(
    status: pa.Array,
    before: pa.Array,
    columns: dict[str, pa.Array],
    order_key: pa.Array,
    preset: Preset,
) -> pa.Array:
    """Item rows (Douyin's sub-orders) refunded one by one: the order is refunded only when
    all its rows are; a partly refunded order keeps its own status (its refunded rows
    still become returns, by their own refund amounts)."""
    if not preset.after_sale_statuses or "after_sale_status" not in columns:
        return status
    refunded = pc.equal(status, "refunded")
    if pc.all(refunded).as_py() or not pc.any(refunded).as_py():
        return status
    table = pa.table({"k": order_key, "r": pc.cast(refunded, pa.int8())})
    per_order = table.group_by("k").aggregate([("r", "min")])
    every = pc.take(per_order["r_min"], pc.index_in(order_key, per_order["k"]))
    partly = pc.and_(refunded, pc.equal(every, 0))
    return pc.if_else(partly, before, status)
