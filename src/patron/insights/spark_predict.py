"""Lifetime value on Spark: fitted on distinct rows with their counts, scored in Spark.

The models' likelihoods depend on a customer only through (x, t_x, T) (and, for the spend
model, the repeat count and mean repeat spend), so Spark groups the customers into distinct
rows with their counts and only those rows come to the driver (:mod:`patron.analytics.clv`
fits weighted rows exactly as it fits the same rows repeated). The model is chosen on the
holdout the same way (:func:`patron.insights.prediction_inputs.model_choice` with weights).
Every customer is then scored in Spark, a partition at a time, by
:func:`patron.analytics.predictive.score_value`: the driver never holds a customer.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from patron.analytics.fit_rows import FIT_MAX_ROWS, GRID_WIDTHS, fit_rows
from patron.analytics.predictive import (
    PREDICTION_COLUMNS,
    PredictionError,
    PredictiveSettings,
    fit_value_models,
    score_value,
)
from patron.analytics.purchase_models import FREQUENCY_BINS, RECENCY_BINS, PAliveGrid
from patron.insights.prediction_inputs import (
    HOLDOUT_DAYS,
    model_choice,
    predictive_days,
    repeat_days_by_day,
)

__all__ = ["predict_on_spark", "prediction_inputs"]

_EPOCH = dt.date(1970, 1, 1)
_SCHEMA = (
    "customer_id string, p_alive double, expected_purchases double, clv double, "
    "value_at_risk double, risk_level string, risk_score double, risk_reasons_en string, "
    "risk_reasons_zh string"
)


def prediction_inputs(spark: Any, con: Any, transactions: Any, as_of: dt.date) -> Any:
    """:func:`patron.insights.prediction_inputs.predictive_inputs` as a Spark frame (not
    collected), with day numbers: ``first_day``, ``last_day``, ``cal_last_day``."""
    from pyspark.sql import functions as F

    _days, per_customer = predictive_days(transactions, as_of=as_of)
    frame = spark.sql(con.compile(per_customer))
    n = F.col("purchase_days").cast("double")
    total = F.col("total_cents").cast("double") / 100
    repeat = total - F.col("first_cents").cast("double") / 100
    epoch = F.lit(_EPOCH)
    return frame.select(
        "customer_id",
        F.col("purchase_days").cast("long").alias("purchase_days"),
        F.datediff("first_purchase", epoch).alias("first_day"),
        F.datediff("last_purchase", epoch).alias("last_day"),
        F.col("cal_days").cast("long").alias("cal_days"),
        F.datediff("cal_last", epoch).alias("cal_last_day"),
        F.when(n > 1, repeat / F.greatest(n - 1, F.lit(1.0)))
        .otherwise(0.0)
        .alias("repeat_monetary"),
        (total / n).alias("average_spend"),
    ).localCheckpoint()


def _choice(spark: Any, con: Any, transactions: Any, inputs: Any, as_of: dt.date) -> dict[str, Any]:
    from pyspark.sql import functions as F

    births = inputs.groupBy("first_day").count().orderBy("first_day").toPandas()
    cal_end = (as_of - dt.timedelta(days=HOLDOUT_DAYS) - _EPOCH).days
    rows, grid_days = _fit_rows(
        inputs.filter(F.col("cal_days") > 0),
        (F.col("cal_days") - 1).cast("int").alias("x"),
        (F.col("cal_last_day") - F.col("first_day")).cast("int").alias("span"),
        (F.lit(cal_end) - F.col("first_day")).cast("int").alias("age"),
        (F.col("purchase_days") - F.col("cal_days")).cast("int").alias("holdout"),
    )
    born = (births["first_day"].to_numpy(dtype=np.int64), births["count"].to_numpy(dtype=np.int64))
    # purchase days by day, less the first ones: the tracking curve's input (one row per day)
    days, _per_customer = predictive_days(transactions, as_of=as_of)
    by_day = spark.sql(
        con.compile(days.group_by("order_date").aggregate(days=days.count()))
    ).toPandas()
    repeat_days = None
    if len(by_day):
        repeat_days = repeat_days_by_day(
            (
                np.array([(d - _EPOCH).days for d in by_day["order_date"]], dtype=np.int64),
                by_day["days"].to_numpy(dtype=np.int64),
            ),
            born,
        )
    return model_choice(
        as_of=as_of,
        holdout=HOLDOUT_DAYS,
        births=born,
        calibration=(
            rows["x"].to_numpy(dtype=np.int64),
            rows["span"].to_numpy(dtype=np.int64),
            rows["age"].to_numpy(dtype=np.int64),
            rows["holdout"].to_numpy(dtype=np.int64),
        ),
        repeats=repeat_days,
        weights=rows["count"].to_numpy(dtype=np.float64),
        grid_days=grid_days,
    )


def predict_on_spark(
    spark: Any,
    con: Any,
    transactions: Any,
    inputs: Any,
    *,
    as_of: dt.date,
    margin_rate: float,
    margin_basis: str,
) -> tuple[Any | None, dict[str, Any]]:
    """Predictions per customer (a Spark frame keyed by ``customer_id``, not collected) and
    ``figures["predictive"]`` but for what needs the scores (see :func:`score_figures`); a
    fit that fails gives ``None`` and ``{"skipped": True, "reason": ...}``."""
    from pyspark.sql import functions as F

    choice = _choice(spark, con, transactions, inputs, as_of)
    end = (as_of - _EPOCH).days
    settings = PredictiveSettings(margin_rate=margin_rate)
    distinct, grid_days = _fit_rows(
        inputs,
        (F.col("purchase_days") - 1).cast("int").alias("x"),
        (F.col("last_day") - F.col("first_day")).cast("int").alias("span"),
        (F.lit(end) - F.col("first_day")).cast("int").alias("age"),
    )
    spend = _spend_rows(inputs)
    usable = inputs.filter(~F.isnan("average_spend") & (F.col("average_spend") > 0))
    population = usable.agg(F.avg("average_spend").alias("a")).first()["a"]
    try:
        if not len(distinct):
            raise PredictionError("there are no customers with a purchase")
        rows = fit_rows(
            [distinct[c].to_numpy() for c in ("x", "span", "age")],
            distinct["count"].to_numpy(dtype=np.float64),
            grid_days=grid_days,
        )
        x, tx, big_t = rows.weeks()
        models = fit_value_models(
            x,
            tx,
            big_t,
            weights=rows.weights,
            grid=rows.grid,
            gg_frequency=spend["x"].to_numpy(dtype=np.float64),
            gg_monetary=spend["m"].to_numpy(dtype=np.float64),
            gg_weights=spend["count"].to_numpy(dtype=np.float64),
            population_spend=float(population) if population is not None else 0.0,
            end_day=end,
            settings=settings,
            purchase_model=choice["chosen"],
        )
    except (PredictionError, ValueError) as error:
        return None, {"skipped": True, "reason": str(error), "model_choice": choice}

    def score(batches: Any) -> Any:
        for frame in batches:
            out = score_value(
                models,
                frame["purchase_days"].to_numpy(dtype=np.float64),
                frame["first_day"].to_numpy(dtype=np.int64),
                frame["last_day"].to_numpy(dtype=np.int64),
                frame["repeat_monetary"].to_numpy(dtype=np.float64),
                average_spend=frame["average_spend"].to_numpy(dtype=np.float64),
            )
            out.insert(0, "customer_id", frame["customer_id"].to_numpy())
            yield out

    predictions = inputs.select(
        "customer_id", "purchase_days", "first_day", "last_day", "repeat_monetary", "average_spend"
    ).mapInPandas(score, schema=_SCHEMA)
    figures = {
        "skipped": False,
        "params": models.params,
        "model_choice": choice,
        "margin_rate": margin_rate,
        "margin_basis": margin_basis,
        "customers": int(distinct["count"].sum()),
    }
    return predictions, figures


def _fit_rows(customers: Any, x: Any, span: Any, age: Any, *more: Any) -> tuple[Any, int]:
    """The purchase models' rows (``x``, ``span``, ``age`` in days, then ``more``) grouped in
    Spark with their counts, as a pandas frame, and the grid's width in days:
    :func:`patron.analytics.fit_rows.fit_rows`'s rule applied here (the finest grid with at
    most :data:`~patron.analytics.fit_rows.FIT_MAX_ROWS` rows), so that the driver receives a
    bounded number of rows however many customers there are."""
    from pyspark.sql import functions as F

    count = F.count(F.lit(1)).cast("int").alias("count")
    exact = customers.groupBy(x, span, age, *more).agg(count).persist()
    try:
        for width in GRID_WIDTHS:
            rows = exact
            if width > 1:
                keys = [F.col("x"), _on_grid("span", width), _on_grid("age", width)]
                keys += [F.col(c) for c in exact.columns[3:-1]]
                rows = exact.groupBy(*keys).agg(F.sum("count").cast("int").alias("count"))
            if rows.count() <= FIT_MAX_ROWS:
                break
        return rows.toPandas(), width
    finally:
        exact.unpersist()


def _on_grid(name: str, width: int) -> Any:
    """:func:`patron.analytics.fit_rows.on_grid` of the column ``name`` in Spark SQL. The
    floor of a double quotient of two whole numbers is exact: a quotient that is not whole
    lies at least 1/width from the next whole number, far above a double's rounding."""
    from pyspark.sql import functions as F

    days = F.col(name).cast("long")
    return (
        (F.floor((days + F.lit(width // 2)) / F.lit(width)) * F.lit(width)).cast("int").alias(name)
    )


#: Most distinct (repeat count, mean repeat spend) rows the spend model is fitted on.
SPEND_MAX_ROWS = 500_000


def _spend_rows(inputs: Any) -> Any:
    """The Gamma-Gamma's input as distinct (x, m) rows with counts. Mean spends are nearly
    all distinct, so beyond :data:`SPEND_MAX_ROWS` rows the fit takes a fixed hash sample of
    at most that many repeat customers (the same on every run): the driver's memory stays
    bounded. Below it (every test set, and DuckDB's size range) the fit is exact."""
    from pyspark.sql import functions as F

    repeat = inputs.filter(
        (F.col("purchase_days") > 1) & ~F.isnan("repeat_monetary") & (F.col("repeat_monetary") > 0)
    )
    rows = repeat.groupBy(
        (F.col("purchase_days") - 1).cast("int").alias("x"), F.col("repeat_monetary").alias("m")
    ).agg(F.count(F.lit(1)).cast("int").alias("count"))
    sizes = rows.agg(F.count(F.lit(1)).alias("rows"), F.sum("count").alias("customers")).first()
    if sizes["rows"] > SPEND_MAX_ROWS:
        # a share of the customers, not of the rows: each sampled customer adds at most one
        # row, so the rows stay under the cap however many customers there are
        share = SPEND_MAX_ROWS / sizes["customers"]
        bucket = F.pmod(F.xxhash64("customer_id"), F.lit(1_000_000))
        sampled = repeat.filter(bucket < F.lit(int(share * 1_000_000)))
        rows = sampled.groupBy(
            (F.col("purchase_days") - 1).cast("int").alias("x"), F.col("repeat_monetary").alias("m")
        ).agg(F.count(F.lit(1)).cast("int").alias("count"))
    return rows.toPandas()


def _bin(column: Any, bins: tuple[tuple[str, int, int | None], ...]) -> Any:
    from pyspark.sql import functions as F

    index = F.lit(None).cast("int")
    for i, (_label, low, high) in reversed(list(enumerate(bins))):
        inside = column >= low if high is None else (column >= low) & (column <= high)
        index = F.when(inside, F.lit(i)).otherwise(index)
    return index


def score_figures(customers: Any, figures: dict[str, Any]) -> dict[str, Any]:
    """The predictive figures read off the scored customers (written Parquet): totals,
    risk levels and the P(alive) grid. Raises PredictionError as predict_value does when a
    prediction is not finite."""
    from pyspark.sql import functions as F

    scored = customers.filter(F.col("p_alive").isNotNull())
    row = scored.agg(
        F.sum("clv").alias("clv"),
        F.sum(F.when(F.col("risk_level") == "high", F.col("clv")).otherwise(0.0)).alias("risk"),
        F.sum("value_at_risk").alias("var"),
        *(F.count(F.when(F.col("risk_level") == k, 1)).alias(k) for k in ("high", "medium", "low")),
        *(
            F.count(F.when(F.isnan(c) | c.isin(float("inf"), float("-inf")), 1)).alias(f"bad_{n}")
            for n, c in ((n, F.col(n)) for n in PREDICTION_COLUMNS[:4])
        ),
    ).first()
    for name in PREDICTION_COLUMNS[:4]:
        if int(row[f"bad_{name}"]):
            raise PredictionError(f"{name} is not finite for some customers")
    fi = _bin(F.col("frequency"), FREQUENCY_BINS)
    ri = _bin(F.col("recency_days"), RECENCY_BINS)
    cells = (
        scored.filter(F.col("recency_days").isNotNull())
        .groupBy(fi.alias("fi"), ri.alias("ri"))
        .agg(F.count(F.lit(1)).alias("n"), F.sum("p_alive").alias("p"))
        .filter(F.col("fi").isNotNull() & F.col("ri").isNotNull())
        .collect()
    )
    shape = (len(FREQUENCY_BINS), len(RECENCY_BINS))
    count = np.zeros(shape, dtype=np.int64)
    total = np.zeros(shape)
    for c in cells:
        count[c["fi"], c["ri"]] = int(c["n"])
        total[c["fi"], c["ri"]] = float(c["p"])
    grid = PAliveGrid(
        rows=[label for label, _l, _h in FREQUENCY_BINS],
        columns=[label for label, _l, _h in RECENCY_BINS],
        mean=[
            [float(total[i, j] / count[i, j]) if count[i, j] else None for j in range(shape[1])]
            for i in range(shape[0])
        ],
        count=count.astype(int).tolist(),
    )
    return {
        **figures,
        "p_alive_grid": grid.as_dict(),
        "predicted_value": round(float(row["clv"] or 0.0), 2),
        "value_at_risk": round(float(row["risk"] or 0.0), 2),
        "value_at_risk_total": round(float(row["var"] or 0.0), 2),
        "risk_levels": {k: int(row[k]) for k in ("high", "medium", "low")},
    }
