"""How good the predictions are: the figures behind the prediction charts of an analysis run.

* :func:`p_alive_grid`: the run's stored P(alive), averaged by frequency (orders) and recency
  (days since the last purchase): one aggregate query over the run's scores.
* :func:`holdout_check`: the store's purchases up to the run's date, split into a calibration
  period and a holdout (the last weeks). The BG/NBD is fitted on the calibration period as a
  run fits it (:func:`patron.analytics.predictive.predict_value`, time in weeks), then checked
  with :mod:`patron.analytics.clv.evaluation`: the holdout error, the mean predicted versus
  actual holdout purchases by calibration frequency, and the tracking curve of cumulative
  repeat purchases by week.

The holdout check reads the store through Ibis, one row per customer and purchase day, so it
is cached per run (runs do not change).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.cache import cache
from django.db.models import Avg, Case, Count, IntegerField, Q, Value, When

from patron.core.errors import PatronError
from patron.insights.models import AnalysisRun, CustomerScore

if TYPE_CHECKING:
    import numpy as np

# (label, lowest, highest or None) of the grid's rows and columns.
FREQUENCY_BINS: tuple[tuple[str, int, int | None], ...] = (
    ("1", 1, 1),
    ("2", 2, 2),
    ("3", 3, 3),
    ("4–5", 4, 5),
    ("6–9", 6, 9),
    ("10+", 10, None),
)
RECENCY_BINS: tuple[tuple[str, int, int | None], ...] = (
    ("0–30", 0, 30),
    ("31–60", 31, 60),
    ("61–90", 61, 90),
    ("91–180", 91, 180),
    ("181–365", 181, 365),
    ("366+", 366, None),
)
HOLDOUT_WEEKS = (4, 8, 13, 26, 52)
DEFAULT_HOLDOUT_WEEKS = 13
MIN_CALIBRATION_DAYS = 28
MAX_FREQUENCY = 7  # the calibration-frequency bins: 0, 1, ..., 7+
CACHE_SECONDS = 3600
DAYS_PER_WEEK = 7

HISTORY_TOO_SHORT = (
    "The purchases up to {as_of} span {days} days: too short to keep {holdout} days apart "
    "for a holdout and still fit the model on at least {minimum} days."
)
UNKNOWN_HOLDOUT = "The holdout must be one of {choices} weeks, got {weeks!r}."


class PredictionCheckError(PatronError):
    default_code = "insights.prediction_check"


@dataclass(frozen=True)
class Grid:
    rows: list[str]  # frequency bins, fewest orders first
    columns: list[str]  # recency bins, most recent first
    mean: list[list[float | None]]  # mean P(alive); None for an empty cell
    count: list[list[int]]


def _bin(field: str, bins: tuple[tuple[str, int, int | None], ...]) -> Case:
    whens = []
    for index, (_label, low, high) in enumerate(bins):
        condition = Q(**{f"{field}__gte": low})
        if high is not None:
            condition &= Q(**{f"{field}__lte": high})
        whens.append(When(condition, then=Value(index)))
    return Case(*whens, default=Value(-1), output_field=IntegerField())


def p_alive_grid(*, run: AnalysisRun) -> Grid:
    """Mean P(alive) and customer count by frequency (orders) and recency (days) in ``run``."""
    rows = (
        CustomerScore.objects.filter(run=run, p_alive__isnull=False, recency_days__isnull=False)
        .annotate(f_bin=_bin("frequency", FREQUENCY_BINS), r_bin=_bin("recency_days", RECENCY_BINS))
        .values("f_bin", "r_bin")
        .annotate(n=Count("pk"), mean=Avg("p_alive"))
        .order_by()
    )
    mean: list[list[float | None]] = [[None] * len(RECENCY_BINS) for _ in FREQUENCY_BINS]
    count = [[0] * len(RECENCY_BINS) for _ in FREQUENCY_BINS]
    for row in rows:
        f, r = int(row["f_bin"]), int(row["r_bin"])
        if f < 0 or r < 0:
            continue  # frequency 0 (returns only) or a negative recency: outside the grid
        mean[f][r] = float(row["mean"])
        count[f][r] = int(row["n"])
    return Grid(
        rows=[label for label, _l, _h in FREQUENCY_BINS],
        columns=[label for label, _l, _h in RECENCY_BINS],
        mean=mean,
        count=count,
    )


@dataclass(frozen=True)
class HoldoutCheck:
    """The BG/NBD fitted on a calibration period, against what the holdout then showed."""

    first_purchase: dt.date
    calibration_end: dt.date
    observation_end: dt.date
    holdout_days: int
    customers: int
    params: dict[str, float]
    penalizer: float
    mae: float
    rmse: float
    predicted_total: float
    actual_total: float
    # mean holdout purchases per customer by calibration frequency
    frequency: list[int]
    frequency_customers: list[int]
    frequency_expected: list[float]
    frequency_actual: list[float]
    # cumulative repeat purchases of all customers at the end of each week
    week_end: list[dt.date]
    tracking_expected: list[float]
    tracking_actual: list[float]


def store_purchase_days(*, as_of: dt.date) -> tuple[np.ndarray, np.ndarray]:
    """(customer id, date) of every day a customer bought something, up to ``as_of``.

    The same purchases as the run's (:func:`patron.insights.runs.predictive_inputs`): the
    store's paid orders that stayed, returns left out; one row per customer and day, grouped
    in the database.
    """
    import numpy as np

    from patron.analytics.summary import prepare_transactions
    from patron.insights.selectors import store_backend, store_transactions

    backend = store_backend()
    try:
        t = prepare_transactions(store_transactions(backend), as_of=as_of)
        days = t.filter(~t.is_return).select("customer_id", "order_date").distinct()
        table = days.to_pyarrow()
    finally:
        backend.disconnect()
    ids = np.asarray(table.column("customer_id").to_numpy(zero_copy_only=False))
    dates = np.asarray(table.column("order_date").to_numpy(zero_copy_only=False))
    return ids, dates.astype("datetime64[D]")


def holdout_check(*, run: AnalysisRun, holdout_weeks: int = DEFAULT_HOLDOUT_WEEKS) -> HoldoutCheck:
    """Fit on the purchases up to ``run.as_of`` minus the holdout, check on the holdout.

    Raises
    ------
    PredictionCheckError
        The holdout length is not offered, the history is too short to keep it apart, or
        the BG/NBD cannot be fitted on the calibration period.
    """
    import numpy as np

    from patron.analytics.clv import (
        calibration_holdout_split,
        holdout_by_frequency,
        holdout_score,
        tracking_curve,
    )
    from patron.analytics.predictive import PredictionError, fit_bgnbd

    if holdout_weeks not in HOLDOUT_WEEKS:
        raise PredictionCheckError(
            UNKNOWN_HOLDOUT.format(choices=HOLDOUT_WEEKS, weeks=holdout_weeks),
            code="insights.bad_holdout",
        )
    holdout = holdout_weeks * DAYS_PER_WEEK
    ids, dates = store_purchase_days(as_of=run.as_of)
    end = np.datetime64(run.as_of, "D")
    first = dates.min() if dates.size else end
    span = int((end - first).astype(np.int64))
    if not dates.size or span - holdout < MIN_CALIBRATION_DAYS:
        raise PredictionCheckError(
            HISTORY_TOO_SHORT.format(
                as_of=run.as_of, days=span, holdout=holdout, minimum=MIN_CALIBRATION_DAYS
            ),
            code="insights.history_too_short",
        )
    calibration_end = end - np.timedelta64(holdout, "D")
    split = calibration_holdout_split(
        ids, dates, calibration_end=calibration_end, observation_end=end, unit="weeks"
    )
    cal = split.calibration
    x = cal.frequency.astype(np.float64)
    try:
        model, penalizer, _p_alive, _expected = fit_bgnbd(x, cal.recency, cal.T, 1.0)
    except PredictionError as error:
        raise PredictionCheckError(str(error), code="insights.fit_failed") from None
    score = holdout_score(model, split)
    by_frequency = holdout_by_frequency(model, split, max_frequency=MAX_FREQUENCY)
    curve = tracking_curve(model, ids, dates, end=end, period_days=DAYS_PER_WEEK, unit="weeks")
    return HoldoutCheck(
        first_purchase=first.astype(dt.date),
        calibration_end=calibration_end.astype(dt.date),
        observation_end=run.as_of,
        holdout_days=holdout,
        customers=score.n_customers,
        params={k: float(v) for k, v in model.params_.items()},
        penalizer=float(penalizer),
        mae=score.mae,
        rmse=score.rmse,
        predicted_total=score.predicted_total,
        actual_total=score.actual_total,
        frequency=by_frequency.frequency.tolist(),
        frequency_customers=by_frequency.customers.tolist(),
        frequency_expected=by_frequency.expected.tolist(),
        frequency_actual=by_frequency.actual.tolist(),
        week_end=[d.astype(dt.date) for d in curve.period_end],
        tracking_expected=curve.expected.tolist(),
        tracking_actual=curve.actual.tolist(),
    )


def holdout_check_cached(*, run: AnalysisRun, holdout_weeks: int) -> HoldoutCheck:
    """:func:`holdout_check`, kept in the cache for an hour per run and holdout length."""
    key = f"predictions:holdout:{run.pk}:{run.created_at.timestamp()}:{holdout_weeks}"
    cached: Any = cache.get(key)
    if isinstance(cached, HoldoutCheck):
        return cached
    check = holdout_check(run=run, holdout_weeks=holdout_weeks)
    cache.set(key, check, CACHE_SECONDS)
    return check
