"""Query results of the app database as Arrow tables, through ADBC, in one snapshot.

No Django here: :mod:`patron.insights.engine` runs this module as a child process for
SQLite (``python -m patron.insights.arrow_copy``; why in its docstring), which reads a JSON
request on stdin and writes one Arrow IPC stream per query to stdout.
"""

from __future__ import annotations

import base64
import json
import sys
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

SQLITE_SNAPSHOT = "BEGIN"  # a read transaction in WAL mode sees one snapshot


def cast_batch(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """A batch in ``schema``: SQLite gives dates as text and flags as integers."""
    columns = []
    for field in schema:
        column = batch.column(field.name)
        if column.type != field.type:
            if pa.types.is_boolean(field.type) and pa.types.is_integer(column.type):
                column = pc.not_equal(column, 0)
            else:
                column = column.cast(field.type)
        columns.append(column)
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def _batches(cursor: Any, sql: str, schema: pa.Schema) -> Any:
    cursor.execute(sql)
    for batch in cursor.fetch_record_batch():
        yield cast_batch(batch, schema)


def copy_tables(conn: Any, queries: list[tuple[str, pa.Schema]], *, begin: str) -> list[pa.Table]:
    """Each query's rows as a table in its schema, all read in one transaction (``begin``),
    batch by batch so that only one batch is ever held in the database's wider form."""
    try:
        cursor = conn.cursor()
        cursor.execute(begin)
        try:
            return [
                pa.Table.from_batches(list(_batches(cursor, sql, schema)), schema=schema)
                for sql, schema in queries
            ]
        finally:
            cursor.execute("ROLLBACK")
            cursor.close()
    finally:
        conn.close()


def request_json(path: str, queries: list[tuple[str, pa.Schema]]) -> bytes:
    """The child's request: the SQLite file and each query with its schema."""
    return json.dumps(
        {
            "path": path,
            "queries": [
                [sql, base64.b64encode(schema.serialize().to_pybytes()).decode()]
                for sql, schema in queries
            ],
        }
    ).encode()


def main() -> None:
    import adbc_driver_sqlite.dbapi as adbc_sqlite

    request = json.loads(sys.stdin.buffer.read())
    conn = adbc_sqlite.connect(request["path"], autocommit=True)
    try:
        cursor = conn.cursor()
        cursor.execute(SQLITE_SNAPSHOT)
        out = sys.stdout.buffer
        for sql, encoded in request["queries"]:
            schema = pa.ipc.read_schema(pa.py_buffer(base64.b64decode(encoded)))
            with pa.ipc.new_stream(out, schema) as writer:
                for batch in _batches(cursor, sql, schema):
                    writer.write_batch(batch)
        out.flush()
        cursor.execute("ROLLBACK")
        cursor.close()
    finally:
        conn.close()


if __name__ == "__main__":
    main()
