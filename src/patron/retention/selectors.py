"""Reads over the warning list: filtered lists, owners, counts, and the lost-customer analysis."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Count, Q, QuerySet, Sum

from patron.retention.models import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    ChurnWarning,
    LostReason,
    WarningStatus,
)

#: ``status`` filter values besides the statuses themselves.
STATUS_OPEN = "open_all"  # open or in progress: what still needs doing
STATUS_CLOSED = "closed_all"
STATUS_ANY = "any"
OWNER_ME = "me"
OWNER_NOBODY = "none"


def warning_filter(
    *,
    level: str = "",
    status: str = STATUS_OPEN,
    owner: Any | None = None,
    unassigned: bool = False,
    due_by: dt.date | None = None,
) -> QuerySet[ChurnWarning]:
    """Warnings, highest risk first within the newest raised.

    ``status`` is a status, :data:`STATUS_OPEN` (default), :data:`STATUS_CLOSED` or
    :data:`STATUS_ANY`; ``owner`` a user, or ``unassigned`` for warnings nobody owns;
    ``due_by`` keeps open warnings whose follow-up date is on or before that day.
    """
    warnings = ChurnWarning.objects.select_related("customer", "owner")
    if status == STATUS_OPEN:
        warnings = warnings.filter(status__in=OPEN_STATUSES)
    elif status == STATUS_CLOSED:
        warnings = warnings.filter(status__in=CLOSED_STATUSES)
    elif status in WarningStatus.values:
        warnings = warnings.filter(status=status)
    if level:
        warnings = warnings.filter(risk_level=level)
    if unassigned:
        warnings = warnings.filter(owner__isnull=True)
    elif owner is not None:
        warnings = warnings.filter(owner=owner)
    if due_by is not None:
        warnings = warnings.filter(status__in=OPEN_STATUSES, follow_up_on__lte=due_by)
        return warnings.order_by("follow_up_on", "-risk_score", "pk")
    return warnings.order_by("-raised_on", "-risk_score", "pk")


def warning_get(*, pk: int) -> ChurnWarning | None:
    return (
        ChurnWarning.objects.select_related("customer", "owner", "responded_by", "run")
        .filter(pk=pk)
        .first()
    )


def warning_owner_choices() -> QuerySet[Any]:
    """Active users who may own warnings (their role or they themselves hold the permission)."""
    from patron.retention.services import ACT_PERMISSION

    app_label, codename = ACT_PERMISSION.split(".")
    permission = Permission.objects.filter(
        content_type__app_label=app_label, codename=codename
    ).first()
    users = get_user_model().objects.filter(is_active=True)
    holders = Q(is_superuser=True)
    if permission is not None:
        holders |= Q(groups__permissions=permission) | Q(user_permissions=permission)
    return users.filter(holders).distinct().order_by("username")


def warning_counts(*, user: Any, today: dt.date) -> dict[str, int]:
    """The tiles over the list: open warnings, of high risk, unassigned, mine, follow-ups due."""
    open_ = Q(status__in=OPEN_STATUSES)
    return ChurnWarning.objects.aggregate(
        open=Count("pk", filter=open_),
        high=Count("pk", filter=open_ & Q(risk_level="high")),
        unassigned=Count("pk", filter=open_ & Q(owner__isnull=True)),
        mine=Count("pk", filter=open_ & Q(owner_id=getattr(user, "pk", None))),
        due=Count("pk", filter=open_ & Q(follow_up_on__lte=today)),
    )


def warning_for_customer(*, customer: Any, limit: int = 10) -> list[ChurnWarning]:
    """The customer's warnings, newest first."""
    return list(
        ChurnWarning.objects.filter(customer=customer)
        .select_related("owner")
        .order_by("-raised_on", "-pk")[:limit]
    )


# --- lost-customer analysis -------------------------------------------------------------------


@dataclass(frozen=True)
class ReasonRow:
    code: str
    label: str
    customers: int
    share: float  # of the lost customers
    clv: Decimal  # predicted value (CLV) lost with them, as of their warning
    revenue: Decimal  # their past revenue


@dataclass(frozen=True)
class LostAnalysis:
    """Closed warnings over a period: who was lost, why, what it cost, how many came back.

    ``win_back_rate`` is won back / (won back + lost): the share of the worked-on customers
    who were kept; customers who came back by themselves (``recovered``) are outside it. None
    when nobody was won back or lost yet.
    """

    since: dt.date | None
    lost: int
    won_back: int
    recovered: int
    win_back_rate: float | None
    clv_lost: Decimal
    revenue_lost: Decimal
    clv_won_back: Decimal
    reasons: tuple[ReasonRow, ...]
    notes: tuple[tuple[str, str], ...]  # (reason label, words) of the latest lost customers


ZERO = Decimal("0.00")


def lost_analysis(*, since: dt.date | None = None, notes: int = 10) -> LostAnalysis:
    """The lost-customer analysis of the warnings closed on or after ``since`` (default: all).

    Two aggregate queries and one for the latest words given as reasons.
    """
    closed = ChurnWarning.objects.filter(status__in=CLOSED_STATUSES)
    if since is not None:
        closed = closed.filter(closed_at__date__gte=since)
    lost_q, won_q = Q(status=WarningStatus.LOST), Q(status=WarningStatus.WON_BACK)
    totals = closed.aggregate(
        lost=Count("pk", filter=lost_q),
        won_back=Count("pk", filter=won_q),
        recovered=Count("pk", filter=Q(status=WarningStatus.RECOVERED)),
        clv_lost=Sum("clv", filter=lost_q),
        revenue_lost=Sum("revenue", filter=lost_q),
        clv_won_back=Sum("clv", filter=won_q),
    )
    lost = closed.filter(lost_q)
    by_reason = {
        row["lost_reason"]: row
        for row in lost.values("lost_reason").annotate(
            n=Count("pk"), clv_sum=Sum("clv"), revenue_sum=Sum("revenue")
        )
    }
    n_lost = int(totals["lost"])
    reasons = []
    for reason in LostReason:
        row = by_reason.get(reason.value)
        if row is None:
            continue
        reasons.append(
            ReasonRow(
                code=reason.value,
                label=str(reason.label),
                customers=int(row["n"]),
                share=int(row["n"]) / n_lost,
                clv=row["clv_sum"] or ZERO,
                revenue=row["revenue_sum"] or ZERO,
            )
        )
    reasons.sort(key=lambda r: (-r.customers, -r.clv, r.code))
    decided = n_lost + int(totals["won_back"])
    labels = dict(LostReason.choices)
    words = [
        (str(labels.get(code, code)), text)
        for code, text in lost.exclude(lost_reason_text="")
        .order_by("-closed_at", "-pk")
        .values_list("lost_reason", "lost_reason_text")[:notes]
    ]
    return LostAnalysis(
        since=since,
        lost=n_lost,
        won_back=int(totals["won_back"]),
        recovered=int(totals["recovered"]),
        win_back_rate=int(totals["won_back"]) / decided if decided else None,
        clv_lost=totals["clv_lost"] or ZERO,
        revenue_lost=totals["revenue_lost"] or ZERO,
        clv_won_back=totals["clv_won_back"] or ZERO,
        reasons=tuple(reasons),
        notes=tuple(words),
    )
