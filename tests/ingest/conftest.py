"""Helpers shared by the platform-export tests: the `patron` command and net revenue."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from decimal import Decimal

import pytest
from typer.testing import CliRunner

Invoke = Callable[..., tuple[int, dict]]


@pytest.fixture
def cli() -> Invoke:
    """Run ``patron ARGS --json``; returns the exit code and the printed report."""
    from patron.cli import app

    runner = CliRunner()

    def invoke(*args: str) -> tuple[int, dict]:
        result = runner.invoke(app, [*args, "--json"])
        try:
            return result.exit_code, json.loads(result.stdout)
        except json.JSONDecodeError:
            raise AssertionError(f"{result.output} {result.exception!r}") from None

    return invoke


@pytest.fixture
def net_revenue_by_customer() -> Callable[[], dict[str, Decimal]]:
    """Net revenue per customer id as stored: paid orders (completed, open, refunded)
    plus their returns (negative); unpaid, cancelled and unknown orders never count."""
    from django.db.models import Sum

    from patron.sales.models import REVENUE_STATUSES, Order

    def revenue() -> dict[str, Decimal]:
        rows = (
            Order.objects.filter(status__in=[str(s) for s in REVENUE_STATUSES])
            .values("customer__external_id")
            .annotate(total=Sum("amount"))
        )
        return {r["customer__external_id"]: r["total"] for r in rows}

    return revenue


@pytest.fixture
def tel() -> Callable[[str], str]:
    """The customer id Patron documents for a customer known by phone: ``tel-`` and the
    first 16 hex digits of BLAKE2b over the normalised digits (computed here on its own,
    not with Patron's code)."""

    def key(phone: str) -> str:
        return "tel-" + hashlib.blake2b(phone.encode(), digest_size=8).hexdigest()

    return key
