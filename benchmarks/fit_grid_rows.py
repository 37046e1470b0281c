"""Approximate distinct CLV fit rows of a spark_scale.py data set, on the day and weekly grid.

A reconstruction in plain DuckDB SQL (completed orders only, purchase days per customer, a
holdout of 91 days before the last day), not Patron's code: its absolute counts differ from
Patron's own, its growth with the customers is what it is for (docs/operating.md, "Running on
a Spark cluster").

    python benchmarks/fit_grid_rows.py /work/spark_data/tx_10000000 /work/spark_data/tx_100000000
"""

from __future__ import annotations

import sys
import time

import duckdb


def week(expr: str) -> str:
    return f"7 * floor(({expr} + 3) / 7)"


def counts(folder: str) -> dict[str, int]:
    con = duckdb.connect(config={"memory_limit": "4GB", "threads": 2})
    con.execute(f"""
        create temp table pc as
        with days as (
            select customer_id, order_date d
            from read_parquet('{folder}/**/*.parquet', hive_partitioning = false)
            where status = 'completed' group by all
        ), m as (select max(d) m from days)
        select customer_id, count(*) n, min(d) f, max(d) l,
               sum(case when d <= m.m - 91 then 1 else 0 end) cal_n,
               max(case when d <= m.m - 91 then d end) cal_l,
               any_value(m.m) endd
        from days, m group by customer_id
    """)
    queries = {
        "customers": "select count(*) from pc",
        "final_days": "select count(*) from (select distinct n - 1, l - f, endd - f from pc)",
        "final_weeks": "select count(*) from (select distinct n - 1, "
        f"{week('(l - f)')}, {week('(endd - f)')} from pc)",
        "calibration_days": "select count(*) from (select distinct cal_n - 1, cal_l - f, "
        "(endd - 91) - f, n - cal_n from pc where cal_n > 0)",
        "calibration_weeks": "select count(*) from (select distinct cal_n - 1, "
        f"{week('(cal_l - f)')}, {week('((endd - 91) - f)')}, n - cal_n from pc where cal_n > 0)",
    }
    return {name: int(con.execute(sql).fetchone()[0]) for name, sql in queries.items()}


if __name__ == "__main__":
    for path in sys.argv[1:]:
        t0 = time.perf_counter()
        print(path, counts(path), f"{time.perf_counter() - t0:.0f} s", flush=True)
