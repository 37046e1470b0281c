"""Reads over users and the audit trail."""

from __future__ import annotations

from typing import Any

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet

from patron.accounts.roles import ROLE_NAMES


def user_roles(*, user: Any) -> list[str]:
    if not user.is_authenticated:
        return []
    return [name for name in user.groups.values_list("name", flat=True) if name in ROLE_NAMES]


def audit_entries_for_customer(*, customer: Any, limit: int = 50) -> QuerySet[LogEntry]:
    """Changes to the customer record and to its consents, newest first."""
    from patron.customers.models import Consent, Customer

    types = ContentType.objects.get_for_models(Customer, Consent)
    consent_ids = [str(pk) for pk in customer.consents.values_list("pk", flat=True)]
    condition = Q(content_type=types[Customer], object_pk=str(customer.pk))
    if consent_ids:
        condition |= Q(content_type=types[Consent], object_pk__in=consent_ids)
    return (
        LogEntry.objects.filter(condition)
        .select_related("actor", "content_type")
        .order_by("-timestamp", "-pk")[:limit]
    )
