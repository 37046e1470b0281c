"""Fixtures for the value-analytics tests: the CDNOW log, engines and a pandas reference.

The CDNOW master file ships with the lifetimes package: 69,659 rows of
``customer_id date(YYYYMMDD) number_of_cds dollar_value``, each row one order,
with exact duplicate rows and zero amounts.

Engines: DuckDB (decimal and float amounts), SQLite (a file with NUMERIC/REAL
columns created by hand, as Django does) and PostgreSQL (127.0.0.1, user
postgres, database ``patron_analytics_test``; ``PATRON_TEST_DATABASE_URL``
overrides host, port, user and password). Without PostgreSQL its tests skip,
unless ``CI=true``, when they fail.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlparse

import ibis
import lifetimes
import numpy as np
import pandas as pd
import pytest

CDNOW_PATH = Path(lifetimes.__file__).parent / "datasets" / "CDNOW_master.txt"
AS_OF = dt.date(1998, 6, 30)
PG_DATABASE = "patron_analytics_test"

Loader = Callable[[pd.DataFrame], ibis.Table]


# --------------------------------------------------------------------------- data


@pytest.fixture(scope="session")
def cdnow_raw() -> pd.DataFrame:
    return pd.read_csv(
        CDNOW_PATH,
        sep=r"\s+",
        dtype={"customer_id": str, "date": str, "number_of_cds": np.int64},
    )


@pytest.fixture(scope="session")
def cdnow(cdnow_raw: pd.DataFrame) -> pd.DataFrame:
    """The CDNOW log in the input contract: one row per order, no order id."""
    return pd.DataFrame(
        {
            "customer_id": cdnow_raw["customer_id"],
            "order_date": pd.to_datetime(cdnow_raw["date"], format="%Y%m%d").dt.date,
            "amount": cdnow_raw["dollar_value"].astype(np.float64),
        }
    )


@pytest.fixture(scope="session")
def cdnow_rich(cdnow_raw: pd.DataFrame) -> pd.DataFrame:
    """CDNOW made into item lines with order ids, returns and partly known costs.

    - ``order_id`` is customer + date: the rows of one customer on one day are
      lines of one order (duplicate rows become two lines of one order);
    - every 17th row is a return (negated amount), so some customers have
      returns only;
    - ``cost`` is 55% of the amount (rounded to the cent) on rows with an odd
      number of CDs, unknown on the others.
    """
    amount = cdnow_raw["dollar_value"].astype(np.float64).to_numpy().copy()
    returned = np.arange(len(amount)) % 17 == 0
    amount[returned] = -amount[returned]
    cost = np.where(
        cdnow_raw["number_of_cds"].to_numpy() % 2 == 1, np.round(amount * 0.55, 2), np.nan
    )
    return pd.DataFrame(
        {
            "customer_id": cdnow_raw["customer_id"],
            "order_date": pd.to_datetime(cdnow_raw["date"], format="%Y%m%d").dt.date,
            "amount": amount,
            "order_id": cdnow_raw["customer_id"] + "-" + cdnow_raw["date"],
            "cost": cost,
        }
    )


# ---------------------------------------------------------------------- engines


def _plain(value: object) -> object:
    """A value as a plain Python object for a DB-API driver (None for missing)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _sqlite_loader(tmp_dir: Path) -> Loader:
    path = tmp_dir / "analytics.sqlite"
    con = ibis.sqlite.connect(str(path))
    raw = sqlite3.connect(path)

    def load(frame: pd.DataFrame) -> ibis.Table:
        name = f"tx_{uuid.uuid4().hex[:8]}"
        types = {
            "customer_id": "TEXT",
            "order_date": "DATE",
            "amount": "NUMERIC",
            "order_id": "TEXT",
            "cost": "REAL",
            "is_return": "BOOLEAN",
        }
        cols = list(frame.columns)
        raw.execute(f"CREATE TABLE {name} ({', '.join(f'{c} {types[c]}' for c in cols)})")
        rows = [
            tuple(v.isoformat() if isinstance(v, dt.date) else v for v in map(_plain, row))
            for row in frame.itertuples(index=False)
        ]
        raw.executemany(f"INSERT INTO {name} VALUES ({', '.join('?' * len(cols))})", rows)
        raw.commit()
        return con.table(name)

    return load


