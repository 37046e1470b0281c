"""Search that finds people: any part of a phone, a name, an email or an id, through an index.

Each customer has one search text, ``|id|name|phone|email|`` (email in lower case); the
``|`` marks where a field starts and ends. A query of three characters or more is a
substring of it, found through a trigram index:

- PostgreSQL: a GIN index with ``gin_trgm_ops`` (extension ``pg_trgm``) on that very
  expression, so it is always in step with the table (a bulk import or COPY included);
- SQLite: an FTS5 table with the ``trigram`` tokenizer (rowid = customer id), kept in step
  by triggers on insert, update and delete.

Trigrams need three characters. A two-character query ("婉娟", a given name) is looked up
with its field mark as the third: ``|婉娟`` (a field that starts with it) or ``婉娟|`` (a field
that ends with it, as a given name ends a Chinese name). A one-character query matches the
start of a name or a whole id, through their B-tree indexes.

On SQLite a later migration that rebuilds ``customers_customer`` (Django copies the table to
change a column) drops its triggers: ``search_index_ensure`` runs after every migrate
(``apps.py``) and puts them back, rebuilding the index if it has fallen out of step.
"""

from __future__ import annotations

import re

from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL

TABLE = "customers_customer"
FTS_TABLE = "customers_customer_search"
TRGM_INDEX = "customer_search_trgm_idx"
#: Shortest query the trigram index answers on its own.
TRIGRAM = 3


def _text_sql(prefix: str = "") -> str:
    """The search text of a row (``prefix`` is ``NEW.`` inside a trigger)."""
    fields = [f"{prefix}external_id", f"{prefix}name", f"{prefix}phone", f"lower({prefix}email)"]
    return "'|' || " + " || '|' || ".join(fields) + " || '|'"


def _sqlite_statements() -> list[str]:
    text = _text_sql("NEW.")
    return [
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(text, tokenize='trigram')",
        f"CREATE TRIGGER IF NOT EXISTS customer_search_insert AFTER INSERT ON {TABLE} BEGIN "
        f"INSERT INTO {FTS_TABLE}(rowid, text) VALUES (NEW.id, {text}); END",
        f"CREATE TRIGGER IF NOT EXISTS customer_search_delete AFTER DELETE ON {TABLE} BEGIN "
        f"DELETE FROM {FTS_TABLE} WHERE rowid = OLD.id; END",
        # Only when a searched field changes: a tag or a note leaves the index alone.
        f"CREATE TRIGGER IF NOT EXISTS customer_search_update AFTER UPDATE OF "
        f"id, external_id, name, phone, email ON {TABLE} BEGIN "
        f"DELETE FROM {FTS_TABLE} WHERE rowid = OLD.id; "
        f"INSERT INTO {FTS_TABLE}(rowid, text) VALUES (NEW.id, {text}); END",
    ]


def _sqlite_rebuild(cursor: object) -> None:
    cursor.execute(f"DELETE FROM {FTS_TABLE}")  # type: ignore[attr-defined]
    cursor.execute(  # type: ignore[attr-defined]
        f"INSERT INTO {FTS_TABLE}(rowid, text) SELECT id, {_text_sql()} FROM {TABLE}"
    )


def search_index_ensure(*, using: BaseDatabaseWrapper | None = None) -> bool:
    """Create the search index where it is missing (and on SQLite its triggers); rebuild the
    SQLite index when it does not hold one row per customer. True when anything was done."""
    conn = using or connection
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [TRGM_INDEX])
            if cursor.fetchone():
                return False
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {TRGM_INDEX} ON {TABLE} "
                f"USING gin (({_text_sql()}) gin_trgm_ops)"
            )
            return True
        if conn.vendor != "sqlite":
            return False
        cursor.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN "
            "('customer_search_insert', 'customer_search_delete', 'customer_search_update')"
        )
        triggers = cursor.fetchone()[0]
        cursor.execute("SELECT 1 FROM sqlite_master WHERE name = %s", [FTS_TABLE])
        table = cursor.fetchone() is not None
        if table and triggers == 3:
            return False
        for statement in _sqlite_statements():
            cursor.execute(statement)
        _sqlite_rebuild(cursor)  # whatever changed while a trigger was missing
        return True


