"""Reads over the warning list: the lost-customer analysis against hand-computed figures, the
filters and the counts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from patron.customers.models import Customer
from patron.retention.models import ChurnWarning
from patron.retention.selectors import (
    STATUS_ANY,
    STATUS_CLOSED,
    lost_analysis,
    warning_counts,
    warning_filter,
    warning_owner_choices,
)

pytestmark = pytest.mark.django_db

TODAY = dt.date(2024, 7, 2)
NOW = timezone.make_aware(dt.datetime(2024, 7, 2, 10))


def _warning(n: int, status: str, **fields: Any) -> ChurnWarning:
    customer = Customer.objects.create(external_id=f"C{n:02d}")
    defaults: dict[str, Any] = {
        "raised_on": TODAY,
        "risk_level": "high",
        "risk_score": 0.8,
        "last_purchase": dt.date(2024, 4, 1),
        "revenue": Decimal("0"),
    }
    if status not in ("open", "in_progress"):
        defaults["closed_at"] = NOW
    return ChurnWarning.objects.create(customer=customer, status=status, **{**defaults, **fields})


@pytest.fixture
def closed_warnings() -> None:
    """Four lost, two won back, one recovered; two still open (left out of the analysis)."""
    _warning(1, "lost", lost_reason="price", clv=Decimal("100.00"), revenue=Decimal("500.00"))
    _warning(2, "lost", lost_reason="price", clv=Decimal("50.50"), revenue=Decimal("200.00"))
    _warning(3, "lost", lost_reason="competitor", clv=Decimal("30.00"), revenue=Decimal("0"))
    _warning(
        4,
        "lost",
        lost_reason="other",
        lost_reason_text="搬去北京了",
        clv=None,
        revenue=Decimal("80.00"),
        closed_at=NOW - dt.timedelta(days=200),
    )
    _warning(5, "won_back", clv=Decimal("70.00"), revenue=Decimal("300.00"))
    _warning(
        6,
        "won_back",
        clv=Decimal("20.00"),
        closed_automatically=True,
        closed_at=NOW - dt.timedelta(days=200),
    )
    _warning(7, "recovered", clv=Decimal("999.00"), closed_automatically=True)
    _warning(8, "open", clv=Decimal("1000.00"), revenue=Decimal("1000.00"))
    _warning(9, "in_progress", clv=Decimal("1000.00"))


def test_lost_analysis_matches_the_hand_computed_figures(closed_warnings: None) -> None:
    analysis = lost_analysis()

    # lost: C01-C04; won back: C05, C06; recovered: C07 (outside the rate)
    assert (analysis.lost, analysis.won_back, analysis.recovered) == (4, 2, 1)
    assert analysis.win_back_rate == pytest.approx(2 / 6)
    assert analysis.clv_lost == Decimal("180.50")  # 100 + 50.50 + 30 (+ unknown)
    assert analysis.revenue_lost == Decimal("780.00")  # 500 + 200 + 0 + 80
    assert analysis.clv_won_back == Decimal("90.00")
    rows = [(r.code, r.customers, r.share, r.clv, r.revenue) for r in analysis.reasons]
    assert rows == [
        ("price", 2, 0.5, Decimal("150.50"), Decimal("700.00")),
        ("competitor", 1, 0.25, Decimal("30.00"), Decimal("0.00")),
        ("other", 1, 0.25, Decimal("0.00"), Decimal("80.00")),
    ]
    assert analysis.reasons[0].label == "Price too high"
    assert analysis.notes == (("Other", "搬去北京了"),)


def test_lost_analysis_of_a_period_counts_what_was_closed_in_it(closed_warnings: None) -> None:
    analysis = lost_analysis(since=TODAY - dt.timedelta(days=90))

    # C04 and C06 were closed 200 days ago
    assert (analysis.lost, analysis.won_back, analysis.recovered) == (3, 1, 1)
    assert analysis.win_back_rate == pytest.approx(1 / 4)
    assert analysis.clv_lost == Decimal("180.50") and analysis.revenue_lost == Decimal("700.00")
    assert [r.code for r in analysis.reasons] == ["price", "competitor"]
    assert analysis.notes == ()


def test_lost_analysis_without_closed_warnings_has_no_rate() -> None:
    _warning(1, "open")
    analysis = lost_analysis()
    assert analysis.win_back_rate is None and analysis.lost == 0
    assert analysis.clv_lost == Decimal("0.00") and analysis.reasons == ()


def test_filters_and_counts(make_user: Any) -> None:
    sam = make_user("sam", "service")
    ada = make_user("ada", "marketing")
    a = _warning(1, "open", owner=sam, follow_up_on=TODAY)
    b = _warning(2, "in_progress", owner=ada, risk_level="medium", follow_up_on=TODAY
                 + dt.timedelta(days=1))  # fmt: skip
    c = _warning(3, "open", risk_level="medium", risk_score=0.5)
    d = _warning(4, "lost", owner=sam, lost_reason="price", follow_up_on=None)
    e = _warning(5, "recovered", follow_up_on=TODAY - dt.timedelta(days=3))

    def pks(**kwargs: Any) -> list[int]:
        return [w.pk for w in warning_filter(**kwargs)]

    assert pks() == [a.pk, b.pk, c.pk]  # open ones, highest risk first
    assert pks(level="medium") == [b.pk, c.pk]
    assert pks(owner=sam) == [a.pk]
    assert pks(owner=sam, status=STATUS_ANY) == [a.pk, d.pk]
    assert pks(unassigned=True) == [c.pk]
    assert pks(due_by=TODAY) == [a.pk]  # the recovered one is closed, not due
    assert pks(due_by=TODAY + dt.timedelta(days=1)) == [a.pk, b.pk]
    assert pks(status=STATUS_CLOSED) == [d.pk, e.pk]
    assert pks(status="lost") == [d.pk]
    assert warning_counts(user=sam, today=TODAY) == {
        "open": 3,
        "high": 1,
        "unassigned": 1,
        "mine": 1,
        "due": 1,
    }
    # owners: the roles that may act, not the analyst
    make_user("ann", "analyst")
    make_user("root", "admin")
    assert [u.username for u in warning_owner_choices()] == ["ada", "root", "sam"]
