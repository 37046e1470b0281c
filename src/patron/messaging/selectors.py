"""Reads of the outbox: counts by status, a customer's messages."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from patron.messaging.models import OutboxMessage


def outbox_counts(*, key_prefix: str = "") -> dict[str, int]:
    """Messages by status (``in_doubt`` apart from the rest), optionally of one key prefix."""
    rows = OutboxMessage.objects.all()
    if key_prefix:
        rows = rows.filter(key__startswith=key_prefix)
    return {r["status"]: r["n"] for r in rows.values("status").annotate(n=Count("id"))}


def outbox_for_customer(*, customer_id: int, limit: int = 20) -> QuerySet[OutboxMessage]:
    return OutboxMessage.objects.filter(customer_id=customer_id).order_by("-created_at")[:limit]