def search_index_drop(*, using: BaseDatabaseWrapper | None = None) -> None:
    """Undo :func:`search_index_ensure` (the migration's reverse)."""
    conn = using or connection
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            cursor.execute(f"DROP INDEX IF EXISTS {TRGM_INDEX}")
        elif conn.vendor == "sqlite":
            for name in ("insert", "delete", "update"):
                cursor.execute(f"DROP TRIGGER IF EXISTS customer_search_{name}")
            cursor.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")


def _like(value: str) -> str:
    return re.sub(r"([\\%_])", r"\\\1", value)


def _fts_phrase(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def _condition(exact: dict[str, list[str]], patterns: list[str]) -> Q:
    """Customers with a column equal to one of ``exact`` (column -> values), or whose search
    text holds one of ``patterns`` (each of 3+ characters).

    On PostgreSQL it is one condition on the table itself (a BitmapOr of the B-tree and trigram
    indexes): an OR of ``external_id = ...`` with ``id IN (...)`` made the planner walk the
    whole external_id index (900 ms at 1M customers), and ``id IN (...)`` alone looked every
    match up twice (118 ms for 1,069 matches)."""
    if connection.vendor == "postgresql":
        terms, params = [], []
        for column, values in exact.items():
            for value in values:
                terms.append(f"{TABLE}.{column} = %s")
                params.append(value)
        for pattern in patterns:
            terms.append(f"({_text_sql(f'{TABLE}.')}) ILIKE %s")
            params.append(f"%{_like(pattern)}%")
        where = RawSQL(f"({' OR '.join(terms)})", params, output_field=BooleanField())
        return Q(where)
    condition = Q()
    for column, values in exact.items():
        condition |= Q(**{f"{column}__in": values})
    if not patterns:
        return condition
    if connection.vendor == "sqlite":
        match = " OR ".join(_fts_phrase(p) for p in patterns)
        sql = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s"
        return condition | Q(pk__in=RawSQL(sql, [match]))
    for pattern in patterns:  # any other database: correct, not indexed
        condition |= Q(external_id__icontains=pattern) | Q(name__icontains=pattern)
        condition |= Q(phone__icontains=pattern) | Q(email__icontains=pattern)
    return condition


def _whole_id_or_phone(search: str, digits: str) -> bool:
    """True when ``search`` is a customer's whole id or normalised phone (one index probe):
    the trigram search of a long id is the slowest (its trigrams are in every id)."""
    from patron.customers.models import Customer

    condition = Q(external_id=search)
    if digits.isdigit() and len(digits) >= 7:
        condition |= Q(phone=digits)
    return Customer.objects.filter(condition).exists()


def search_condition(search: str) -> Q:
    """Customers that ``search`` finds: the part of a phone (any spelling: spaces, dashes,
    +86), a name, an email or an id. Exact matches use their own B-tree indexes; parts go
    through the trigram index (see the module's docstring for one and two characters)."""
    search = search.strip()
    compact = re.sub(r"[\s\-()]", "", search)
    digits = compact[1:] if compact.startswith("+") else compact
    exact: dict[str, list[str]] = {"external_id": [search]}
    if digits.isdigit() and len(digits) >= TRIGRAM:
        # a phone as typed: "138 1234 5678", "+86 138-1234-5678" or the last four digits
        if len(digits) == 13 and digits.startswith("86"):
            digits = digits[2:]
        term = digits
        exact["phone"] = [digits]
    elif "@" in search:
        term = search.lower()
        exact["email"] = sorted({search, search.lower()})
    else:
        term = search
    if _whole_id_or_phone(search, digits):
        return _condition(exact, [])  # a whole id or phone: that customer alone
    if len(term) >= TRIGRAM:
        return _condition(exact, [term])
    if len(term) == TRIGRAM - 1:
        return _condition(exact, ["|" + term, term + "|"])
    return _condition(exact, []) | Q(name__startswith=search)
