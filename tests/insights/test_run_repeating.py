"""A run of the default date repeats the latest when that run has the same date and no order
has come in since it was made."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from patron.customers.models import Customer
from patron.insights.models import AnalysisRun, RunStatus
from patron.insights.selectors import analysis_run_repeating
from patron.sales.models import Order

pytestmark = pytest.mark.django_db


def _order(customer: Customer, day: dt.date, n: int) -> Order:
    return Order.objects.create(
        customer=customer,
        external_id=f"O{n}",
        ordered_on=day,
        ordered_at=dt.datetime.combine(day, dt.time(9), dt.UTC),
        amount=Decimal("10.00"),
        status="completed",
    )


def test_same_day_and_no_new_order_repeats_the_latest_run() -> None:
    customer = Customer.objects.create(external_id="C1")
    _order(customer, dt.date(2024, 6, 29), 1)
    assert analysis_run_repeating(as_of=None) is None  # no run yet
    run = AnalysisRun.objects.create(
        as_of=dt.date(2024, 6, 30), code_version="t", status=RunStatus.COMPLETED
    )

    # the default date is the day after the last order: the latest run's
    assert analysis_run_repeating(as_of=None) == run
    assert analysis_run_repeating(as_of=dt.date(2024, 6, 30)) == run
    # another date is a new run
    assert analysis_run_repeating(as_of=dt.date(2024, 5, 31)) is None
    # an order that came in since the run makes it a new run, even dated before it
    _order(customer, dt.date(2024, 6, 1), 2)
    assert analysis_run_repeating(as_of=dt.date(2024, 6, 30)) is None
