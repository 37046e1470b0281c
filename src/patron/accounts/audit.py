"""Audit trail (django-auditlog): who changed which record, when, old and new values."""

from __future__ import annotations

from typing import Any

from auditlog.registry import auditlog

UNTRACKED_FIELDS = ["created_at", "updated_at"]


def audit_register(model: Any) -> None:
    """Keep the trail of ``model``'s own columns (apps call this from ``AppConfig.ready``)."""
    if not auditlog.contains(model):
        # The record's own columns only; reverse relations (orders, scores) are not its fields.
        fields = [
            f.name
            for f in model._meta.concrete_fields
            if f.name not in UNTRACKED_FIELDS and not f.primary_key
        ]
        auditlog.register(model, include_fields=fields)


def register_models() -> None:
    from patron.customers.models import Consent, Customer, Interaction

    for model in (Customer, Consent, Interaction):
        audit_register(model)
