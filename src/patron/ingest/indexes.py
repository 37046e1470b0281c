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


def statistics_refreshed(model: type) -> None:
    """After a bulk write, the planner's statistics of the model's table made anew
    (PostgreSQL's ANALYZE; SQLite plans without them, as it always has).

    Without them the next queries plan for the table as it was (an empty one: index probes
    for ten million orders; a run id it has not seen: a handful of rows where there are a
    million). Autovacuum analyses only after its naptime and thresholds, and not at all where
    it is off. Statistics are a sample (~30,000 rows): 10M orders took 0.5 s, and the run
    after an import of them copied its orders in 8.5 s instead of 11 s and diagnosed its
    segments in 6.7 s instead of 9.3 s. Transactional: the caller's rollback undoes them."""
    if connection.vendor != "postgresql":
        return
    table = connection.ops.quote_name(model._meta.db_table)  # type: ignore[attr-defined]
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table}")


@contextmanager
def planner_settings(**settings: str) -> Iterator[None]:
    """PostgreSQL planner settings for the block only (``enable_nestloop="off"``): set for
    the transaction and put back as they were after the block. A block that raises leaves
    them to the rollback, which undoes them. SQLite has no such settings."""
    if connection.vendor != "postgresql":
        yield
        return
    names = list(settings)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(["current_setting(%s)"] * len(names)), names)
        before = cursor.fetchone()
        for name in names:
            cursor.execute("SELECT set_config(%s, %s, true)", [name, settings[name]])
    yield
    with connection.cursor() as cursor:
        for name, value in zip(names, before, strict=True):
            cursor.execute("SELECT set_config(%s, %s, true)", [name, value])


@contextmanager
def indexes_rebuilt_if_cheaper(model: type, *, adding: int, unique: bool = False) -> Iterator[bool]:
    """Drop and rebuild around the block when ``adding`` rows at least double the table; the
    table's statistics are then refreshed (:func:`statistics_refreshed`). Gives whether it
    does (``with ... as rebuilt``)."""
    table = connection.ops.quote_name(model._meta.db_table)  # type: ignore[attr-defined]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")
        existing = int(cursor.fetchone()[0])
    if adding < MIN_ROWS or adding < existing:
        yield False
        return
    dropped = indexes_drop(model, unique=unique)
    yield True
    indexes_restore(dropped)
    statistics_refreshed(model)
