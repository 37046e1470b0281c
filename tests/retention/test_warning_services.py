"""The warning list's services: refresh (idempotent, auto-close, updates), assign, respond."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from patron.insights.models import RunStatus
from patron.retention import services
from patron.retention.models import ChurnWarning, WarningStatus
from patron.retention.services import (
    FOLLOW_UP_IN_PAST,
    LOST_NEEDS_REASON,
    OTHER_NEEDS_TEXT,
    REASON_ONLY_WHEN_LOST,
    WARNING_CLOSED,
    RetentionError,
    warning_assign,
    warning_list_refresh,
    warning_respond,
)

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2024, 6, 30)
TODAY = dt.date(2024, 7, 2)


def _state() -> list[tuple[Any, ...]]:
    """Every warning's columns that a refresh may write, for before/after comparisons."""
    return list(
        ChurnWarning.objects.order_by("pk").values_list(
            "pk", "customer__external_id", "run_id", "status", "risk_level", "risk_score",
            "reasons_en", "last_purchase", "raised_on", "closed_at", "purchased_again_on",
        )
    )  # fmt: skip


@pytest.fixture
def run_with_scores(make_run: Any, make_score: Any) -> Any:
    run = make_run()
    make_score(run, "H1", level="high", recency_days=90, risk_score=0.9, clv="120.50")
    make_score(run, "H2", level="high", recency_days=45, risk_score=0.75, clv=None)
    make_score(run, "M1", level="medium", recency_days=30, risk_score=0.5, revenue="80.00")
    make_score(run, "L1", level="low", recency_days=5, risk_score=0.1)
    make_score(run, "N1", level=None, recency_days=10)  # prediction skipped for this one
    return run


def test_refresh_raises_a_warning_per_high_and_medium_customer_with_the_run_figures(
    run_with_scores: Any,
) -> None:
    # when
    result = warning_list_refresh(today=TODAY)

    # then one warning each for H1, H2 and M1, none for the low-risk and unscored customers
    warnings = {w.customer.external_id: w for w in ChurnWarning.objects.select_related("customer")}
    assert set(warnings) == {"H1", "H2", "M1"}
    assert (result.raised, result.updated, result.won_back, result.recovered, result.open) == (
        3, 0, 0, 0, 3,
    )  # fmt: skip
    h1 = warnings["H1"]
    assert h1.status == WarningStatus.OPEN and h1.owner is None and h1.response == ""
    assert h1.run == run_with_scores and h1.raised_on == TODAY
    assert h1.risk_level == "high" and h1.risk_score == 0.9
    assert h1.last_purchase == dt.date(2024, 4, 1)  # 90 days before 30 June
    assert h1.clv == Decimal("120.50") and h1.revenue == Decimal("500.00")
    assert h1.reasons_en == "reason of H1; silent" and h1.reasons_zh.startswith("H1的原因")
    assert warnings["H2"].clv is None and warnings["M1"].revenue == Decimal("80.00")
    assert warnings["M1"].last_purchase == dt.date(2024, 5, 31)


def test_refresh_is_idempotent(run_with_scores: Any) -> None:
    warning_list_refresh(today=TODAY)
    before = _state()

    again = warning_list_refresh(today=TODAY)
    later = warning_list_refresh(today=TODAY + dt.timedelta(days=1))

    assert (again.raised, again.updated, again.won_back, again.recovered) == (0, 0, 0, 0)
    assert (later.raised, later.updated, later.won_back, later.recovered) == (0, 0, 0, 0)
    assert _state() == before and again.open == later.open == 3


def test_the_database_refuses_a_second_open_warning_for_a_customer(run_with_scores: Any) -> None:
    warning_list_refresh(today=TODAY)
    h1 = ChurnWarning.objects.get(customer__external_id="H1")
    with pytest.raises(IntegrityError), transaction.atomic():
        ChurnWarning.objects.create(
            customer=h1.customer,
            raised_on=TODAY,
            risk_level="high",
            risk_score=0.9,
            last_purchase=h1.last_purchase - dt.timedelta(days=1),
        )


def test_refresh_needs_a_completed_run(make_run: Any) -> None:
    with pytest.raises(RetentionError, match="patron analyze"):
        warning_list_refresh(today=TODAY)
    failed = make_run(status=RunStatus.FAILED)
    with pytest.raises(RetentionError, match="failed, not completed"):
        warning_list_refresh(run=failed, today=TODAY)
    with pytest.raises(RetentionError, match="Unknown risk level 'severe'"):
        warning_list_refresh(run=make_run(), levels=("severe",))


