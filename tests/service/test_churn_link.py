"""The churn link: an open complaint or a detractor's answer raises or opens a churn warning
with that reason; a resolved complaint followed by a purchase counts as recovered."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from patron.retention.models import ChurnWarning, WarningStatus
from patron.retention.selectors import lost_analysis
from patron.retention.services import warning_list_refresh, warning_respond
from patron.service import services
from patron.service.churn import recovery_refresh
from patron.service.surveys import survey_answer, survey_invite, survey_link_token

pytestmark = pytest.mark.django_db


def _complaint(customer: Any, **kwargs: Any) -> Any:
    return services.ticket_create(
        customer=customer,
        kind="complaint",
        category="product",
        channel="wechat",
        subject="Broken kettle",
        **kwargs,
    )


def test_an_open_complaint_opens_a_warning_with_its_reason(
    make_customer: Any, make_order: Any
) -> None:
    # given: a customer of low churn risk who last bought on 1 June
    customer = make_customer("C1", tier="high", risk="low")
    make_order(customer, dt.date(2024, 6, 1))
    # when
    ticket = _complaint(customer)
    # then
    warning = ChurnWarning.objects.get(customer=customer)
    assert warning.status == WarningStatus.OPEN and warning.risk_level == "high"
    assert warning.reasons_en == f"open complaint #{ticket.pk}: Broken kettle"
    assert warning.reasons_zh == f"未解决的投诉 #{ticket.pk}：Broken kettle"
    assert warning.last_purchase == dt.date(2024, 6, 1)
    assert warning.clv is not None and warning.run is not None  # figures of the latest run
    # a question raises nothing; a second complaint adds its reason to the same warning
    services.ticket_create(
        customer=customer,
        kind="question",
        category="other",
        channel="web",
        subject="Opening hours?",
    )
    second = _complaint(customer)
    warning.refresh_from_db()
    assert ChurnWarning.objects.filter(customer=customer).count() == 1
    assert warning.reasons_en.split("; ") == [
        f"open complaint #{ticket.pk}: Broken kettle",
        f"open complaint #{second.pk}: Broken kettle",
    ]


def test_a_complaint_raises_the_warning_the_analysis_opened(make_customer: Any) -> None:
    customer = make_customer("C1", tier="moderate", risk="medium")
    customer.scores.update(recency_days=90)
    warning_list_refresh(today=dt.date(2024, 7, 1))
    warning = ChurnWarning.objects.get(customer=customer)
    assert warning.risk_level == "medium"
    _complaint(customer)
    warning.refresh_from_db()
    assert warning.risk_level == "high"
    assert warning.reasons_en.startswith("silent; open complaint #")


def test_a_detractor_answer_raises_a_warning_and_a_promoter_does_not(make_customer: Any) -> None:
    detractor, promoter = make_customer("C1"), make_customer("C2")
    for customer, score in ((detractor, 3), (promoter, 10)):
        invitation = survey_invite(kind="nps", customer=customer, key=f"nps:{customer.pk}")
        survey_answer(token=survey_link_token(invitation), score=score)
    warning = ChurnWarning.objects.get(customer=detractor)
    assert warning.reasons_en == "detractor: likely to recommend 3/10"
    assert warning.reasons_zh == "贬损者：推荐意愿 3/10"
    assert not ChurnWarning.objects.filter(customer=promoter).exists()


def test_a_silence_already_warned_of_and_closed_is_not_warned_again(
    make_customer: Any, make_order: Any, agent: Any
) -> None:
    customer = make_customer("C1")
    make_order(customer, dt.date(2024, 6, 1))
    _complaint(customer)
    warning = ChurnWarning.objects.get(customer=customer)
    warning_respond(warning=warning, response="lost", lost_reason="service", by=agent)
    _complaint(customer)  # the same silence: no second warning
    assert ChurnWarning.objects.filter(customer=customer).count() == 1


def test_a_resolved_complaint_followed_by_a_purchase_counts_as_recovered(
    make_customer: Any, make_order: Any, agent: Any
) -> None:
    # given: two complaints, both resolved; only one customer buys again afterwards
    back, gone = make_customer("C1"), make_customer("C2")
    tickets = {}
    for customer in (back, gone):
        make_order(customer, dt.date(2024, 5, 1))
        tickets[customer.pk] = _complaint(customer)
        services.ticket_resolve(ticket=tickets[customer.pk], by=agent, resolution="Replaced it")
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    make_order(back, tomorrow)
    before = lost_analysis().recovered
    # when
    result = recovery_refresh(today=tomorrow)
    # then
    assert (result.recovered, result.warnings_closed) == (1, 1)
    tickets[back.pk].refresh_from_db()
    assert tickets[back.pk].recovered_on == tomorrow
    warning = ChurnWarning.objects.get(customer=back)
    assert (warning.status, warning.purchased_again_on) == (WarningStatus.RECOVERED, tomorrow)
    assert ChurnWarning.objects.get(customer=gone).status == WarningStatus.OPEN
    assert lost_analysis().recovered == before + 1
    assert recovery_refresh(today=tomorrow).recovered == 0  # idempotent
