"""From transactions to model input: per-customer frequency, recency, T and spend.

Conventions (those of lifetimes' ``summary_data_from_transaction_data`` with ``freq="D"``):

* purchases are counted per *day*: several transactions of a customer on one day are one
  purchase, and their amounts are summed;
* ``frequency`` is the number of purchase days after the first one (repeat purchases);
* ``recency`` is the time from the first to the last purchase day, ``T`` from the first
  purchase day to the observation end (inclusive day), in ``unit``: days, weeks (days / 7) or
  months (days / 30.4375);
* ``monetary_value`` is the mean spend of the repeat purchase days (0 without repeats).

Everything is vectorised: one ``np.unique`` over customer ids, one over (customer, day)
keys and ``np.bincount`` sums; no per-customer Python loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import FloatArray, as_float

__all__ = [
    "DAYS_PER_UNIT",
    "CalibrationHoldout",
    "CustomerSummary",
    "TimeUnit",
    "calibration_holdout_split",
    "summarize_transactions",
]

TimeUnit = Literal["days", "weeks", "months"]
DAYS_PER_UNIT: dict[str, float] = {"days": 1.0, "weeks": 7.0, "months": 30.4375}
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class CustomerSummary:
    """One row per customer (sorted by id): the input of the CLV models."""

    customer_id: NDArray[Any]
    frequency: IntArray
    recency: FloatArray
    T: FloatArray
    monetary_value: FloatArray
    first_purchase: NDArray[np.datetime64]
    unit: str


@dataclass(frozen=True)
class CalibrationHoldout:
    """A calibration summary and, for the same customers, what happened in the holdout."""

    calibration: CustomerSummary
    frequency_holdout: IntArray
    monetary_value_holdout: FloatArray
    duration_holdout: float
    #: Customers per row when the rows are distinct rows with their counts (None: one each).
    weights: FloatArray | None = None


@dataclass(frozen=True)
class _Days:
    """Validated transactions: customer index, day number, amount, and the id of each index."""

    ids: NDArray[Any]
    customer: NDArray[np.intp]
    day: IntArray
    amount: FloatArray


def _day_number(value: ArrayLike, name: str) -> IntArray:
    arr = np.asarray(value)
    if arr.dtype.kind in "biufc":
        raise ValueError(f"{name} must be dates (datetime64 or ISO date strings), not numbers")
    if arr.dtype.kind != "M":
        try:
            arr = np.asarray(arr, dtype="datetime64[D]")
        except (ValueError, TypeError):
            raise ValueError(f"{name} must be dates (datetime64 or ISO date strings)") from None
    if np.any(np.isnat(arr)):
        raise ValueError(f"{name} contains missing dates (NaT)")
    return np.asarray(arr.astype("datetime64[D]").astype(np.int64), dtype=np.int64)


def _single_day(value: Any, name: str) -> int:
    days = _day_number(np.atleast_1d(np.asarray(value)), name)
    if days.shape != (1,):
        raise ValueError(f"{name} must be a single date")
    return int(days[0])


def _unit_days(unit: str) -> float:
    if unit not in DAYS_PER_UNIT:
        raise ValueError(f"unit must be one of {sorted(DAYS_PER_UNIT)}, got {unit!r}")
    return DAYS_PER_UNIT[unit]


def _validate(customer_id: ArrayLike, date: ArrayLike, amount: ArrayLike | None) -> _Days:
    ids = np.asarray(customer_id)
    if ids.ndim != 1:
        raise ValueError(f"customer_id must be one-dimensional, got shape {ids.shape}")
    day = _day_number(date, "date")
    if day.shape != ids.shape:
        raise ValueError(f"date must have the shape of customer_id {ids.shape}, got {day.shape}")
    if amount is None:
        amt = np.zeros(ids.shape)
    else:
        amt = as_float(amount, "amount")
        if amt.shape != ids.shape:
            raise ValueError(
                f"amount must have the shape of customer_id {ids.shape}, got {amt.shape}"
            )
    if ids.dtype.kind == "f" and np.any(np.isnan(ids)):
        raise ValueError("customer_id contains NaN")
    try:
        uniq, inverse = np.unique(ids, return_inverse=True)
    except TypeError:
        raise ValueError("customer_id must hold values of one sortable type") from None
    return _Days(uniq, inverse.ravel(), day, amt)


def _per_day(
    customer: NDArray[np.intp], day: IntArray, amount: FloatArray, n_customers: int
) -> tuple[IntArray, IntArray, IntArray, FloatArray]:
    """Unique (customer, day) purchases sorted by customer then day, with summed amounts."""
    if day.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(n_customers, dtype=np.int64), np.zeros(0)
    d0 = int(day.min())
    span = int(day.max()) - d0 + 1
    key = customer.astype(np.int64) * span + (day - d0)
    ukey, kinv = np.unique(key, return_inverse=True)
    spend = np.bincount(kinv.ravel(), weights=amount, minlength=ukey.shape[0])
    cust = np.asarray(ukey // span, dtype=np.int64)
    n_days = np.bincount(cust, minlength=n_customers).astype(np.int64)
    return cust, np.asarray(ukey % span + d0, dtype=np.int64), n_days, spend.astype(np.float64)


def _summary(data: _Days, end_day: int, unit: str) -> CustomerSummary:
    keep = data.day <= end_day
    present = np.unique(data.customer[keep])
    remap = np.full(data.ids.shape[0], -1, dtype=np.intp)
    remap[present] = np.arange(present.shape[0])
    n_cust = present.shape[0]
    cust, day, n_days, spend = _per_day(
        remap[data.customer[keep]], data.day[keep], data.amount[keep], n_cust
    )
    starts = np.concatenate([[0], np.cumsum(n_days)[:-1]]).astype(np.int64)
    first = day[starts] if n_cust else np.zeros(0, dtype=np.int64)
    last = day[starts + n_days - 1] if n_cust else np.zeros(0, dtype=np.int64)
    frequency = n_days - 1
    total = np.bincount(cust, weights=spend, minlength=n_cust)
    repeat_spend = total - (spend[starts] if n_cust else 0.0)
    monetary = np.where(frequency > 0, repeat_spend / np.maximum(frequency, 1), 0.0)
    per = _unit_days(unit)
    return CustomerSummary(
        customer_id=data.ids[present],
        frequency=frequency,
        recency=(last - first) / per,
        T=(end_day - first) / per,
        monetary_value=monetary,
        first_purchase=first.astype("datetime64[D]"),
        unit=unit,
    )


def summarize_transactions(
    customer_id: ArrayLike,
    date: ArrayLike,
    amount: ArrayLike | None = None,
    *,
    observation_end: Any = None,
    unit: TimeUnit = "days",
) -> CustomerSummary:
    """Per-customer frequency, recency, T and monetary value as of ``observation_end``.

    Parameters
    ----------
    customer_id : array_like
        Customer of each transaction (any sortable values of one type).
    date : array_like
        Transaction dates (``datetime64`` of any resolution, or ISO strings); times of day
        are dropped.
    amount : array_like, optional
        Transaction amounts; ``monetary_value`` is 0 without them.
    observation_end : date-like, optional
        Last day observed (inclusive); later transactions are ignored. Default: last date.
    unit : {"days", "weeks", "months"}
        Unit of ``recency`` and ``T`` (weeks = days / 7, months = days / 30.4375).

    Returns
    -------
    CustomerSummary
        One row per customer with a transaction on or before ``observation_end``.

    Examples
    --------
    >>> s = summarize_transactions(
    ...     ["a", "a", "a", "b"],
    ...     np.array(["2024-01-01", "2024-01-01", "2024-01-08", "2024-01-03"], "datetime64[D]"),
    ...     [10.0, 5.0, 20.0, 7.0],
    ...     observation_end="2024-01-15",
    ... )
    >>> s.frequency.tolist(), s.recency.tolist(), s.T.tolist(), s.monetary_value.tolist()
    ([1, 0], [7.0, 0.0], [14.0, 12.0], [20.0, 0.0])
    """
    data = _validate(customer_id, date, amount)
    _unit_days(unit)
    if data.day.size == 0:
        raise ValueError("there are no transactions")
    end = (
        int(data.day.max())
        if observation_end is None
        else _single_day(observation_end, "observation_end")
    )
    if not np.any(data.day <= end):
        raise ValueError("observation_end is before the first transaction")
    return _summary(data, end, unit)


def calibration_holdout_split(
    customer_id: ArrayLike,
    date: ArrayLike,
    amount: ArrayLike | None = None,
    *,
    calibration_end: Any,
    observation_end: Any = None,
    unit: TimeUnit = "days",
) -> CalibrationHoldout:
    """Summaries for a calibration period and, per customer, the holdout that follows.

    The calibration summary covers transactions up to ``calibration_end`` (inclusive) and
    customers first seen by then. The holdout covers days in
    ``(calibration_end, observation_end]``: number of purchase days and their mean spend per
    calibration customer (customers first seen in the holdout are left out), plus the holdout
    length in ``unit``. Same definitions as lifetimes' ``calibration_and_holdout_data``.
    """
    data = _validate(customer_id, date, amount)
    per = _unit_days(unit)
    if data.day.size == 0:
        raise ValueError("there are no transactions")
    cal_end = _single_day(calibration_end, "calibration_end")
    obs_end = (
        int(data.day.max())
        if observation_end is None
        else _single_day(observation_end, "observation_end")
    )
    if not obs_end > cal_end:
        raise ValueError("observation_end must be after calibration_end")
    if not np.any(data.day <= cal_end):
        raise ValueError("calibration_end is before the first transaction")
    calibration = _summary(data, cal_end, unit)
    # customers present in calibration, by their index among all ids
    known = np.zeros(data.ids.shape[0], dtype=bool)
    cal_index = np.searchsorted(data.ids, calibration.customer_id)
    known[cal_index] = True
    hold = (data.day > cal_end) & (data.day <= obs_end) & known[data.customer]
    remap = np.full(data.ids.shape[0], -1, dtype=np.intp)
    remap[cal_index] = np.arange(cal_index.shape[0])
    n_cust = cal_index.shape[0]
    cust, _, n_days, spend = _per_day(
        remap[data.customer[hold]], data.day[hold], data.amount[hold], n_cust
    )
    total = np.bincount(cust, weights=spend, minlength=n_cust)
    return CalibrationHoldout(
        calibration=calibration,
        frequency_holdout=n_days,
        monetary_value_holdout=np.where(n_days > 0, total / np.maximum(n_days, 1), 0.0),
        duration_holdout=(obs_end - cal_end) / per,
    )