def test_a_customer_who_bought_again_is_closed_automatically(
    run_with_scores: Any, make_order: Any, staff: dict[str, Any]
) -> None:
    # given the list, and H2 called by the service agent
    warning_list_refresh(today=TODAY)
    h2 = ChurnWarning.objects.get(customer__external_id="H2")
    warning_respond(warning=h2, response="called", by=staff["service"])
    # H1 and H2 buy again after their last purchase; M1 has only orders that are no purchase
    make_order("H1", dt.date(2024, 4, 1))  # its last purchase before the silence
    make_order("H1", dt.date(2024, 7, 1))
    make_order("H1", dt.date(2024, 7, 2))
    make_order("H2", dt.date(2024, 7, 2))
    for status in ("cancelled", "unpaid", "refunded", "returned"):
        make_order("M1", dt.date(2024, 7, 1), status=status)
    make_order("M1", dt.date(2024, 5, 31))  # on the last purchase day: not after it
    make_order("M1", TODAY + dt.timedelta(days=3))  # after the list's day

    # when
    result = warning_list_refresh(today=TODAY)

    # then H1 came back by themselves, H2 was won back (someone had called), M1 stays open
    assert (result.recovered, result.won_back, result.raised, result.open) == (1, 1, 0, 1)
    h1 = ChurnWarning.objects.get(customer__external_id="H1")
    assert h1.status == WarningStatus.RECOVERED and h1.closed_automatically
    assert h1.purchased_again_on == dt.date(2024, 7, 1) and h1.closed_at is not None
    h2.refresh_from_db()
    assert h2.status == WarningStatus.WON_BACK and h2.response == "called"
    assert h2.purchased_again_on == dt.date(2024, 7, 2) and h2.follow_up_on is None
    m1 = ChurnWarning.objects.get(customer__external_id="M1")
    assert m1.status == WarningStatus.OPEN and m1.purchased_again_on is None


def test_a_newer_run_updates_open_warnings_and_raises_only_new_silences(
    run_with_scores: Any, make_run: Any, make_score: Any, make_order: Any, staff: dict[str, Any]
) -> None:
    # given the list of the first run; M1 lost, H1 back on 1 July
    warning_list_refresh(today=TODAY)
    m1 = ChurnWarning.objects.get(customer__external_id="M1")
    warning_respond(warning=m1, response="lost", lost_reason="price", by=staff["marketing"])
    make_order("H1", dt.date(2024, 7, 1))
    warning_list_refresh(today=TODAY)

    # when a later run scores them all again: H2 still silent (now medium), M1 still silent
    # since 31 May, H1 silent since its purchase of 1 July
    run2 = make_run(as_of=dt.date(2024, 9, 30))
    make_score(run2, "H2", level="medium", recency_days=137, risk_score=0.6, clv="10.00")
    make_score(run2, "M1", level="high", recency_days=122, risk_score=0.95)
    make_score(run2, "H1", level="high", recency_days=91, risk_score=0.85)
    result = warning_list_refresh(today=dt.date(2024, 10, 1))

    # then H2's open warning shows the new run, M1 (lost, same silence) is not raised again,
    # and H1 gets a new warning for the new silence
    assert (result.updated, result.raised) == (1, 1)
    h2 = ChurnWarning.objects.get(customer__external_id="H2")
    assert h2.run == run2 and h2.risk_level == "medium" and h2.clv == Decimal("10.00")
    assert h2.last_purchase == dt.date(2024, 5, 16) and h2.raised_on == TODAY
    assert ChurnWarning.objects.filter(customer__external_id="M1").count() == 1
    h1 = list(ChurnWarning.objects.filter(customer__external_id="H1").order_by("pk"))
    assert [w.status for w in h1] == [WarningStatus.RECOVERED, WarningStatus.OPEN]
    assert h1[1].last_purchase == dt.date(2024, 7, 1) and h1[1].run == run2


def test_no_warning_for_a_customer_who_bought_since_the_run(
    run_with_scores: Any, make_order: Any
) -> None:
    make_order("H1", dt.date(2024, 7, 1))
    result = warning_list_refresh(today=TODAY)
    assert result.raised == 2
    assert not ChurnWarning.objects.filter(customer__external_id="H1").exists()


# --- responses and owners ---------------------------------------------------------------------


