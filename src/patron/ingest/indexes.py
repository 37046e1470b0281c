"""Secondary indexes and constraints dropped around a large insert and built again after.

Building an index from sorted data is several times faster than growing it row by row;
worth it when the insert at least doubles the table. With ``unique`` (an insert that needs
no ON CONFLICT), PostgreSQL's unique constraints are rebuilt too: adding one back checks
the whole table, so a duplicate still fails the import. Foreign keys likewise: checking one
once for the whole table is one join, per inserted row a trigger call each. SQLite keeps its
constraints (they belong to its table definition). All of it runs inside the caller's
transaction, so a failure leaves the indexes and constraints as they were.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import connection

#: Inserts smaller than this keep the indexes.
MIN_ROWS = 50_000


@dataclass
class DroppedIndexes:
    table: str
    definitions: list[tuple[str, str]] = field(default_factory=list)  # (name, CREATE INDEX)
    constraints: list[tuple[str, str]] = field(default_factory=list)  # (name, definition)


def indexes_drop(model: type, *, unique: bool = False) -> DroppedIndexes:
    """Drop the model's declared indexes (and on PostgreSQL its foreign keys, and with
    ``unique`` its unique constraints); returns what :func:`indexes_restore` builds again."""
    table = model._meta.db_table  # type: ignore[attr-defined]
    names = [index.name for index in model._meta.indexes]  # type: ignore[attr-defined]
    dropped = DroppedIndexes(table)
    if not names:
        return dropped
    quoted = connection.ops.quote_name(table)
    marks = ", ".join(["%s"] * len(names))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s "
                f"AND indexname IN ({marks})",
                [table, *names],
            )
        else:
            cursor.execute(
                f"SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                f"AND tbl_name = %s AND name IN ({marks})",
                [table, *names],
            )
        dropped.definitions = cursor.fetchall()
        if dropped.definitions and connection.vendor == "postgresql":
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype = ANY(%s) ORDER BY contype",
                [table, ["f", "u"] if unique else ["f"]],
            )
            dropped.constraints = cursor.fetchall()
        for name, _ in dropped.constraints:
            cursor.execute(
                f"ALTER TABLE {quoted} DROP CONSTRAINT {connection.ops.quote_name(name)}"
            )
        for name, _ in dropped.definitions:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    return dropped


def indexes_restore(dropped: DroppedIndexes) -> None:
    """Build the indexes again, then add the constraints back (unique ones first)."""
    quoted = connection.ops.quote_name(dropped.table)
    with connection.cursor() as cursor:
        for _, sql in dropped.definitions:
            cursor.execute(sql)
        for name, definition in reversed(dropped.constraints):  # "u" sorts after "f"
            constraint = connection.ops.quote_name(name)
            cursor.execute(f"ALTER TABLE {quoted} ADD CONSTRAINT {constraint} {definition}")


@contextmanager
def indexes_rebuilt_if_cheaper(model: type, *, adding: int, unique: bool = False) -> Iterator[None]:
    """Drop and rebuild around the block when ``adding`` rows at least double the table."""
    table = connection.ops.quote_name(model._meta.db_table)  # type: ignore[attr-defined]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")
        existing = int(cursor.fetchone()[0])
    if adding < MIN_ROWS or adding < existing:
        yield
        return
    dropped = indexes_drop(model, unique=unique)
    yield
    indexes_restore(dropped)
