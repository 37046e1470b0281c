"""Customers known only by their id: the bare records an import of orders creates.

One statement inserts every new id (existing ids are left alone by the unique constraint),
for the merge (:mod:`patron.ingest.writers`) and the streamed first load
(:mod:`patron.ingest.order_stream`) alike.
"""

from __future__ import annotations

import json

from django.db import connection
from django.utils import timezone

from patron.customers.models import Customer


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


_BARE_COLUMNS = (
    "external_id, name, phone, phone_is_masked, email, gender, region, city, "
    "occupation, acquisition_channel, company, credit_rating, tags, attributes, "
    "created_at, updated_at"
)


def bare_customers_sql(*, returning: bool = False) -> str:
    table = connection.ops.quote_name(Customer._meta.db_table)
    if _is_postgres():
        return f"""INSERT INTO {table} ({_BARE_COLUMNS})
            SELECT id, '', '', FALSE, '', 'u', '', '', '', '', '', '',
                '[]'::jsonb, '{{}}'::jsonb, %s, %s FROM unnest(%s::text[]) AS id
            ON CONFLICT (external_id) DO NOTHING""" + (
            " RETURNING external_id, id" if returning else ""
        )
    # One JSON array rather than a bound row per id: SQLite reads it in C.
    return f"""INSERT OR IGNORE INTO {table} ({_BARE_COLUMNS})
        SELECT value, '', '', 0, '', 'u', '', '', '', '', '', '',
            '[]', '{{}}', %s, %s FROM json_each(%s)""" + (
        " RETURNING external_id, id" if returning else ""
    )


def bare_customers_params(ids: list[str]) -> list[object]:
    now = timezone.now()
    if _is_postgres():
        return [now, now, ids]
    stamp = now.isoformat(sep=" ").replace("+00:00", "")
    return [stamp, stamp, json.dumps(ids, ensure_ascii=False)]


def bare_customers_insert(ids: list[str]) -> int:
    """Customers known only by their id (the orders name them); existing ids are left
    alone by the unique constraint. Returns how many were new."""
    with connection.cursor() as cursor:
        cursor.execute(bare_customers_sql(), bare_customers_params(ids))
        return int(cursor.rowcount)
