"""``patron analyze --source PATH --engine spark``: the value analysis on Spark.

Every per-transaction and per-customer step runs in Spark: the reading and its counts
(:mod:`patron.insights.spark_source`), the monthly KPIs and cohorts and the customer summary
(the same Ibis expressions as DuckDB's file mode, on Ibis's PySpark backend), the scores,
tiers and profit (:mod:`patron.insights.spark_scores`), the figures from aggregates
(:mod:`patron.insights.spark_figures`) and the lifetime value
(:mod:`patron.insights.spark_predict`). Only small tables come to the driver; the customers
are written by Spark as Parquet under ``OUT/customers/`` and ``OUT/summary.json`` holds the
figures, as in file mode. No Django here.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from patron.analytics.predictive import PREDICTION_COLUMNS
from patron.analytics.report import (
    CUSTOMER_COLUMNS,
    NO_TRANSACTIONS,
    SUMMARY_NEEDED,
    AnalysisSettings,
    ValueAnalysis,
    default_as_of,
    json_number,
    json_records,
)
from patron.insights.spark_source import SparkTransactions

__all__ = ["SparkAnalysis", "analyze_on_spark"]

Step = Callable[[str], None]


@dataclass(frozen=True)
class SparkAnalysis:
    source: SparkTransactions
    analysis: ValueAnalysis  # figures only: ``customers`` is empty, they are in ``customers_path``
    customers_path: Path | None


def analyze_on_spark(
    path: str | Path,
    *,
    as_of: dt.date | None = None,
    settings: AnalysisSettings | None = None,
    mapping: Mapping[str, str] | None = None,
    skip_bad: bool = False,
    out: Path | None = None,
    master: str | None = None,
    spark: Any = None,
    step: Step | None = None,
    contract: bool = False,
    contacts: str | Path | None = None,
) -> SparkAnalysis:
    """Read, analyse and (with ``out``) write the customers of ``path`` on Spark.

    With ``contract`` ``path`` is a Parquet data set Patron wrote in the analytics contract
    (a stored run's orders: :func:`~patron.insights.spark_source.read_contract_transactions`),
    read as it is; otherwise a file or directory read and validated as file mode does.
    ``contacts`` is a Parquet data set of service contacts and messages per customer
    (``customer_id``, ``service_contacts``, ``messages``) for their cost to serve.

    Raises
    ------
    IngestError, AnalysisSourceError
        As :func:`patron.insights.spark_source.read_spark_transactions`.
    ValueError
        No transaction on or before ``as_of``, or a setting Spark does not run (B2B RFM).
    """
    import ibis
    import pandas as pd

    from patron.analytics.kpis import kpis_and_cohorts
    from patron.analytics.summary import customer_summary
    from patron.insights.file_rows import in_contract
    from patron.insights.spark_figures import spark_figures
    from patron.insights.spark_predict import predict_on_spark, prediction_inputs, score_figures
    from patron.insights.spark_scores import score_customers
    from patron.insights.spark_session import spark_session
    from patron.insights.spark_source import read_contract_transactions, read_spark_transactions

    settings = settings or AnalysisSettings()
    if settings.rfm_variant != "standard":
        raise ValueError("the B2B RFM variant does not run on Spark yet; use the DuckDB engine")
    say = step or (lambda _name: None)
    say("Starting Spark")
    spark = spark or spark_session(master)
    con = ibis.pyspark.connect(spark)
    say("Reading and validating")
    if contract:
        source = read_contract_transactions(spark, path)
    else:
        source = read_spark_transactions(spark, path, mapping=mapping, skip_bad=skip_bad)
    view = f"patron_transactions_{uuid.uuid4().hex[:8]}"
    try:
        source.frame.createOrReplaceTempView(view)
        transactions = in_contract(
            con.table(view), has_order_id=source.has_order_id, has_cost=source.has_cost
        )
        if as_of is None:
            say("Finding the last purchase")
            as_of = default_as_of(transactions)
        figures_kpis: dict[str, Any] = {}
        kpis = cohorts = None
        if settings.kpis:
            say("Monthly KPIs")
            kpis, cohort_table = kpis_and_cohorts(
                transactions, as_of=as_of, lost_after_days=settings.lost_after_days
            )
            cohorts = cohort_table.shares
            figures_kpis["kpis"] = json_records(kpis)
            figures_kpis["cohorts"] = {
                "months": [d.isoformat() for d in cohorts.index],
                "shares": [[json_number(round(v, 4)) for v in row] for row in cohorts.to_numpy()],
            }
        say("Summarising customers")
        summary = spark.sql(
            con.compile(customer_summary(transactions, as_of=as_of, columns=SUMMARY_NEEDED))
        ).localCheckpoint()
        n = summary.count()
        if n == 0:
            raise ValueError(NO_TRANSACTIONS.format(as_of=as_of))
        say("Scoring customers")
        counts = spark.read.parquet(str(contacts)) if contacts is not None else None
        customers, basis = score_customers(summary, settings, n, contacts=counts)
        figures = spark_figures(customers, basis, as_of, n)
        figures.update(figures_kpis)
        figures["settings"] = settings.as_dict()
        say("Predicting value")
        inputs = prediction_inputs(spark, con, transactions, as_of)
        rate, rate_basis = _margin_rate(customers, settings)
        predictions, predictive = predict_on_spark(
            spark, con, transactions, inputs, as_of=as_of, margin_rate=rate, margin_basis=rate_basis
        )
        written = None
        if out is not None:
            say("Writing customers")
            from pyspark.sql import functions as F

            table = customers.select(*CUSTOMER_COLUMNS)
            if predictions is not None:
                table = table.join(predictions, on="customer_id", how="left")
            else:
                for name in PREDICTION_COLUMNS:
                    kind = "string" if name.startswith("risk_l") or "reasons" in name else "double"
                    table = table.withColumn(name, F.lit(None).cast(kind))
            written = Path(out) / "customers"
            table.select(*CUSTOMER_COLUMNS, *PREDICTION_COLUMNS).write.mode("overwrite").parquet(
                str(written)
            )
            if predictions is not None:
                predictive = score_figures(spark.read.parquet(str(written)), predictive)
        elif predictions is not None:
            scored = customers.select(*CUSTOMER_COLUMNS).join(predictions, "customer_id", "left")
            predictive = score_figures(scored, predictive)
        figures["predictive"] = predictive
        analysis = ValueAnalysis(
            as_of=as_of,
            settings=settings,
            customers=pd.DataFrame(columns=list(CUSTOMER_COLUMNS)),
            figures=figures,
            kpis=kpis,
            cohorts=cohorts,
        )
    finally:
        spark.catalog.dropTempView(view)
        source.release()
    return SparkAnalysis(source=source, analysis=analysis, customers_path=written)


def _margin_rate(customers: Any, settings: AnalysisSettings) -> tuple[float, str]:
    """runs._margin_rate from two sums: the setting, else the data's margin share, else 1."""
    from pyspark.sql import functions as F

    rate = settings.profit.default_margin_rate
    if rate is not None:
        return float(rate), "setting"
    known = customers.filter(F.col("margin_c").isNotNull())
    row = known.agg(
        F.count(F.lit(1)).alias("n"),
        F.sum("margin_c").alias("m"),
        F.sum("revenue_c").alias("r"),
    ).first()
    total = float(row["r"] or 0) / 100
    if int(row["n"]) and total > 0:
        return float(min(1.0, max(0.0, (float(row["m"]) / 100) / total))), "data"
    return 1.0, "revenue"