@pytest.fixture
def warning(run_with_scores: Any) -> ChurnWarning:
    warning_list_refresh(today=TODAY)
    return ChurnWarning.objects.get(customer__external_id="H1")


def test_called_with_a_follow_up_keeps_the_warning_open_and_takes_it(
    warning: ChurnWarning, staff: dict[str, Any]
) -> None:
    follow_up = timezone.localdate() + dt.timedelta(days=7)
    sam = staff["service"]

    warning_respond(
        warning=warning, response="called", by=sam, note="答应下周来店", follow_up_on=follow_up
    )
    warning_respond(warning=warning, response="offered", by=sam, note="发了9折券")

    warning.refresh_from_db()
    assert warning.status == WarningStatus.IN_PROGRESS and warning.response == "offered"
    assert warning.owner == sam and warning.responded_by == sam
    assert warning.follow_up_on is None  # the second response set none
    today = timezone.localdate().isoformat()
    assert warning.notes.splitlines() == [
        f"{today} service-user: 答应下周来店",
        f"{today} service-user: 发了9折券",
    ]
    # and both changes are in the audit trail
    entries = LogEntry.objects.get_for_object(warning).order_by("pk")
    assert [e.changes_dict.get("response", [None, None])[1] for e in entries] == [
        "called",
        "offered",
    ]


def test_lost_needs_a_reason_and_closes_the_warning(
    warning: ChurnWarning, staff: dict[str, Any]
) -> None:
    ada = staff["marketing"]
    with pytest.raises(ValidationError) as missing:
        warning_respond(warning=warning, response="lost", by=ada)
    assert missing.value.message_dict == {"lost_reason": [str(LOST_NEEDS_REASON)]}
    with pytest.raises(ValidationError) as no_words:
        warning_respond(warning=warning, response="lost", lost_reason="other", by=ada)
    assert no_words.value.message_dict == {"lost_reason_text": [str(OTHER_NEEDS_TEXT)]}
    with pytest.raises(ValidationError) as not_lost:
        warning_respond(warning=warning, response="called", lost_reason="price", by=ada)
    assert not_lost.value.message_dict == {"lost_reason": [str(REASON_ONLY_WHEN_LOST)]}
    warning.refresh_from_db()
    assert warning.status == WarningStatus.OPEN and warning.response == ""

    warning_respond(
        warning=warning, response="lost", lost_reason="other", lost_reason_text=" 出国了 ", by=ada
    )

    warning.refresh_from_db()
    assert warning.status == WarningStatus.LOST and warning.closed_at is not None
    assert (warning.lost_reason, warning.lost_reason_text) == ("other", "出国了")
    assert not warning.closed_automatically and warning.owner == ada
    with pytest.raises(ValidationError) as closed:
        warning_respond(warning=warning, response="won_back", by=ada)
    assert closed.value.messages == [str(WARNING_CLOSED)]
    with pytest.raises(ValidationError):
        warning_assign(warning=warning, owner=staff["service"])


def test_follow_up_dates_are_checked(warning: ChurnWarning, staff: dict[str, Any]) -> None:
    sam = staff["service"]
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    with pytest.raises(ValidationError) as past:
        warning_respond(warning=warning, response="called", by=sam, follow_up_on=yesterday)
    assert past.value.message_dict == {"follow_up_on": [str(FOLLOW_UP_IN_PAST)]}
    with pytest.raises(ValidationError) as closing:
        warning_respond(
            warning=warning, response="won_back", by=sam, follow_up_on=timezone.localdate()
        )
    assert set(closing.value.message_dict) == {"follow_up_on"}


def test_only_service_marketing_and_admin_may_own_or_respond(
    warning: ChurnWarning, staff: dict[str, Any], make_user: Any
) -> None:
    analyst = staff["analyst"]
    with pytest.raises(ValidationError, match="analyst-user cannot work on warnings"):
        warning_assign(warning=warning, owner=analyst)
    with pytest.raises(ValidationError, match="cannot work on warnings"):
        warning_respond(warning=warning, response="called", by=analyst)
    nobody = make_user("no-role")
    with pytest.raises(ValidationError):
        warning_assign(warning=warning, owner=nobody)
    for role in ("service", "marketing", "admin"):
        assert warning_assign(warning=warning, owner=staff[role]).owner == staff[role]
    assert warning_assign(warning=warning, owner=None).owner is None
    warning.refresh_from_db()
    assert warning.owner is None and warning.status == WarningStatus.OPEN
    assert services.user_can_act(staff["service"]) and not services.user_can_act(analyst)
