"""Customers with a value tier and churn risk (a completed run written directly), orders,
and a service agent."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from patron.customers.models import Customer
from patron.insights.models import AnalysisRun, CustomerScore, RunStatus
from patron.sales.models import Order

AS_OF = dt.date(2024, 6, 30)


@pytest.fixture
def run() -> AnalysisRun:
    from patron.service.services import categories_ensure

    categories_ensure()  # a transactional test before this one flushed the migration's rows
    return AnalysisRun.objects.create(as_of=AS_OF, code_version="test", status=RunStatus.COMPLETED)


@pytest.fixture
def make_customer(run: AnalysisRun) -> Callable[..., Customer]:
    """A customer scored in the run with ``tier`` and ``risk`` (None: not scored)."""

    def make(
        external_id: str, tier: str | None = "moderate", risk: str | None = "low", email: str = ""
    ) -> Customer:
        customer = Customer.objects.create(
            external_id=external_id, name=f"客户{external_id}", email=email
        )
        if tier is not None:
            CustomerScore.objects.create(
                run=run,
                customer=customer,
                recency_days=30,
                frequency=4,
                monetary=Decimal("400"),
                r_score=3,
                f_score=3,
                m_score=3,
                segment="loyal",
                value_tier=tier,
                revenue=Decimal("400"),
                cost_to_serve=Decimal("0"),
                p_alive=0.7,
                clv=Decimal("300.00"),
                risk_level=risk,
                risk_score=0.8 if risk == "high" else 0.2,
                risk_reasons_en="silent" if risk else None,
                risk_reasons_zh="很久未购买" if risk else None,
            )
        return customer

    return make


@pytest.fixture
def make_order() -> Callable[..., Order]:
    counter = {"n": 0}

    def make(customer: Customer, day: dt.date, amount: str = "80.00") -> Order:
        counter["n"] += 1
        return Order.objects.create(
            customer=customer,
            external_id=f"O{counter['n']}",
            ordered_at=dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC),
            ordered_on=day,
            amount=Decimal(amount),
            status="completed",
        )

    return make


@pytest.fixture
def agent(make_user: Any) -> Any:
    return make_user("sam", "service")


@pytest.fixture
def now() -> dt.datetime:
    return timezone.now()
