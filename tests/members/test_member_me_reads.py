"""GET /me is a read: a fixed handful of statements, nothing written, and the figures the
settlement would leave (lots past their last day expired, holds past their time given back).
The next tier's "by" is the last day the points counted now still count."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import dateformat, timezone, translation

from patron.loyalty import services as loyalty
from patron.loyalty.models import Hold, LedgerEntry, Tier
from patron.loyalty.selectors import member_expiring
from patron.loyalty.services.tiers import qualifying_values
from patron.members.selectors import tier_deadline

pytestmark = pytest.mark.django_db
WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE|SAVEPOINT)\b|\bFOR UPDATE\b", re.IGNORECASE)


@pytest.fixture
def unsettled(member_with: Any) -> Any:
    """A member whose ledger waits for settlement: a lot past its last day with points left,
    and a hold past its time not released; besides, lots to come and points not yet
    spendable. Tiers on, by points, over 12 months; gold from 5,000."""
    programme = loyalty.programme_get()
    programme.tiers_enabled, programme.tier_basis, programme.tier_window_months = (
        True,
        "points",
        12,
    )
    programme.save()
    Tier.objects.create(programme=programme, code="silver", name_en="Silver", name_zh="银卡",
                        rank=0, threshold=0)  # fmt: skip
    Tier.objects.create(programme=programme, code="gold", name_en="Gold", name_zh="金卡",
                        rank=1, threshold=5000)  # fmt: skip
    member = member_with("Q1")
    today = timezone.localdate()
    lots = {}
    for name, points in (("old", 500), ("year", 1200), ("soon", 300), ("later", 100)):
        entry = loyalty.points_grant(
            customer_id=member.customer_id, points=points, reason=name, source=f"q:{name}"
        )
        assert entry is not None
        lots[name] = entry
    days = {"old": (-400, 1), "year": (-100, 265), "soon": (-20, 5), "later": (0, 300)}
    for name, (earned, expires) in days.items():
        LedgerEntry.objects.filter(pk=lots[name].pk).update(
            effective_on=today + dt.timedelta(days=earned),
            expires_on=today + dt.timedelta(days=expires),
        )
    LedgerEntry.objects.filter(pk=lots["later"].pk).update(
        available_on=today + dt.timedelta(days=3)
    )
    loyalty.points_adjust(member=member, points=-200, reason="fix")  # from "old"
    hold, _ = loyalty.hold_create(member=member, points=350, idempotency_key="till-1")
    # then time passes: "old" ended 35 days ago, the hold's time is up
    LedgerEntry.objects.filter(pk=lots["old"].pk).update(expires_on=today - dt.timedelta(days=35))
    Hold.objects.filter(pk=hold.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    return member


def test_me_reads_in_three_statements_and_writes_nothing(
    unsettled: Any, sign_in: Any, bearer: Any
) -> None:
    # given a signed-in member whose ledger waits for settlement
    token = sign_in("q1@example.com")
    entries, holds = LedgerEntry.objects.count(), list(Hold.objects.values_list("status"))

    # when the member reads /me
    with CaptureQueriesContext(connection) as queries:
        answer = Client().get("/api/v1/member/me", headers=bearer(token))

    # then three statements (session, programme with next tier, ledger), none a write
    assert answer.status_code == 200, answer.content
    sql = [q["sql"] for q in queries.captured_queries]
    assert len(sql) == 3, "\n".join(sql)
    assert not [s for s in sql if WRITES.search(s)]
    assert LedgerEntry.objects.count() == entries
    assert list(Hold.objects.values_list("status")) == holds
    # and the figures are those the settlement leaves: settle, then read the ledger
    me = answer.json()
    today = timezone.localdate()
    member = loyalty.member_refresh(member=unsettled)
    assert LedgerEntry.objects.count() > entries  # the settlement had work to do
    balance = loyalty.balance_of(member_id=member.pk)
    assert (me["points_balance"], me["points_pending"]) == (balance.available, balance.pending)
    assert (balance.available, balance.pending) == (500 + 1200 + 300 - 200 - 300, 100)
    expiring = [
        {"points": e["points"], "expires_on": e["expires_on"].isoformat()}
        for e in member_expiring(member=member)
    ]
    assert me["expiring"] == expiring
    assert [e["points"] for e in expiring] == [300, 1200]
    have = qualifying_values(today=today, customer_ids=[member.customer_id])[member.pk]
    assert have == 1600
    assert me["next_tier"]["code"] == "gold"
    assert Decimal(str(me["next_tier"]["missing"])) == 5000 - have


def test_next_tier_by_is_the_last_day_the_counted_points_still_count(
    unsettled: Any, sign_in: Any, bearer: Any
) -> None:
    # given the member's 1,600 points in the window, the oldest earned 100 days ago
    token = sign_in("q1@example.com")

    # when the member reads the next tier
    nxt = Client().get("/api/v1/member/me", headers=bearer(token)).json()["next_tier"]

    # then on "by" the tiers still count all 1,600 points, the day after not the oldest 1,200
    by = dt.date.fromisoformat(nxt["by"])
    customers = [unsettled.customer_id]
    assert qualifying_values(today=by, customer_ids=customers)[unsettled.pk] == 1600
    after = qualifying_values(today=by + dt.timedelta(days=1), customer_ids=customers)
    assert after[unsettled.pk] == 400
    # and the missing points earned on "by" reach gold that day
    LedgerEntry.objects.create(member=unsettled, kind="earn", points=int(nxt["missing"]),
                               is_lot=True, source="q:more", effective_on=by,
                               created_at=timezone.now())  # fmt: skip
    assert qualifying_values(today=by, customer_ids=customers)[unsettled.pk] >= 5000


def test_portal_home_gives_the_day_in_both_languages(unsettled: Any, code_of: Any) -> None:
    # given the member signed in to the portal
    client = Client()
    client.post("/member/login/", {"email": "q1@example.com"})
    code = code_of("q1@example.com")
    client.post("/member/login/code/", {"email": "q1@example.com", "code": code})

    # when the home page opens in English and in Chinese
    english = client.get("/member/", headers={"Accept-Language": "en"}).content.decode()
    client.cookies["django_language"] = "zh-hans"
    chinese = client.get("/member/", headers={"Accept-Language": "zh-hans"}).content.decode()

    # then the next tier names the day (the oldest points leave the window the day after)
    first = timezone.localdate() - dt.timedelta(days=100)
    by = first + relativedelta(months=12) - dt.timedelta(days=1)
    with translation.override("en"):
        day = dateformat.format(by, "N j, Y")
    assert f"3,400 more by {day} reaches Gold" in english
    assert f"在 {by.year}年{by.month}月{by.day}日 前再累计 3400 即可升级为金卡" in chinese


@pytest.mark.parametrize("months", [1, 3, 12, 24])
def test_tier_deadline_matches_calendar_months(months: int) -> None:
    # given every first counted day over two years, month ends and leap days among them
    today = dt.date(2027, 12, 31)
    for offset in range(0, 800, 1):
        first = dt.date(2026, 1, 1) + dt.timedelta(days=offset)
        if first > today:
            break
        # when the deadline is figured
        by = tier_deadline(since=first, today=today, window_months=months)
        # then it is the last day whose window (day less the months, calendar-wise) starts
        # before ``first``, found day by day with dateutil
        day = first
        while (day + dt.timedelta(days=1)) - relativedelta(months=months) < first:
            day += dt.timedelta(days=1)
        assert by == day, (first, months)
    assert tier_deadline(since=None, today=today, window_months=12) == dt.date(2028, 12, 30)
    assert tier_deadline(since=None, today=today, window_months=0) is None
