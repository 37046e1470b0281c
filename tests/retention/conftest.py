"""Analysis runs and scores written directly (no Ibis), users per role, orders."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from patron.customers.models import Customer
from patron.insights.models import AnalysisRun, CustomerScore, RunStatus
from patron.sales.models import Order

AS_OF = dt.date(2024, 6, 30)


@pytest.fixture
def make_run() -> Callable[..., AnalysisRun]:
    def make(as_of: dt.date = AS_OF, status: str = RunStatus.COMPLETED) -> AnalysisRun:
        return AnalysisRun.objects.create(as_of=as_of, code_version="test", status=status)

    return make


@pytest.fixture
def make_score() -> Callable[..., CustomerScore]:
    """A customer's score in a run; the customer is created when new."""

    def make(
        run: AnalysisRun,
        external_id: str,
        *,
        level: str | None,
        recency_days: int = 60,
        risk_score: float = 0.8,
        p_alive: float | None = 0.2,
        clv: str | None = "100.00",
        revenue: str = "500.00",
        frequency: int = 4,
        value_at_risk: str | None = None,
        tier: str = "high",
    ) -> CustomerScore:
        customer, _ = Customer.objects.get_or_create(
            external_id=external_id, defaults={"name": f"客户{external_id}"}
        )
        return CustomerScore.objects.create(
            run=run,
            customer=customer,
            recency_days=recency_days,
            frequency=frequency,
            monetary=Decimal(revenue),
            r_score=1,
            f_score=3,
            m_score=3,
            segment="at_risk",
            value_tier=tier,
            value_at_risk=None if value_at_risk is None else Decimal(value_at_risk),
            revenue=Decimal(revenue),
            cost_to_serve=Decimal("0"),
            p_alive=p_alive,
            expected_purchases=0.3,
            clv=None if clv is None else Decimal(clv),
            risk_level=level,
            risk_score=risk_score if level else None,
            risk_reasons_en=f"reason of {external_id}; silent" if level else None,
            risk_reasons_zh=f"{external_id}的原因; 很久未购买" if level else None,
        )

    return make


@pytest.fixture
def make_order() -> Callable[..., Order]:
    counter = {"n": 0}

    def make(external_id: str, day: dt.date, status: str = "completed", amount: str = "50.00"):
        counter["n"] += 1
        if status == "returned":
            amount = f"-{amount}"  # a return refunds money
        return Order.objects.create(
            customer=Customer.objects.get(external_id=external_id),
            external_id=f"T{counter['n']}",
            ordered_on=day,
            ordered_at=dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC),
            amount=Decimal(amount),
            status=status,
        )

    return make


@pytest.fixture
def staff(make_user: Any) -> dict[str, Any]:
    from patron.accounts.roles import ROLE_NAMES

    return {role: make_user(f"{role}-user", role) for role in ROLE_NAMES}