def _duckdb_loader(*, decimal: bool) -> Loader:
    con = ibis.duckdb.connect()

    def load(frame: pd.DataFrame) -> ibis.Table:
        name = f"tx_{uuid.uuid4().hex[:8]}"
        schema = {
            "customer_id": "string",
            "order_date": "date",
            "amount": "float64",
            "order_id": "string",
            "cost": "float64",
            "is_return": "boolean",
        }
        mem = ibis.memtable(frame, schema={c: schema.get(c, "string") for c in frame.columns})
        if decimal:  # cast in the engine, as a decimal(12, 2) store column would be
            money = {c: mem[c].cast("decimal(12, 2)") for c in ("amount", "cost") if c in mem}
            mem = mem.mutate(**money)
        return con.create_table(name, mem)

    return load


def _pg_settings() -> dict[str, object]:
    """Host, port, user and password; the database is always our own."""
    url = urlparse(
        os.environ.get("PATRON_TEST_DATABASE_URL")
        or os.environ.get("PATRON_DATABASE_URL", "").replace("postgres://", "postgresql://")
        or "postgresql://postgres@127.0.0.1"
    )
    if url.scheme != "postgresql":
        url = urlparse("postgresql://postgres@127.0.0.1")
    return {
        "host": url.hostname or "127.0.0.1",
        "port": url.port or 5432,
        "user": url.username or "postgres",
        "password": url.password or None,
    }


def _postgres_loader() -> tuple[Loader, Callable[[], None]]:
    import psycopg

    settings = _pg_settings()
    connect_args = {k: v for k, v in settings.items() if v is not None}
    try:
        with psycopg.connect(dbname="postgres", autocommit=True, connect_timeout=5,
                             **connect_args) as admin:  # fmt: skip
            exists = admin.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (PG_DATABASE,)
            ).fetchone()
            if not exists:
                with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                    admin.execute(f"CREATE DATABASE {PG_DATABASE}")
        raw = psycopg.connect(dbname=PG_DATABASE, autocommit=True, **connect_args)
        con = ibis.postgres.connect(database=PG_DATABASE, **connect_args)
    except Exception as exc:  # any connection failure
        reason = f"PostgreSQL not reachable at {settings['host']}:{settings['port']}: {exc}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason} (CI=true: PostgreSQL tests must run)")
        pytest.skip(reason)
    created: list[str] = []
    types = {
        "customer_id": "text",
        "order_date": "date",
        "amount": "numeric(12, 2)",
        "order_id": "text",
        "cost": "numeric(12, 2)",
        "is_return": "boolean",
    }

    def load(frame: pd.DataFrame) -> ibis.Table:
        name = f"tx_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        cols = list(frame.columns)
        raw.execute(f"CREATE TABLE {name} ({', '.join(f'{c} {types[c]}' for c in cols)})")
        created.append(name)
        with raw.cursor() as cur, cur.copy(f"COPY {name} ({', '.join(cols)}) FROM STDIN") as cp:
            for row in frame.itertuples(index=False):
                cp.write_row([_plain(v) for v in row])
        return con.table(name)

    def close() -> None:
        for name in created:
            raw.execute(f"DROP TABLE IF EXISTS {name}")
        raw.close()
        con.disconnect()

    return load, close


ENGINES = [
    "duckdb",
    "duckdb_float",
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(scope="session", params=ENGINES)
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Loader]]:
    """``(name, load)``: ``load(frame)`` puts a transactions frame in the engine (once)."""
    name = request.param
    close: Callable[[], None] | None = None
    if name == "duckdb":
        load = _duckdb_loader(decimal=True)
    elif name == "duckdb_float":
        load = _duckdb_loader(decimal=False)
    elif name == "sqlite":
        load = _sqlite_loader(tmp_path_factory.mktemp("sqlite"))
    else:
        load, close = _postgres_loader()
    yield name, _cached(load)
    if close is not None:
        close()


def _cached(load: Loader) -> Loader:
    """Load each frame once per engine; the cache keeps the frame so its id stays unique."""
    tables: dict[int, tuple[pd.DataFrame, ibis.Table]] = {}

    def cached(frame: pd.DataFrame) -> ibis.Table:
        if id(frame) not in tables:
            tables[id(frame)] = (frame, load(frame))
        return tables[id(frame)][1]

    return cached


@pytest.fixture(scope="session")
def duck() -> Loader:
    """A DuckDB loader (float money) for tests that need one engine only."""
    return _cached(_duckdb_loader(decimal=False))


# -------------------------------------------------------------------- reference


