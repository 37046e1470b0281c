"""Per-customer scores on Spark: RFM, segments, tiers, profit groups and profit.

The same rules as :mod:`patron.analytics.report` (which scores one row per customer in
NumPy), written as Spark columns so that the customers never leave the cluster:

- a ranking is a *position* in a total order (value, then customer id ascending, both in
  code-point order as DuckDB and NumPy compare them). :func:`positions` sorts the customers
  across the cluster (a range-partitioned sort), numbers each partition's rows, and adds the
  row counts of the partitions before it: one small table of counts per partition comes to
  the driver, never the rows;
- money is whole cents (``bigint``) all the way, so sums and orders are exact on every
  engine; profit follows :func:`patron.analytics.profitability.customer_profit` cent for cent.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from patron.analytics.report import AnalysisSettings
from patron.analytics.segments import segment_codes
from patron.analytics.tiers import PROFIT_GROUP_CODES, SHARE_SLACK, TIER_CODES, cumulative_shares

__all__ = ["positions", "score_customers"]

_ROW_BITS = 33  # monotonically_increasing_id: partition index above bit 33, row below


def positions(frame: Any, order: list[Any], name: str) -> Any:
    """``frame`` with ``name``: each row's 0-based position in ``order`` (a total order).

    The sort is materialised once (a local checkpoint), so the partition counts and the
    numbering are read off the same sorted partitions.
    """
    from pyspark.sql import functions as F

    ranked = (
        frame.orderBy(*order).withColumn("__mid", F.monotonically_increasing_id()).localCheckpoint()
    )
    part = F.shiftright(F.col("__mid"), _ROW_BITS)
    counts = sorted(
        (int(r["p"]), int(r["n"]))
        for r in ranked.groupBy(part.alias("p")).agg(F.count(F.lit(1)).alias("n")).collect()
    )
    offsets: dict[int, int] = {}
    running = 0
    for index, count in counts:
        offsets[index] = running
        running += count
    offset = F.lit(0).cast("long")
    for index, start in offsets.items():
        offset = F.when(part == index, F.lit(start).cast("long")).otherwise(offset)
    local = F.col("__mid").bitwiseAND(F.lit((1 << _ROW_BITS) - 1))
    return ranked.withColumn(name, offset + local).drop("__mid")


def _quintile(position: Any, n: int) -> Any:
    from pyspark.sql import functions as F

    return (F.lit(1) + F.floor(position * 5 / F.lit(n))).cast("tinyint")


def _threshold(value: Any, cuts: tuple[float, ...], *, higher_is_better: bool) -> Any:
    """rfm.threshold_scores: 1 + count(cuts <= v); recency 5 - count(cuts < v), missing 1."""
    from pyspark.sql import functions as F

    if higher_is_better:
        count = sum((F.when(value >= F.lit(float(c)), 1).otherwise(0) for c in cuts), F.lit(0))
        return (F.lit(1) + count).cast("tinyint")
    count = sum((F.when(value > F.lit(float(c)), 1).otherwise(0) for c in cuts), F.lit(0))
    return F.when(value.isNull(), F.lit(1)).otherwise(F.lit(5) - count).cast("tinyint")


def _segment(r: Any, f: Any, m: Any) -> Any:
    """The segment code of each (R, F, M), from the 125 cells of the grid."""
    from pyspark.sql import functions as F

    cells = [(a, b, c) for a in range(1, 6) for b in range(1, 6) for c in range(1, 6)]
    codes = segment_codes(*(np.array(v) for v in zip(*cells, strict=True)))
    pairs: list[Any] = []
    for (a, b, c), code in zip(cells, codes, strict=True):
        pairs += [F.lit(a * 100 + b * 10 + c), F.lit(str(code))]
    return F.create_map(*pairs)[r.cast("int") * 100 + f.cast("int") * 10 + m.cast("int")]


def _profit(summary: Any, settings: AnalysisSettings, *, contacts: bool) -> dict[str, Any]:
    """customer_profit's columns in cents (bigint or double of whole cents); with
    ``contacts`` the summary has ``service_contacts`` and ``messages`` (null: none)."""
    from pyspark.sql import functions as F

    p = settings.profit

    def cents(column: str) -> Any:
        return F.round(F.col(column) * 100).cast("long")

    def rate_cents(value: float) -> float:
        return float(np.floor(value * 100 + 0.5))

    uncosted = F.coalesce(cents("uncosted_revenue"), F.lit(0))
    if p.default_margin_rate is None:
        estimated = F.when(uncosted == 0, F.lit(0.0))  # else unknown
    else:
        estimated = F.floor(uncosted * F.lit(float(p.default_margin_rate)) + 0.5).cast("double")
    margin = F.coalesce(cents("margin"), F.lit(0)).cast("double") + estimated
    tenure = F.col("tenure_days").cast("double")
    days = F.when(tenure.isNull(), F.lit(0.0)).otherwise(tenure + 1)
    account = F.floor(F.lit(rate_cents(p.per_account_per_year)) * days / 365 + 0.5)
    cost_to_serve = (
        F.col("orders").cast("double") * F.lit(rate_cents(p.per_order))
        + account.cast("double")
        + F.lit(rate_cents(p.acquisition))
    )
    if contacts:  # whole cents in doubles: exact in any order of the sum
        for column, rate in (
            ("service_contacts", p.per_service_contact),
            ("messages", p.per_message),
        ):
            count = F.coalesce(F.col(column).cast("double"), F.lit(0.0))
            cost_to_serve = cost_to_serve + count * F.lit(rate_cents(rate))
    return {"margin_c": margin, "cts_c": cost_to_serve, "profit_c": margin - cost_to_serve}


def score_customers(
    summary: Any, settings: AnalysisSettings, n: int, *, contacts: Any = None
) -> tuple[Any, str]:
    """Scores, segment, tier, profit group and profit of every customer of ``summary`` (the
    Spark frame of :func:`~patron.analytics.summary.customer_summary`, ``n`` rows).
    ``contacts`` (a Spark frame: ``customer_id``, ``service_contacts``, ``messages``, one row
    per customer) adds their cost to serve, as ``customer_profit``'s ``contacts``.

    Returns the customers (a checkpointed Spark frame with :data:`CUSTOMER_COLUMNS` and the
    cents and positions the figures read) and the value basis ("profit" or "revenue").
    """
    from pyspark.sql import functions as F

    cid = F.col("customer_id")
    if contacts is not None:
        counts = contacts.select("customer_id", "service_contacts", "messages")
        summary = summary.join(counts, on="customer_id", how="left")
    base = summary.select(
        "customer_id",
        F.col("recency_days").cast("long").alias("recency_days"),
        F.col("orders").cast("long").alias("frequency"),
        F.round(F.col("revenue") * 100).cast("long").alias("revenue_c"),
        F.round(F.col("cost") * 100).cast("long").alias("cost_c"),
        *(v.alias(k) for k, v in _profit(summary, settings, contacts=contacts is not None).items()),
    )
    unknown = base.agg(F.count(F.when(F.col("profit_c").isNull(), 1)).alias("u")).collect()[0]
    basis = "profit" if int(unknown["u"]) == 0 else "revenue"
    value_c = F.col("profit_c") if basis == "profit" else F.col("revenue_c").cast("double")
    base = base.withColumn("value_c", value_c)
    # The pyramid's order (best first) is also the descending order of the basis' cents.
    ranked = positions(base, [F.col("value_c").desc(), cid.asc()], "tier_pos")
    if settings.rfm_method == "quintile":
        ranked = positions(ranked, [F.col("frequency").asc(), cid.asc()], "f_pos")
        ranked = positions(ranked, [F.col("revenue_c").asc(), cid.asc()], "m_pos")
        ranked = positions(ranked, [(-F.col("recency_days")).asc_nulls_first(), cid.asc()], "r_pos")
        r, f, m = (_quintile(F.col(f"{k}_pos"), n) for k in "rfm")
    else:
        cuts = settings.rfm_thresholds
        assert cuts is not None  # AnalysisSettings checks it
        ranked = positions(ranked, [F.col("revenue_c").asc(), cid.asc()], "m_pos")
        r = _threshold(F.col("recency_days"), cuts.recency, higher_is_better=False)
        f = _threshold(F.col("frequency"), cuts.frequency, higher_is_better=True)
        m = _threshold(F.col("revenue_c") / 100, cuts.monetary, higher_is_better=True)
    positive = int(ranked.agg(F.count(F.when(F.col("value_c") > 0, 1)).alias("p")).first()["p"])
    tier = _tier(F.col("tier_pos"), F.col("value_c"), settings, n)
    group = _profit_group(F.col("tier_pos"), positive)
    scored = ranked.select("*", r.alias("r_score"), f.alias("f_score"), m.alias("m_score")).select(
        "*",
        _segment(F.col("r_score"), F.col("f_score"), F.col("m_score")).alias("segment"),
        tier.alias("value_tier"),
        group.alias("profit_group"),
    )
    customers = scored.select(
        "customer_id",
        "recency_days",
        "frequency",
        (F.col("revenue_c") / 100).alias("monetary"),
        "r_score",
        "f_score",
        "m_score",
        "segment",
        "value_tier",
        "profit_group",
        (F.col("revenue_c") / 100).alias("revenue"),
        (F.col("cost_c") / 100).alias("cost"),
        (F.col("margin_c") / 100).alias("margin"),
        (F.col("cts_c") / 100).alias("cost_to_serve"),
        (F.col("profit_c") / 100).alias("profit"),
        "revenue_c",
        "margin_c",
        "cts_c",
        "profit_c",
        "value_c",
        "tier_pos",
        "m_pos",
    )
    return customers.localCheckpoint(), basis


def _codes(index: Any, codes: tuple[str, ...]) -> Any:
    from pyspark.sql import functions as F

    return F.element_at(F.array(*(F.lit(c) for c in codes)), (index + 1).cast("int"))


def _ends(n: int, shares: tuple[float, ...]) -> list[int]:
    """tiers._cut_positions' ends: ceil(c * n), forgiving float noise in the shares."""
    return [math.ceil(c * n - SHARE_SLACK) for c in cumulative_shares(shares, len(shares))]


def _tier(position: Any, value_c: Any, settings: AnalysisSettings, n: int) -> Any:
    from pyspark.sql import functions as F

    cuts = settings.tier_cuts()
    if cuts.shares is not None:
        ends = _ends(n, cuts.shares)
        index = sum((F.when(position >= F.lit(e), 1).otherwise(0) for e in ends), F.lit(0))
    else:
        assert cuts.thresholds is not None
        value = value_c / 100
        k = len(cuts.thresholds)  # k - count(thresholds <= value)
        count = sum(
            (F.when(F.lit(float(t)) <= value, 1).otherwise(0) for t in cuts.thresholds), F.lit(0)
        )
        index = F.lit(k) - count
    return _codes(index, TIER_CODES)


def _profit_group(position: Any, positive: int) -> Any:
    """tiers.profit_group_indices with its default shares, on the pyramid's order."""
    from pyspark.sql import functions as F

    ends = _ends(positive, (0.2, 0.3, 0.5))
    index = sum((F.when(position >= F.lit(e), 1).otherwise(0) for e in ends), F.lit(0))
    return _codes(F.when(position < positive, index).otherwise(F.lit(3)), PROFIT_GROUP_CODES)
