"""The per-customer windows of `patron campaigns evaluate` (Arrow hash lookup + bincount)
against the SQL they replaced, run in DuckDB on the same random rows: orders with several
lines, returns, missing order ids, costs and dates, a control without a contact day, customers
without orders and orders of customers not in the campaign."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from patron.insights.campaign_files import per_customer

REFERENCE = """
SELECT c.customer_id, c.treated,
  coalesce(sum(t.amount_cents) FILTER (WHERE t.order_date >= c.contacted_on
      AND t.order_date < c.contacted_on + {window}), 0) AS spend_cents,
  coalesce(sum(t.cost_cents) FILTER (WHERE t.order_date >= c.contacted_on
      AND t.order_date < c.contacted_on + {window}), 0) AS cost_cents,
  {orders} FILTER (WHERE NOT coalesce(t.is_return, false) AND t.order_date >= c.contacted_on
      AND t.order_date < c.contacted_on + {window}) AS orders,
  coalesce(sum(t.amount_cents) FILTER (WHERE t.order_date < c.contacted_on
      AND t.order_date >= c.contacted_on - {pre}), 0) AS pre_cents
FROM contacts c LEFT JOIN transactions t USING (customer_id)
GROUP BY c.line, c.customer_id, c.treated
ORDER BY c.line
"""


def _tables(seed: int, with_ids: bool) -> tuple[pa.Table, pa.Table]:
    rng = np.random.default_rng(seed)
    n, m = 300, 4000
    day0 = np.datetime64("2024-06-01")
    contact = (day0 + rng.integers(0, 9, n).astype("timedelta64[D]")).astype(object)
    contact[rng.random(n) < 0.05] = None
    contacts = pa.table(
        {
            "customer_id": [f"K{i}" for i in range(n)],
            "treated": rng.random(n) < 0.8,
            "contacted_on": pa.array(contact, pa.date32()),
            "line": np.arange(n),
        }
    )
    who = rng.integers(0, n + 40, m)  # some customers are not in the campaign
    date = (day0 + rng.integers(-120, 60, m).astype("timedelta64[D]")).astype(object)
    date[rng.random(m) < 0.01] = None
    order = [f"O{x}" for x in rng.integers(0, m // 2, m)]  # lines share order ids
    if with_ids:
        order = [None if r < 0.03 else o for o, r in zip(order, rng.random(m), strict=True)]
    cost = rng.integers(0, 5000, m).astype(object)
    cost[rng.random(m) < 0.3] = None
    transactions = pa.table(
        {
            "customer_id": [f"K{i}" for i in who],
            "order_date": pa.array(date, pa.date32()),
            "order_id": pa.array(order if with_ids else [None] * m, pa.string()),
            "amount_cents": rng.integers(-3000, 20000, m),
            "cost_cents": pa.array(cost, pa.int64()),
            "is_return": rng.random(m) < 0.1,
        }
    )
    return contacts, transactions


@pytest.mark.parametrize(("seed", "with_ids"), [(1, True), (2, False), (3, True)])
def test_windows_equal_the_sql_reference(seed: int, with_ids: bool) -> None:
    contacts, transactions = _tables(seed, with_ids)
    ours = per_customer(contacts, transactions, window_days=30, pre_days=45)
    orders = "count(DISTINCT t.order_id)" if with_ids else "count(t.order_date)"
    con = duckdb.connect()
    con.register("contacts", contacts)
    con.register("transactions", transactions)
    reference = con.sql(REFERENCE.format(window=30, pre=45, orders=orders)).to_arrow_table()
    for column in ("spend_cents", "cost_cents", "orders", "pre_cents"):
        np.testing.assert_array_equal(ours[column], reference[column].to_numpy().astype(float))
    np.testing.assert_array_equal(ours["treated"], reference["treated"].to_numpy())
    assert ours["orders"].sum() > 0 and ours["pre_cents"].any()


def test_contact_times_parsed_once_per_distinct_text_equal_a_cell_by_cell_parse() -> None:
    from patron.ingest import cleaning
    from patron.ingest.date_columns import second_formats
    from patron.insights.campaign_files import _parse_contact_times

    tz = "Asia/Shanghai"
    cells = ["2024-03-01 10:00", "2024/3/2 9:30", None, "not a time", "2024-03-01 10:00"] * 40
    raw = pa.array(cells, pa.string())
    once = _parse_contact_times(raw, tz)  # 4 distinct texts for 200 cells
    every = second_formats(  # every cell, as the reader did before
        cleaning.parse_datetime(raw, fmt=None, tz=tz),
        raw,
        parse=lambda v, fmt: cleaning.parse_datetime(v, fmt=fmt, tz=tz),
    )
    assert once.values.to_pylist() == every.values.to_pylist()
    assert once.invalid.tolist() == every.invalid.tolist()
    assert once.invalid.tolist() == [False, False, False, True, False] * 40
    assert once.values[1].is_valid  # the cell in an unambiguous format of its own is read
