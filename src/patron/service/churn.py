"""The link from service to churn, through the retention app's services.

- An open complaint, and a detractor's answer (NPS 0-6, or CSAT 1-2), raise the customer's
  churn warning with that reason, or add the reason to the open one (retention's
  :func:`~patron.retention.services.warning_raise_for_reason`).
- A resolved complaint followed by a purchase is a service recovery: the ticket records the
  day, and the open warning closes as recovered, so the lost-customer analysis counts it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from patron.service.models import Ticket, TicketKind, TicketStatus

DETRACTOR_NPS = 6
DISSATISFIED_CSAT = 2


def complaint_opened(ticket: Ticket) -> None:
    """Raise the churn warning for an open complaint (reason in both languages)."""
    from patron.retention.services import warning_raise_for_reason

    warning_raise_for_reason(
        customer=ticket.customer,
        reason_en=f"open complaint #{ticket.pk}: {ticket.subject}",
        reason_zh=f"未解决的投诉 #{ticket.pk}：{ticket.subject}",
        today=timezone.localdate(ticket.opened_at),
    )


def answer_received(*, customer: object, nps: int | None, csat: int | None, day: dt.date) -> bool:
    """Raise the churn warning for a detractor's answer; True when the answer was one."""
    from patron.retention.services import warning_raise_for_reason

    if nps is not None and nps <= DETRACTOR_NPS:
        reason_en, reason_zh = (
            f"detractor: likely to recommend {nps}/10",
            f"贬损者：推荐意愿 {nps}/10",
        )
    elif csat is not None and csat <= DISSATISFIED_CSAT:
        reason_en, reason_zh = f"dissatisfied: satisfaction {csat}/5", f"不满意：满意度 {csat}/5"
    else:
        return False
    warning_raise_for_reason(customer=customer, reason_en=reason_en, reason_zh=reason_zh, today=day)
    return True


@dataclass(frozen=True)
class RecoveryResult:
    recovered: int  # complaints newly marked as followed by a purchase
    warnings_closed: int


@transaction.atomic
def recovery_refresh(*, today: dt.date | None = None) -> RecoveryResult:
    """Mark resolved complaints whose customer bought after the resolution (up to ``today``),
    and close their open churn warnings as recovered. Idempotent."""
    from patron.retention.services import PURCHASE_STATUSES, warning_close_recovered
    from patron.sales.models import Order

    today = today or timezone.localdate()
    after = Order.objects.filter(
        customer_id=OuterRef("customer_id"),
        status__in=PURCHASE_STATUSES,
        ordered_at__gt=OuterRef("resolved_at"),
        ordered_on__lte=today,
    ).order_by("ordered_on")
    candidates = (
        Ticket.objects.filter(
            kind=TicketKind.COMPLAINT,
            status__in=[TicketStatus.RESOLVED, TicketStatus.CLOSED],
            recovered_on__isnull=True,
        )
        .filter(Exists(after))
        .annotate(first_purchase=Subquery(after.values("ordered_on")[:1]))
        .select_related("customer")
    )
    recovered = closed = 0
    for ticket in candidates:
        Ticket.objects.filter(pk=ticket.pk).update(recovered_on=ticket.first_purchase)
        recovered += 1
        still_open = Ticket.objects.filter(
            customer_id=ticket.customer_id,
            kind=TicketKind.COMPLAINT,
            status__in=[TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.WAITING,
                        TicketStatus.REOPENED],
        ).exists()  # fmt: skip
        if not still_open and warning_close_recovered(
            customer=ticket.customer, purchased_on=ticket.first_purchase
        ):
            closed += 1
    return RecoveryResult(recovered=recovered, warnings_closed=closed)
