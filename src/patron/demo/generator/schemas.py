"""Arrow schemas of the demo tables, and their money and timestamp types."""

from __future__ import annotations

import pyarrow as pa

MONEY = pa.decimal128(12, 2)
TIMESTAMP = pa.timestamp("us", tz="UTC")

CUSTOMERS_SCHEMA = pa.schema(
    [
        ("external_id", pa.string()),
        ("name", pa.string()),
        ("phone", pa.string()),
        ("email", pa.string()),
        ("gender", pa.string()),
        ("birth_date", pa.date32()),
        ("region", pa.string()),
        ("city", pa.string()),
        ("occupation", pa.string()),
        ("acquisition_channel", pa.string()),
        ("acquired_on", pa.date32()),
        ("acquisition_cost", MONEY),
        ("consent_sms", pa.bool_()),
        ("consent_email", pa.bool_()),
        ("consent_phone", pa.bool_()),
        ("tags", pa.string()),
        ("company", pa.string()),
        ("credit_limit", MONEY),
    ]
)
PRODUCTS_SCHEMA = pa.schema(
    [
        ("sku", pa.string()),
        ("name", pa.string()),
        ("category", pa.string()),
        ("unit_price", MONEY),
        ("unit_cost", MONEY),
    ]
)
ORDERS_SCHEMA = pa.schema(
    [
        ("external_id", pa.string()),
        ("customer_external_id", pa.string()),
        ("ordered_at", TIMESTAMP),
        ("store", pa.string()),
        ("channel", pa.string()),
        ("amount", MONEY),
        ("cost", MONEY),
        ("status", pa.string()),
        ("original_external_id", pa.string()),
    ]
)
ORDER_LINES_SCHEMA = pa.schema(
    [
        ("order_external_id", pa.string()),
        ("sku", pa.string()),
        ("quantity", pa.int32()),
        ("amount", MONEY),
    ]
)
INTERACTIONS_SCHEMA = pa.schema(
    [
        ("customer_external_id", pa.string()),
        ("kind", pa.string()),
        ("channel", pa.string()),
        ("text", pa.string()),
        ("occurred_at", TIMESTAMP),
    ]
)
HIDDEN_SCHEMA = pa.schema(
    [
        ("external_id", pa.string()),
        ("purchase_rate_per_day", pa.float64()),
        ("dropout_p", pa.float64()),
        ("mean_spend", pa.float64()),
        ("alive_at_end", pa.bool_()),
        ("dropout_date", pa.date32()),
        ("duplicate_of", pa.string()),
    ]
)
