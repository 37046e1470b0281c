"""Tickets: priority from value tier and churn risk, the SLA clock, the queue (breaching
first), the conversation, resolution with compensation, reopening."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from patron.service import selectors, services
from patron.service.models import SlaTarget, Ticket, TicketStatus
from patron.service.sla import BusinessHours

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
FRIDAY_5PM = dt.datetime(2024, 6, 14, 17, tzinfo=SH)


def _open(customer: Any, kind: str = "complaint", **kwargs: Any) -> Ticket:
    values = {"category": "delivery", "channel": "phone", "subject": "Parcel late"}
    values.update(kwargs)
    return services.ticket_create(customer=customer, kind=kind, **values)


@pytest.mark.parametrize(
    ("kind", "tier", "risk", "expected"),
    [
        ("complaint", "very_high", "low", "urgent"),  # the very valuable complain: first
        ("complaint", "high", "low", "high"),
        ("complaint", "moderate", "low", "normal"),
        ("complaint", "moderate", "high", "high"),  # at risk of churning
        ("complaint", "high", "high", "urgent"),
        ("question", "very_low", "low", "low"),
        ("question", "very_high", "high", "urgent"),
        ("request", None, None, "low"),  # never analysed
    ],
)
def test_default_priority_rises_with_value_tier_and_churn_risk(
    make_customer: Any, kind: str, tier: str | None, risk: str | None, expected: str
) -> None:
    ticket = _open(make_customer("C1", tier=tier, risk=risk), kind=kind)
    assert ticket.priority == expected
    assert ticket.value_tier == (tier or "")


def test_sla_due_times_in_business_hours_by_priority_and_tier(make_customer: Any) -> None:
    hours = BusinessHours(tz="Asia/Shanghai")
    # a normal complaint from a moderate customer: 4 h first response, 24 h resolution
    normal = _open(make_customer("C1", tier="moderate"), opened_at=FRIDAY_5PM)
    assert normal.first_response_due_at == hours.add(FRIDAY_5PM, 4)
    assert normal.first_response_due_at == dt.datetime(2024, 6, 17, 12, tzinfo=SH)  # Monday
    assert normal.due_at == hours.add(FRIDAY_5PM, 24)
    # urgent (very high tier): 1 h and 8 h, halved for the tier
    urgent = _open(make_customer("C2", tier="very_high"), opened_at=FRIDAY_5PM)
    assert urgent.first_response_due_at == dt.datetime(2024, 6, 14, 17, 30, tzinfo=SH)
    assert urgent.due_at == hours.add(FRIDAY_5PM, 4)
    # a target of the business's own for the tier wins
    SlaTarget.objects.create(
        priority="normal",
        value_tier="low",
        first_response_hours=Decimal("2"),
        resolution_hours=Decimal("10"),
    )
    own = _open(make_customer("C3", tier="low"), opened_at=FRIDAY_5PM)
    assert (own.first_response_due_at, own.due_at) == (
        hours.add(FRIDAY_5PM, 2),
        hours.add(FRIDAY_5PM, 10),
    )


def test_unknown_category_kind_channel_and_foreign_order_are_refused(
    make_customer: Any, make_order: Any
) -> None:
    customer, other = make_customer("C1"), make_customer("C2")
    with pytest.raises(ValidationError) as error:
        _open(customer, category="nonsense")
    assert "nonsense" in error.value.message_dict["category"][0]
    assert "delivery" in error.value.message_dict["category"][0]  # the choices are named
    with pytest.raises(ValidationError) as error:
        _open(customer, kind="rant", channel="fax")
    assert set(error.value.message_dict) == {"kind", "channel"}
    with pytest.raises(ValidationError) as error:
        _open(customer, order=make_order(other, dt.date(2024, 6, 1)))
    assert "order" in error.value.message_dict
    assert not Ticket.objects.exists()


def test_queue_puts_breaching_tickets_first_and_reply_stops_the_clock(
    make_customer: Any, agent: Any, now: dt.datetime
) -> None:
    # given: an urgent ticket opened now and a low one opened long ago (past its targets)
    fresh = _open(make_customer("C1", tier="very_high"))
    old = _open(
        make_customer("C2", tier="low"), kind="question", opened_at=now - dt.timedelta(days=30)
    )
    # when
    queue = list(selectors.ticket_queue(user=agent, view="team"))
    # then
    assert [t.pk for t in queue] == [old.pk, fresh.pk]
    assert [t.pk for t in selectors.ticket_queue(user=agent, view="breaching")] == [old.pk]
    assert selectors.ticket_counts(user=agent)["breaching"] == 1
    # a reply stops the first-response clock, but the resolution is still late
    services.ticket_reply(ticket=old, text="Looking into it", by=agent)
    old.refresh_from_db()
    assert old.first_responded_at is not None and old.status == TicketStatus.OPEN
    assert old.owner == agent  # the first to answer takes it
    assert [t.pk for t in selectors.ticket_queue(user=agent, view="mine")] == [old.pk]
    assert [t.pk for t in selectors.ticket_queue(user=agent, view="breaching")] == [old.pk]


def test_resolve_with_compensation_close_and_reopen(
    make_customer: Any, agent: Any, django_capture_on_commit_callbacks: Any
) -> None:
    ticket = _open(make_customer("C1"), text="The parcel is a week late")
    with pytest.raises(ValidationError) as error:
        services.ticket_resolve(
            ticket=ticket, by=agent, resolution="Sent a coupon", compensation="coupon"
        )
    assert "compensation_reference" in error.value.message_dict
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_resolve(
            ticket=ticket,
            by=agent,
            resolution="Sent a coupon",
            compensation="coupon",
            compensation_reference="SORRY20",
        )
    ticket.refresh_from_db()
    assert (ticket.status, ticket.compensation_reference) == ("resolved", "SORRY20")
    with pytest.raises(ValidationError):
        services.ticket_reply(ticket=ticket, text="more", by=agent)
    services.ticket_close(ticket=ticket, by=agent)
    services.ticket_reopen(ticket=ticket, by=agent, text="It happened again")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.reopen_count, ticket.resolved_at) == ("reopened", 1, None)
    kinds = list(ticket.messages.values_list("kind", flat=True))
    assert kinds == ["customer", "note", "customer"]


def test_only_roles_that_manage_tickets_may_work_on_them(
    make_customer: Any, make_user: Any
) -> None:
    ticket = _open(make_customer("C1"))
    for role in ("analyst", "marketing"):
        with pytest.raises(ValidationError):
            services.ticket_reply(ticket=ticket, text="hi", by=make_user(role, role))
    with pytest.raises(ValidationError):
        services.ticket_assign(ticket=ticket, owner=make_user("ann", "analyst"))
    assert services.ticket_assign(ticket=ticket, owner=make_user("adm", "admin")).owner
