"""The predictions' inputs and the purchase model a run predicts with.

Per customer, in one engine aggregation, the purchase days and their spend
(:func:`predictive_inputs`), with a holdout kept apart at the end of the history; the purchase
model chosen on that holdout (:func:`choose_model`, and :func:`model_choice` for an engine that
hands over distinct rows with their counts, Spark). :mod:`patron.insights.runs` predicts with
them; Spark builds the same expressions (:func:`predictive_days`) in
:mod:`patron.insights.spark_predict`. No Django here.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import numpy as np
    import pandas as pd
    from numpy.typing import NDArray

#: Days kept apart at the end of the history to choose the purchase model on.
HOLDOUT_DAYS = 91
#: Least calibration period before the holdout, in days.
MIN_CALIBRATION_DAYS = 28


def predictive_days(
    transactions: ir.Table, *, as_of: dt.date, holdout_days: int = HOLDOUT_DAYS
) -> tuple[ir.Table, ir.Table]:
    """The engine expressions behind :func:`predictive_inputs` (DuckDB) and the Spark run's
    prediction inputs: purchase days per customer (``days``: ``customer_id``, ``order_date``,
    ``spend``) and their per-customer aggregate, not yet executed."""
    days = purchase_days(transactions, as_of=as_of)
    return days, days_per_customer(days, as_of=as_of, holdout_days=holdout_days)


def purchase_days(transactions: ir.Table, *, as_of: dt.date) -> ir.Table:
    """Purchase days per customer (``customer_id``, ``order_date``, ``spend``), not yet
    executed."""
    from patron.analytics.summary import prepare_transactions

    t = prepare_transactions(transactions, as_of=as_of)
    buys = t.filter(~t.is_return)
    return buys.group_by(["customer_id", "order_date"]).aggregate(spend=buys.amount_cents.sum())


def days_per_customer(
    days: ir.Table, *, as_of: dt.date, holdout_days: int = HOLDOUT_DAYS
) -> ir.Table:
    """The per-customer aggregate of :func:`purchase_days`, not yet executed.

    The first day's spend is joined from the days on the customer and first date (one row a
    day): a window over every purchase day for the customer's first day took as long as
    grouping the rows (10M rows: ~2 s), and an arg-min aggregate is not one on every engine
    (SQLite's picks the row of another min or max of the same query)."""
    import ibis

    in_cal = days.order_date <= ibis.literal(as_of - dt.timedelta(days=holdout_days))
    per_customer = days.group_by("customer_id").aggregate(
        purchase_days=days.count(),
        first_purchase=days.order_date.min(),
        last_purchase=days.order_date.max(),
        total_cents=days.spend.sum(),
        cal_days=ibis.ifelse(in_cal, 1, 0).sum(),
        cal_last=ibis.ifelse(in_cal, days.order_date, ibis.null()).max(),
    )
    first = days.select("customer_id", first_purchase=days.order_date, first_cents=days.spend)
    return per_customer.join(first, ["customer_id", "first_purchase"]).select(
        "customer_id",
        "purchase_days",
        "first_purchase",
        "last_purchase",
        "total_cents",
        "first_cents",
        "cal_days",
        "cal_last",
    )


def repeat_days_by_day(
    day_counts: tuple[Any, Any], births: tuple[Any, Any]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Repeat purchase days by day (day numbers, count; days with none left out): each day's
    purchase days less the customers first seen that day, whose first purchase it is.

    ``day_counts`` and ``births`` are (day numbers, count) pairs, each day at most once in
    each."""
    import numpy as np

    days, counts = (np.asarray(v, dtype=np.int64) for v in day_counts)
    born_days, born = (np.asarray(v, dtype=np.int64) for v in births)
    order = np.argsort(born_days, kind="stable")
    born_days, born = born_days[order], born[order]
    at = np.searchsorted(born_days, days)
    found = at < born_days.shape[0]
    found[found] = born_days[at[found]] == days[found]
    repeats = counts.copy()
    repeats[found] -= born[at[found]]
    keep = repeats > 0
    return days[keep], repeats[keep]


def predictive_inputs(
    transactions: ir.Table,
    *,
    as_of: dt.date,
    holdout_days: int = HOLDOUT_DAYS,
    materialize: bool = False,
    days: ir.Table | None = None,
) -> pd.DataFrame:
    """Per customer, in one engine aggregation: the model input of the predictions.

    Columns ``customer_id``, ``purchase_days`` (distinct days with a purchase that is not a
    return), ``first_purchase``, ``last_purchase`` (dates), ``repeat_monetary`` (mean spend of
    the purchase days after the first; 0 without) and ``average_spend`` (mean spend per
    purchase day); for the holdout check, with the calibration period ending ``holdout_days``
    before ``as_of``: ``cal_days`` (purchase days up to then), ``cal_last`` (the last of them,
    missing without) and ``holdout_days`` (purchase days after). Customers with returns only
    are not there. ``frame.attrs["repeat_by_day"]`` holds the repeat purchase days of everyone
    per day (``day``, ``repeats``), the tracking curve's input.

    With ``materialize`` (an in-memory DuckDB: file mode) the purchase days are computed once
    into a temporary table that both aggregates read: grouping the rows by customer and day
    is most of the cost, and each query would otherwise group them again (1M rows: ~2.6 s ->
    ~1.4 s). With ``days`` (:func:`patron.analytics.kpis.purchase_days` of ``transactions`` as
    of ``as_of``, materialised by the caller for the KPIs too) nothing is grouped again.
    """
    import numpy as np
    import pandas as pd

    own = days is None and materialize
    if days is None:
        days = purchase_days(transactions, as_of=as_of)
        if materialize:
            days = days.cache()
    else:
        days = days.select("customer_id", "order_date", "spend")
    try:
        per_customer = days_per_customer(days, as_of=as_of, holdout_days=holdout_days)
        by_day = days.group_by("order_date").aggregate(days=days.count())
        frame = per_customer.to_pyarrow().to_pandas(date_as_object=False)
        day_counts = by_day.to_pyarrow()
    finally:
        if own:
            days.release()
    births = np.unique(_day_numbers(frame["first_purchase"]), return_counts=True)
    repeat_day, repeats = repeat_days_by_day(
        (_day_numbers(day_counts["order_date"]), day_counts["days"].to_numpy()), births
    )
    repeat_by_day = pd.DataFrame(
        {"day": repeat_day.astype("datetime64[D]").astype("datetime64[s]"), "repeats": repeats}
    )
    n_days = frame["purchase_days"].to_numpy(dtype=np.float64)
    total = frame["total_cents"].to_numpy(dtype=np.float64) / 100
    repeat = total - frame["first_cents"].to_numpy(dtype=np.float64) / 100
    frame["repeat_monetary"] = np.where(n_days > 1, repeat / np.maximum(n_days - 1, 1), 0.0)
    frame["average_spend"] = total / n_days
    frame["holdout_days"] = frame["purchase_days"] - frame["cal_days"]
    frame = frame.drop(columns=["total_cents", "first_cents"])
    frame.attrs["repeat_by_day"] = repeat_by_day
    frame.attrs["holdout_days"] = holdout_days
    return frame


def _day_numbers(dates: Any) -> NDArray[np.int64]:
    """Day numbers (days since 1970-01-01) of a column of dates (pandas or Arrow)."""
    import numpy as np

    return np.asarray(dates.to_numpy()).astype("datetime64[D]").astype(np.int64)


def choose_model(inputs: pd.DataFrame, *, as_of: dt.date) -> dict[str, Any]:
    """The purchase model of the run, chosen on the holdout kept apart by
    :func:`predictive_inputs`, and the holdout check of the model chosen.

    Returns ``figures["predictive"]["model_choice"]``: ``chosen`` (a key of
    :data:`patron.analytics.purchase_models.PURCHASE_MODELS`), ``scores`` (each candidate's
    holdout error, best first), ``by_frequency`` and ``tracking`` (the charts of the
    predictions page), the calibration and holdout dates; or, when the history is too short
    or no candidate fits on the calibration period, ``chosen`` = MBG/NBD and ``skipped``
    with the reason.
    """
    import numpy as np

    holdout = int(inputs.attrs.get("holdout_days", HOLDOUT_DAYS))
    cal_end = as_of - dt.timedelta(days=holdout)
    cal = inputs[inputs["cal_days"] > 0]
    c_first = cal["first_purchase"].to_numpy().astype("datetime64[D]")
    c_last = cal["cal_last"].to_numpy().astype("datetime64[D]")
    end = np.datetime64(cal_end, "D")
    births, counts = np.unique(_day_numbers(inputs["first_purchase"]), return_counts=True)
    by_day = inputs.attrs.get("repeat_by_day")
    repeats = None
    if by_day is not None and len(by_day):
        repeats = (_day_numbers(by_day["day"]), by_day["repeats"].to_numpy(dtype=np.int64))
    return model_choice(
        as_of=as_of,
        holdout=holdout,
        births=(births, counts),
        calibration=(
            cal["cal_days"].to_numpy(dtype=np.int64) - 1,
            (c_last - c_first).astype(np.int64),
            (end - c_first).astype(np.int64),
            cal["holdout_days"].to_numpy(dtype=np.int64),
        ),
        repeats=repeats,
    )


def model_choice(
    *,
    as_of: dt.date,
    holdout: int,
    births: tuple[Any, Any],
    calibration: tuple[Any, Any, Any, Any],
    repeats: tuple[Any, Any] | None,
    weights: Any = None,
    grid_days: int | None = None,
) -> dict[str, Any]:
    """:func:`choose_model` from what it reads of the customers: ``births`` (day numbers and
    customers first seen that day), ``calibration`` (repeat purchase days, days from the first
    to the last purchase day and to the calibration end, purchase days in the holdout, of the
    customers seen in the calibration period) and the repeat purchase days by day. With
    ``weights`` the calibration rows are distinct rows and these their customer counts (what
    an engine that keeps the customers, Spark, hands over). The calibration rows are fitted
    as :func:`~patron.analytics.fit_rows.fit_rows` gives them (``grid_days``: the grid the engine
    already grouped them on)."""
    import numpy as np

    from patron.analytics.fit_rows import fit_rows
    from patron.analytics.purchase_models import (
        RUN_CANDIDATES,
        PredictionError,
        choose_purchase_model,
        holdout_split,
    )

    cal_end = as_of - dt.timedelta(days=holdout)
    dates: dict[str, Any] = {
        "calibration_end": cal_end.isoformat(),
        "observation_end": as_of.isoformat(),
        "holdout_days": holdout,
        "candidates": list(RUN_CANDIDATES),
    }
    fallback = {"chosen": RUN_CANDIDATES[0], **dates}
    days, counts = births
    if not len(days):
        return {**fallback, "skipped": "there are no customers with a purchase"}
    start_day = int(np.min(days))
    span = int(np.datetime64(as_of, "D").astype(np.int64)) - start_day
    dates["first_purchase"] = str(np.datetime64(start_day, "D"))
    if span - holdout < MIN_CALIBRATION_DAYS:
        return {
            **fallback,
            **dates,
            "skipped": (
                f"the purchases span {span} days: too short to keep {holdout} days apart "
                f"and still fit on at least {MIN_CALIBRATION_DAYS} days"
            ),
        }
    rows = fit_rows(calibration, weights, grid_days=grid_days)
    dates["fit_grid"] = rows.grid
    frequency, recency, age = rows.weeks()
    split = holdout_split(
        frequency, recency, age, rows.columns[3], holdout / 7.0, weights=rows.weights
    )
    try:
        choice = choose_purchase_model(
            split,
            births=(days, counts),
            repeats=repeats if repeats is not None else (np.zeros(0), np.zeros(0)),
            start_day=start_day,
            end_day=int(np.datetime64(as_of, "D").astype(np.int64)),
        )
    except (PredictionError, ValueError) as error:
        return {**fallback, **dates, "skipped": str(error)}
    customers = round(float(np.sum(rows.weights)))
    return {**choice.as_dict(), **dates, "customers": customers}