def reference_summary(tx: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """What an analyst would write in pandas for the customer summary."""
    df = tx.loc[tx["order_date"] <= as_of].copy()
    df["cents"] = np.round(df["amount"] * 100).astype(np.int64)
    df["is_ret"] = df["is_return"] if "is_return" in df else df["amount"] < 0
    if "order_id" not in df:
        df["order_id"] = np.arange(len(df)).astype(str)  # every row its own order
    buys = df.loc[~df["is_ret"]]
    rets = df.loc[df["is_ret"]]
    g = df.groupby("customer_id")
    out = pd.DataFrame({"revenue_cents": g["cents"].sum()})
    out["first_purchase"] = buys.groupby("customer_id")["order_date"].min()
    out["last_purchase"] = buys.groupby("customer_id")["order_date"].max()
    out["orders"] = buys.groupby("customer_id")["order_id"].nunique()
    out["purchase_days"] = buys.groupby("customer_id")["order_date"].nunique()
    out["returns"] = rets.groupby("customer_id")["order_id"].nunique()
    if "cost" in df:
        costed = df.loc[df["cost"].notna()].copy()
        costed["cost_cents"] = np.round(costed["cost"] * 100).astype(np.int64)
        out["cost"] = costed.groupby("customer_id")["cost_cents"].sum() / 100
        costed["margin_cents"] = costed["cents"] - costed["cost_cents"]
        out["margin"] = costed.groupby("customer_id")["margin_cents"].sum() / 100
        out["uncosted_revenue"] = (
            df.loc[df["cost"].isna()].groupby("customer_id")["cents"].sum() / 100
        )
    else:
        out["cost"] = np.nan
        out["margin"] = np.nan
        out["uncosted_revenue"] = out["revenue_cents"] / 100
    out["uncosted_revenue"] = out["uncosted_revenue"].fillna(0.0)
    for c in ("orders", "purchase_days", "returns"):
        out[c] = out[c].fillna(0).astype(np.int64)
    out["revenue"] = out["revenue_cents"] / 100
    last = pd.to_datetime(out["last_purchase"])
    first = pd.to_datetime(out["first_purchase"])
    out["recency_days"] = (pd.Timestamp(as_of) - last).dt.days
    out["tenure_days"] = (pd.Timestamp(as_of) - first).dt.days
    out["first_purchase"] = first.astype("datetime64[s]")
    out["last_purchase"] = last.astype("datetime64[s]")
    out = out.reset_index()
    cols = [
        "customer_id",
        "first_purchase",
        "last_purchase",
        "orders",
        "purchase_days",
        "returns",
        "revenue",
        "cost",
        "margin",
        "uncosted_revenue",
        "recency_days",
        "tenure_days",
    ]
    return out[cols].sort_values("customer_id").reset_index(drop=True)


def normalise(frame: pd.DataFrame) -> pd.DataFrame:
    """Engine output made comparable: sorted by customer, dates as datetime64[s]."""
    out = frame.sort_values("customer_id").reset_index(drop=True).copy()
    for c in out.columns:
        if c in ("first_purchase", "last_purchase", "order_date"):
            out[c] = pd.to_datetime(out[c]).astype("datetime64[s]")
        elif c in ("recency_days", "tenure_days") and out[c].isna().any():
            out[c] = out[c].astype(np.float64)
        elif c in ("recency_days", "tenure_days"):
            out[c] = out[c].astype(np.int64)
    return out


@pytest.fixture(scope="session")
def as_of() -> dt.date:
    """The analysis date used with CDNOW: the last day of the log."""
    return AS_OF


@pytest.fixture(scope="session")
def summary_reference() -> Callable[[pd.DataFrame, dt.date], pd.DataFrame]:
    """The pandas reference for the customer summary, as a function."""
    return reference_summary


@pytest.fixture(scope="session")
def normalised() -> Callable[[pd.DataFrame], pd.DataFrame]:
    """Make an engine's summary comparable (see :func:`normalise`)."""
    return normalise


@pytest.fixture(scope="session")
def cdnow_reference(cdnow: pd.DataFrame) -> pd.DataFrame:
    return reference_summary(cdnow, AS_OF)


@pytest.fixture(scope="session")
def cdnow_summary(cdnow: pd.DataFrame) -> pd.DataFrame:
    """Our summary of CDNOW, computed on DuckDB (engines are compared elsewhere)."""
    from patron.analytics.summary import customer_summary

    table = _duckdb_loader(decimal=True)(cdnow)
    return normalise(customer_summary(table, as_of=AS_OF).execute())
