"""The figures of a Spark run from aggregates: what :func:`patron.analytics.report._figures`
computes from one row per customer, here from sums that come to the driver as small tables.

Concentration reads the customers' positions in the descending order of revenue (and of
profit, the pyramid's order when the basis is profit): a top share is a sum over the first
positions; the Gini coefficient is ``sum(cents * (position + 1))`` (the sum of the running
sums, exact in decimals); the Lorenz curve needs the running sum at two positions per point;
the share of customers giving 80% is found by narrowing a range of positions, a thousand
buckets at a time, until a thousand rows are left.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from patron.analytics.concentration import DEFAULT_TOP_SHARES, Concentration, top_counts
from patron.analytics.report import json_number, json_records, level_counts
from patron.analytics.segments import SEGMENT_CODES, SEGMENTS
from patron.analytics.tiers import PROFIT_GROUP_CODES, PROFIT_GROUPS, TIER_CODES, TIERS

__all__ = ["spark_figures"]

_BUCKETS = 1024
_TARGET = 0.8


def _measure(customers: Any, cents: Any, desc_pos: Any, n: int) -> dict[str, Any]:
    """Totals, top sums, Gini and Lorenz of one measure (cents, descending position)."""
    from pyspark.sql import functions as F

    clipped = F.greatest(cents, F.lit(0))
    counts = top_counts(n, DEFAULT_TOP_SHARES)
    grid = np.linspace(0.0, 1.0, 101)
    needed: set[int] = set()
    brackets = []
    for g in grid:
        i = min(math.floor(g * n), n)
        while i < n and (i + 1) / n <= g:
            i += 1
        while i > 0 and i / n > g:
            i -= 1
        brackets.append(i)
        needed.update((i, min(i + 1, n)))
    aggs = [
        F.sum(cents).alias("total"),
        F.sum(clipped).alias("clipped"),
        F.sum(clipped.cast("decimal(38,0)") * (desc_pos + 1)).alias("area"),
        F.count(F.when(cents < 0, 1)).alias("losers"),
    ]
    aggs += [F.sum(F.when(desc_pos < k, cents).otherwise(0)).alias(f"top{k}") for k in counts]
    # running sum of the m smallest clipped values: positions >= n - m in descending order
    aggs += [
        F.sum(F.when(desc_pos >= n - m, clipped).otherwise(0)).alias(f"low{m}") for m in needed
    ]
    row = customers.agg(*aggs).first().asDict()
    total = int(row["total"] or 0)
    clipped_total = int(row["clipped"] or 0)
    low = {m: int(row[f"low{m}"] or 0) for m in needed}
    if clipped_total > 0:
        y_at = {m: low[m] / clipped_total for m in needed}
    else:
        y_at = {m: m / max(n, 1) for m in needed}
    lorenz_y = []
    for g, i in zip(grid, brackets, strict=True):
        j = min(i + 1, n)
        xs = [i / max(n, 1), j / max(n, 1)]
        lorenz_y.append(float(np.interp(g, xs, [y_at[i], y_at[j]])))
    if n == 0 or clipped_total == 0:
        gini = 0.0
    else:
        area = 2.0 * float(int(row["area"])) - clipped_total
        gini = float(min(1.0, max(0.0, 1.0 - area / (n * clipped_total))))
    return {
        "total": total,
        "gini": gini,
        "top": [int(row[f"top{k}"] or 0) if k > 0 else 0 for k in counts],
        "counts": counts,
        "lorenz_y": lorenz_y,
        "losers": int(row["losers"]),
    }


def _share_for_target(customers: Any, cents: Any, desc_pos: Any, n: int, total: int) -> float:
    """concentration._share_for_target without the running sums in memory."""
    from pyspark.sql import functions as F

    if n == 0 or total <= 0:
        return math.nan
    goal = Fraction(str(_TARGET))
    lo, hi, base = 0, n, 0  # the first k with running(k) >= goal lies in (lo, hi]
    while hi - lo > _BUCKETS:
        width = hi - lo
        bucket = F.floor((desc_pos - lo) * _BUCKETS / F.lit(width)).cast("int")
        inside = customers.filter((desc_pos >= lo) & (desc_pos < hi))
        rows = inside.groupBy(bucket.alias("b")).agg(
            F.sum(cents).alias("s"), F.min(desc_pos).alias("first"), F.max(desc_pos).alias("last")
        )
        running = base
        found = False
        for r in sorted(rows.collect(), key=lambda r: int(r["b"])):
            after = running + int(r["s"])
            if after * goal.denominator >= goal.numerator * total:
                lo, hi, base, found = int(r["first"]), int(r["last"]) + 1, running, True
                break
            running = after
        if not found:  # pragma: no cover - the whole range reaches the total
            return 1.0
    tail = (
        customers.filter((desc_pos >= lo) & (desc_pos < hi))
        .select(desc_pos.alias("p"), cents.alias("c"))
        .orderBy("p")
        .collect()
    )
    running = base
    for r in tail:
        running += int(r["c"])
        if running * goal.denominator >= goal.numerator * total:
            return (int(r["p"]) + 1) / n
    return 1.0  # pragma: no cover


def _level_tables(customers: Any) -> dict[str, pd.DataFrame]:
    """profit_by_levels: per tier, segment and profit group, from grouped sums of cents."""
    from pyspark.sql import functions as F

    out = {}
    for key, column, order in (
        ("tier", "value_tier", TIER_CODES),
        ("segment", "segment", SEGMENT_CODES),
        ("group", "profit_group", PROFIT_GROUP_CODES),
    ):
        sums = {
            r["level"]: r
            for r in customers.groupBy(F.col(column).alias("level"))
            .agg(
                F.count(F.lit(1)).alias("customers"),
                F.sum("revenue_c").alias("revenue"),
                F.sum(F.coalesce(F.col("margin_c"), F.lit(0.0))).alias("margin"),
                F.sum(F.coalesce(F.col("cts_c"), F.lit(0.0))).alias("cost_to_serve"),
                F.sum(F.coalesce(F.col("profit_c"), F.lit(0.0))).alias("profit"),
                F.count(F.when(F.col("profit_c") < 0, 1)).alias("unprofitable"),
                F.count(F.when(F.col("margin_c").isNull(), 1)).alias("margin_unknown"),
            )
            .collect()
        }
        total_profit = float(sum(float(r["profit"] or 0) for r in sums.values()))
        rows = []
        for name in order:
            r = sums.get(name)
            count = int(r["customers"]) if r else 0
            s = {k: float(r[k] or 0) if r else 0.0 for k in ("revenue", "margin", "cost_to_serve")}
            profit = float(r["profit"] or 0) if r else 0.0
            rows.append(
                {
                    "level": name,
                    "customers": count,
                    "revenue": s["revenue"] / 100,
                    "margin": s["margin"] / 100,
                    "cost_to_serve": s["cost_to_serve"] / 100,
                    "profit": profit / 100,
                    "profit_per_customer": round(profit / count / 100, 2) if count else np.nan,
                    "profit_share": profit / total_profit if total_profit > 0 else np.nan,
                    "unprofitable": int(r["unprofitable"]) if r else 0,
                    "margin_unknown": int(r["margin_unknown"]) if r else 0,
                }
            )
        out[key] = pd.DataFrame(rows)
    return out


def spark_figures(customers: Any, basis: str, as_of: Any, n: int) -> dict[str, Any]:
    """``figures`` of :class:`~patron.analytics.report.ValueAnalysis` from the scored
    customers of :func:`patron.insights.spark_scores.score_customers`."""
    from pyspark.sql import functions as F

    rev_pos = F.lit(n - 1) - F.col("m_pos")  # descending revenue
    revenue = _measure(customers, F.col("revenue_c"), rev_pos, n)
    use_profit = basis == "profit"
    rows: dict[str, list[float]] = {
        "top_share": [float(s) for s in DEFAULT_TOP_SHARES],
        "customers": [float(k) for k in revenue["counts"]],
        "revenue": [t / 100 for t in revenue["top"]],
        "revenue_share": [
            t / revenue["total"] if revenue["total"] > 0 else math.nan for t in revenue["top"]
        ],
    }
    profit_cents = F.col("profit_c").cast("long")
    if use_profit:
        profit = _measure(customers, profit_cents, F.col("tier_pos"), n)
        rows["profit"] = [t / 100 for t in profit["top"]]
        rows["profit_share"] = [
            t / profit["total"] if profit["total"] > 0 else math.nan for t in profit["top"]
        ]
        total_profit = profit["total"] / 100
        gini_profit = profit["gini"]
        for_profit = _share_for_target(
            customers, profit_cents, F.col("tier_pos"), n, profit["total"]
        )
        losers = profit["losers"]
    else:
        rows["profit"] = [math.nan] * len(revenue["counts"])
        rows["profit_share"] = [math.nan] * len(revenue["counts"])
        total_profit = gini_profit = for_profit = math.nan
        losers = 0
    table = pd.DataFrame(rows)
    table["customers"] = table["customers"].astype(np.int64)
    report = Concentration(
        customers=n,
        total_revenue=revenue["total"] / 100,
        total_profit=total_profit,
        gini_revenue=revenue["gini"],
        gini_profit=gini_profit,
        top=table,
        target=_TARGET,
        customers_for_target_revenue=_share_for_target(
            customers, F.col("revenue_c"), rev_pos, n, revenue["total"]
        ),
        customers_for_target_profit=for_profit,
        loss_making_customers=losers,
    )
    top = report.top.set_index("top_share")
    tables = _level_tables(customers)
    by_tier, by_segment, by_group = tables["tier"], tables["segment"], tables["group"]
    heat = np.zeros((5, 5), dtype=np.int64)
    for r in customers.groupBy("r_score", "f_score").count().collect():
        heat[int(r["r_score"]) - 1, int(r["f_score"]) - 1] = int(r["count"])
    orders = int(customers.agg(F.sum("frequency").alias("o")).first()["o"] or 0)
    return {
        "as_of": as_of.isoformat(),
        "customers": n,
        "orders": orders,
        "revenue": float(revenue["total"]) / 100,
        "profit": json_number(report.total_profit),
        "value_basis": basis,
        "top20_revenue_share": json_number(top.loc[0.2, "revenue_share"]),
        "top20_profit_share": json_number(top.loc[0.2, "profit_share"]),
        "gini": json_number(report.gini_revenue),
        "gini_profit": json_number(report.gini_profit),
        "customers_for_80_revenue": json_number(report.customers_for_target_revenue),
        "customers_for_80_profit": json_number(report.customers_for_target_profit),
        "loss_making_customers": int(report.loss_making_customers),
        "concentration_statement": report.statement(),
        "top_shares": json_records(report.top),
        "lorenz": {
            "x": [round(float(v), 4) for v in np.linspace(0.0, 1.0, 101)],
            "y": [round(float(v), 6) for v in revenue["lorenz_y"]],
        },
        "tiers": level_counts(by_tier),
        "segments": level_counts(by_segment),
        "tier_table": json_records(by_tier),
        "segment_table": json_records(by_segment),
        "profit_groups": level_counts(by_group),
        "profit_group_table": json_records(by_group),
        "rf_heatmap": heat.tolist(),
        "labels": {
            "tiers": {t.code: t.label for t in TIERS},
            "profit_groups": {g.code: g.label for g in PROFIT_GROUPS},
            "segments": {s.code: {"label": s.label, "action": s.action} for s in SEGMENTS},
        },
    }
