"""A new ticket's default priority and its SLA targets: from the kind, the customer's value
tier and churn risk (the latest analysis run and the warning list), and the SLA targets."""

from __future__ import annotations

from patron.customers.models import Customer
from patron.service.models import PRIORITY_ORDER, Priority, SlaTarget, TicketKind

# Default targets in business hours: (first response, resolution) per priority.
DEFAULT_SLA: dict[str, tuple[float, float]] = {
    Priority.URGENT: (1, 8),
    Priority.HIGH: (2, 16),
    Priority.NORMAL: (4, 24),
    Priority.LOW: (8, 40),
}
# Without a target of its own, a tier's targets are the priority's times this factor.
TIER_FACTOR = {"very_high": 0.5, "high": 0.75}
# How many steps of priority a value tier and a churn risk add to a ticket's base priority.
TIER_STEPS = {"very_high": 2, "high": 1}
RISK_STEPS = {"high": 1}
BASE_PRIORITY = {TicketKind.COMPLAINT: Priority.NORMAL}


def customer_standing(customer: Customer) -> tuple[str, str]:
    """(value tier, churn risk level) of the customer in the latest completed analysis run
    that scored them; blank when none did. An open churn warning counts as high risk."""
    from patron.insights.models import CustomerScore, RunStatus
    from patron.retention.models import OPEN_STATUSES, ChurnWarning

    score = (
        CustomerScore.objects.filter(customer=customer, run__status=RunStatus.COMPLETED)
        .order_by("-run__as_of", "-run_id")
        .values("value_tier", "risk_level")
        .first()
    )
    tier = (score or {}).get("value_tier") or ""
    risk = (score or {}).get("risk_level") or ""
    if ChurnWarning.objects.filter(customer=customer, status__in=OPEN_STATUSES).exists():
        risk = "high"
    return tier, risk


def priority_default(*, kind: str, value_tier: str, risk_level: str) -> Priority:
    """A complaint starts at normal, anything else at low; a high or very-high value tier adds
    one or two steps and a high churn risk one more (urgent at most). So a complaint from a
    very-high-value customer is urgent."""
    base = PRIORITY_ORDER.index(BASE_PRIORITY.get(TicketKind(kind), Priority.LOW))
    steps = TIER_STEPS.get(value_tier, 0) + RISK_STEPS.get(risk_level, 0)
    return PRIORITY_ORDER[min(base + steps, len(PRIORITY_ORDER) - 1)]


def sla_hours(*, priority: str, value_tier: str) -> tuple[float, float]:
    """(first response, resolution) targets in business hours: the tier's own SlaTarget row,
    else the row for every tier scaled by the tier factor, else the defaults scaled."""
    rows = {
        row.value_tier: row
        for row in SlaTarget.objects.filter(priority=priority, value_tier__in=[value_tier, ""])
    }
    if value_tier and value_tier in rows:
        row = rows[value_tier]
        return float(row.first_response_hours), float(row.resolution_hours)
    factor = TIER_FACTOR.get(value_tier, 1.0)
    if "" in rows:
        first, resolve = float(rows[""].first_response_hours), float(rows[""].resolution_hours)
    else:
        first, resolve = DEFAULT_SLA[priority]
    return first * factor, resolve * factor
