"""Reads over tickets: the queue (mine, team, breaching first), one ticket, a customer's
tickets and answers, SLA breaches, and the ticket figures of the service report."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import (
    BooleanField,
    Case,
    Count,
    F,
    IntegerField,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils import timezone

from patron.service.models import (
    ACTIVE_STATUSES,
    SurveyResponse,
    Ticket,
    TicketCategory,
    TicketKind,
)

VIEW_MINE = "mine"
VIEW_TEAM = "team"
VIEW_UNASSIGNED = "unassigned"
VIEW_BREACHING = "breaching"
VIEW_DONE = "done"
VIEWS = (VIEW_MINE, VIEW_TEAM, VIEW_UNASSIGNED, VIEW_BREACHING, VIEW_DONE)


def breach_q(now: dt.datetime) -> Q:
    """Active tickets past a target: no first response by its due time, or not resolved by
    the resolution due time."""
    return Q(status__in=ACTIVE_STATUSES) & (
        Q(due_at__lt=now) | Q(first_responded_at__isnull=True, first_response_due_at__lt=now)
    )


def _with_flags(tickets: QuerySet[Ticket], now: dt.datetime) -> QuerySet[Ticket]:
    return tickets.annotate(
        breaching=Case(When(breach_q(now), then=Value(True)), default=Value(False),
                       output_field=BooleanField()),
        priority_rank=Case(
            When(priority="urgent", then=Value(0)), When(priority="high", then=Value(1)),
            When(priority="normal", then=Value(2)), default=Value(3),
            output_field=IntegerField(),
        ),
    )  # fmt: skip


def ticket_queue(
    *, user: Any, view: str = VIEW_TEAM, now: dt.datetime | None = None
) -> QuerySet[Ticket]:
    """The queue: ``mine`` (owned by ``user``), ``team`` (every active ticket),
    ``unassigned``, ``breaching`` (past a target) or ``done``; breaching tickets first, then
    by priority and the resolution due time."""
    now = now or timezone.now()
    tickets = Ticket.objects.select_related("customer", "category", "owner")
    if view == VIEW_DONE:
        return tickets.exclude(status__in=ACTIVE_STATUSES).order_by("-resolved_at", "-pk")
    tickets = _with_flags(tickets.filter(status__in=ACTIVE_STATUSES), now)
    if view == VIEW_MINE:
        tickets = tickets.filter(owner=user)
    elif view == VIEW_UNASSIGNED:
        tickets = tickets.filter(owner__isnull=True)
    elif view == VIEW_BREACHING:
        tickets = tickets.filter(breach_q(now))
    return tickets.order_by("-breaching", "priority_rank", "due_at", "pk")


def ticket_counts(*, user: Any, now: dt.datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    active = Q(status__in=ACTIVE_STATUSES)
    return Ticket.objects.aggregate(
        team=Count("pk", filter=active),
        mine=Count("pk", filter=active & Q(owner_id=getattr(user, "pk", None))),
        unassigned=Count("pk", filter=active & Q(owner__isnull=True)),
        breaching=Count("pk", filter=breach_q(now)),
    )


def ticket_get(*, pk: int) -> Ticket | None:
    return (
        Ticket.objects.select_related("customer", "category", "owner", "order", "created_by")
        .prefetch_related("messages__author")
        .filter(pk=pk)
        .first()
    )


def tickets_for_customer(*, customer: Any, limit: int = 10) -> list[Ticket]:
    return list(
        Ticket.objects.filter(customer=customer)
        .select_related("category")
        .order_by("-opened_at", "-pk")[:limit]
    )


def responses_for_customer(*, customer: Any, limit: int = 10) -> list[SurveyResponse]:
    return list(SurveyResponse.objects.filter(customer=customer).order_by("-answered_at")[:limit])


def category_list(*, active_only: bool = True) -> QuerySet[TicketCategory]:
    categories = TicketCategory.objects.all()
    return categories.filter(active=True) if active_only else categories


def ticket_owner_choices() -> QuerySet[Any]:
    """Active users who may own tickets (their role or they themselves hold the permission)."""
    permission = Permission.objects.filter(
        content_type__app_label="accounts", codename="manage_tickets"
    ).first()
    holders = Q(is_superuser=True)
    if permission is not None:
        holders |= Q(groups__permissions=permission) | Q(user_permissions=permission)
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(holders)
        .distinct()
        .order_by("username")
    )


@dataclass(frozen=True)
class TicketReport:
    since: dt.date
    until: dt.date
    opened: int
    complaints: int
    backlog: int
    breaching: int
    resolved: int
    first_response_hours: float | None  # mean business hours to the first response
    resolution_hours: float | None
    first_response_in_sla: float | None  # share of answered tickets answered in time
    resolution_in_sla: float | None
    reopen_rate: float | None  # of the resolved tickets, the share reopened at least once
    orders: int
    complaints_per_1000_orders: float | None
    recovery_rate: float | None  # resolved complaints followed by a purchase
    by_month: tuple[dict[str, Any], ...]
    by_category: tuple[dict[str, Any], ...]

    def as_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        out = asdict(self)
        out["since"], out["until"] = self.since.isoformat(), self.until.isoformat()
        out["by_month"], out["by_category"] = list(self.by_month), list(self.by_category)
        return out


def _ratio(a: int, b: int) -> float | None:
    return a / b if b else None


def ticket_report(
    *, since: dt.date | None = None, until: dt.date | None = None, now: dt.datetime | None = None
) -> TicketReport:
    """Ticket figures of the tickets opened from ``since`` to ``until`` (default: the last 365
    days): volume, backlog, response and resolution times in business hours against the SLA,
    reopen rate, complaints per 1,000 orders and the recovery rate."""
    from patron.retention.services import PURCHASE_STATUSES
    from patron.sales.models import Order
    from patron.service.sla import business_hours_from_settings

    now = now or timezone.now()
    until = until or timezone.localdate(now)
    since = since or until - dt.timedelta(days=365)
    tickets = Ticket.objects.filter(opened_at__date__gte=since, opened_at__date__lte=until)
    totals = tickets.aggregate(
        opened=Count("pk"),
        complaints=Count("pk", filter=Q(kind=TicketKind.COMPLAINT)),
        backlog=Count("pk", filter=Q(status__in=ACTIVE_STATUSES)),
        breaching=Count("pk", filter=breach_q(now)),
        resolved=Count("pk", filter=Q(resolved_at__isnull=False)),
        answered=Count("pk", filter=Q(first_responded_at__isnull=False)),
        answered_in_time=Count("pk", filter=Q(first_responded_at__lte=F("first_response_due_at"))),
        resolved_in_time=Count("pk", filter=Q(resolved_at__lte=F("due_at"))),
        reopened=Count("pk", filter=Q(reopen_count__gt=0)),
        complaints_done=Count("pk", filter=Q(kind=TicketKind.COMPLAINT, resolved_at__isnull=False)),
        recovered=Count("pk", filter=Q(recovered_on__isnull=False)),
    )
    hours = business_hours_from_settings()
    first, resolve = [], []
    for opened, answered, resolved in tickets.values_list(
        "opened_at", "first_responded_at", "resolved_at"
    ).iterator(chunk_size=2000):
        if answered is not None:
            first.append(hours.between(opened, answered))
        if resolved is not None:
            resolve.append(hours.between(opened, resolved))
    orders = Order.objects.filter(
        ordered_on__gte=since, ordered_on__lte=until, status__in=PURCHASE_STATUSES
    ).count()
    by_month = [
        {"month": row["month"].strftime("%Y-%m"), "opened": row["n"], "complaints": row["c"]}
        for row in tickets.annotate(month=_month("opened_at"))
        .values("month")
        .annotate(n=Count("pk"), c=Count("pk", filter=Q(kind=TicketKind.COMPLAINT)))
        .order_by("month")
    ]
    by_category = [
        {"category": row["category__code"], "opened": row["n"], "complaints": row["c"]}
        for row in tickets.values("category__code")
        .annotate(n=Count("pk"), c=Count("pk", filter=Q(kind=TicketKind.COMPLAINT)))
        .order_by("-n", "category__code")
    ]
    return TicketReport(
        since=since,
        until=until,
        opened=totals["opened"],
        complaints=totals["complaints"],
        backlog=totals["backlog"],
        breaching=totals["breaching"],
        resolved=totals["resolved"],
        first_response_hours=sum(first) / len(first) if first else None,
        resolution_hours=sum(resolve) / len(resolve) if resolve else None,
        first_response_in_sla=_ratio(totals["answered_in_time"], totals["answered"]),
        resolution_in_sla=_ratio(totals["resolved_in_time"], totals["resolved"]),
        reopen_rate=_ratio(totals["reopened"], totals["resolved"] + totals["reopened"]),
        orders=orders,
        complaints_per_1000_orders=(1000 * totals["complaints"] / orders if orders else None),
        recovery_rate=_ratio(totals["recovered"], totals["complaints_done"]),
        by_month=tuple(by_month),
        by_category=tuple(by_category),
    )


def _month(field: str) -> Any:
    from django.db.models.functions import TruncMonth

    return TruncMonth(field)
