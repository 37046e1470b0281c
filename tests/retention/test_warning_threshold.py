"""Warnings worth working: raised for the at-risk customers who make up the top share of the
value at risk (checked against pandas), at most so many open, ordered and filtered for a
caller, who sees the phone as their role may, the consent and the last contact."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from patron.customers.models import Channel, Consent, Customer, Interaction
from patron.retention.models import ChurnWarning
from patron.retention.selectors import WarningThreshold, warning_filter, warning_threshold_get
from patron.retention.services import warning_list_refresh, warning_threshold_save

pytestmark = pytest.mark.django_db
TODAY = dt.date(2024, 7, 2)


def _shop(make_run: Any, make_score: Any, n: int = 60) -> pd.DataFrame:
    """A run whose value at risk is heavy-tailed (a few customers hold most of it)."""
    run = make_run()
    rng = np.random.default_rng(5)
    values = np.round(rng.pareto(1.2, n) * 40 + 1, 2)
    levels = rng.choice(["high", "medium", "low"], n, p=[0.5, 0.3, 0.2])
    tiers = rng.choice(["very_high", "high", "moderate", "low", "very_low"], n)
    for i in range(n):
        make_score(
            run,
            f"K{i:03d}",
            level=str(levels[i]),
            value_at_risk=f"{values[i]:.2f}",
            tier=str(tiers[i]),
            recency_days=30 + i,
            risk_score=0.4 + (i % 50) / 100,
        )
    return pd.DataFrame({"id": [f"K{i:03d}" for i in range(n)], "v": values, "level": levels})


def _expected(frame: pd.DataFrame, share: float) -> set[str]:
    ranked = frame.sort_values("v", ascending=False)
    reached = ranked.v.cumsum() >= share * ranked.v.sum() - 1e-9
    cutoff = ranked.v[reached].iloc[0]
    keep = (frame.v >= cutoff) & frame.level.isin(["high", "medium"])
    return set(frame[keep].id)


def _warned() -> set[str]:
    return set(ChurnWarning.objects.values_list("customer__external_id", flat=True))


def test_default_threshold_is_the_top_80_percent_of_value_at_risk(
    make_run: Any, make_score: Any
) -> None:
    frame = _shop(make_run, make_score)

    result = warning_list_refresh(today=TODAY)

    expected = _expected(frame, 0.8)
    assert _warned() == expected and result.raised == len(expected)
    assert len(expected) < frame.level.isin(["high", "medium"]).sum()  # fewer than every at-risk
    # the list: largest value at risk first
    values = [w.value_at_risk for w in warning_filter()]
    assert values == sorted(values, reverse=True)


def test_the_admin_sets_the_share_the_least_value_and_the_cap(
    make_run: Any, make_score: Any
) -> None:
    frame = _shop(make_run, make_score)
    with pytest.raises(ValidationError):
        warning_threshold_save(threshold=WarningThreshold(share=0))

    warning_threshold_save(
        threshold=WarningThreshold(share=0.5, min_value=Decimal("10.00"), max_open=3)
    )
    warning_list_refresh(today=TODAY)

    assert warning_threshold_get() == WarningThreshold(0.5, Decimal("10.00"), 3)
    candidates = _expected(frame, 0.5) & set(frame[frame.v >= 10].id)
    top3 = set(frame[frame.id.isin(candidates)].nlargest(3, "v").id)
    assert _warned() == top3


def test_list_sorts_filters_and_shows_what_a_caller_needs(
    make_run: Any, make_score: Any, make_user: Any
) -> None:
    _shop(make_run, make_score)
    warning_threshold_save(threshold=WarningThreshold(share=1.0, max_open=None))
    warning_list_refresh(today=TODAY)
    first = ChurnWarning.objects.order_by("-value_at_risk").first()
    assert first is not None
    customer = first.customer
    Customer.objects.filter(pk=customer.pk).update(phone="13812345678")
    Consent.objects.create(
        customer=customer, channel=Channel.PHONE, granted=True, recorded_at=timezone.now()
    )
    Consent.objects.create(
        customer=customer, channel=Channel.SMS, granted=False, recorded_at=timezone.now()
    )
    Interaction.objects.create(
        customer=customer, kind="call", occurred_at=dt.datetime(2024, 6, 20, 10, tzinfo=dt.UTC)
    )

    # sorting and filters, against the rows themselves
    by_risk = [w.risk_score for w in warning_filter(sort="risk")]
    assert by_risk == sorted(by_risk, reverse=True)
    by_recency = [w.last_purchase for w in warning_filter(sort="recency")]
    assert by_recency == sorted(by_recency)
    assert {w.value_tier for w in warning_filter(tier="moderate")} == {"moderate"}

    # the page: masked phone for an analyst, full for service; consent and last contact
    pages = {}
    for role in ("analyst", "service"):
        client = Client()
        client.force_login(make_user(f"u-{role}", role))
        pages[role] = client.get("/warnings/", headers={"accept-language": "en"}).content.decode()
    row = {
        role: re.search(rf'data-customer="{customer.external_id}">(.*?)</tr>', page, re.S)
        for role, page in pages.items()
    }
    assert row["analyst"] and "138****5678" in row["analyst"].group(1)
    assert row["service"] and "13812345678" in row["service"].group(1)
    assert 'data-phone="yes" data-sms="no"' in row["service"].group(1)
    assert "2024-06-20" in row["service"].group(1)
    # the first row is the largest value at risk
    first_row = re.search(r'<tr data-warning="\d+" data-customer="([^"]+)">', pages["service"])
    assert first_row and first_row.group(1) == customer.external_id
    page = Client()
    page.force_login(make_user("u-admin", "admin"))
    tiered = page.get("/warnings/", {"tier": "moderate", "sort": "risk"}).content.decode()
    assert set(re.findall(r'data-tier="(\w+)"', tiered)) == {"moderate"}
    assert 'id="threshold"' in tiered and 'id="threshold"' not in pages["service"]
