"""Member notifications through the one outbox against a real SMTP server (aiosmtpd): one
message per (member, event) however often the scan runs, opt-outs per kind, the member's
language, and a worker killed with SIGKILL after the server accepted a message and before
its row was marked: after a restart each member has each notification once."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from patron.customers.models import Customer
from patron.loyalty import services as loyalty
from patron.loyalty.models import Member, Reward, Tier, TierChange
from patron.members.models import Profile
from patron.members.notify import KINDS, notifications_scan, template_get
from patron.messaging.dispatch import outbox_dispatch
from patron.messaging.models import OutboxMessage
from patron.messaging.policy import unsubscribe_read
from patron.messaging.services import unsubscribe_record

WORKER = Path(__file__).parents[1] / "messaging" / "worker_process.py"


def _events(n: int) -> list[Member]:
    """``n`` new members, each with a welcome, a tier up, points expiring within days and a
    redemption: four notifications each."""
    for kind in KINDS:
        template_get(kind)
    programme = loyalty.programme_get()
    programme.expiry_mode, programme.expiry_days = "days", 5
    programme.save()
    gold = Tier.objects.create(programme=programme, code="gold", name_en="Gold", name_zh="金卡",
                               rank=1, threshold=0)  # fmt: skip
    reward = Reward.objects.create(code="cup", name_en="Cup", name_zh="杯子", points_cost=10)
    members = []
    for i in range(n):
        Customer.objects.create(external_id=f"N{i}", name=f"会员{i}", email=f"n{i}@example.com")
        member = loyalty.member_enrol(customer_id=f"N{i}", enrolled_at=timezone.now())
        loyalty.points_grant(customer_id=member.customer_id, points=100, reason="gift",
                             source=f"gift:{i}")  # fmt: skip
        TierChange.objects.create(member=member, to_tier=gold, changed_on=timezone.localdate(),
                                  reason="upgrade")  # fmt: skip
        loyalty.points_redeem(member=member, idempotency_key=f"r{i}",
                              rewards=[loyalty.RewardLine(reward.pk, 1)])  # fmt: skip
        members.append(member)
    return members


@pytest.mark.django_db
def test_each_event_is_one_message_in_the_members_language(smtp_server: Any) -> None:
    # given two members, one reading Chinese, one who turned tier messages off
    zh, off = _events(2)
    Profile.objects.create(member=zh, language="zh-hans")
    unsubscribe_record(customer_id=off.customer_id, topic="member.tier", source="member")
    # when the scan runs three times and the outbox is dispatched twice
    first = notifications_scan()
    assert notifications_scan() == {k: 0 for k in first}
    outbox_dispatch()
    notifications_scan()
    outbox_dispatch()
    # then each member got each kind once; the opted-out kind was skipped, not sent
    assert {k: first[k] for k in ("welcome", "tier_up", "expiring", "redeemed")} == {
        "welcome": 2, "tier_up": 2, "expiring": 2, "redeemed": 2
    }  # fmt: skip
    keys = Counter(smtp_server.keys())
    assert set(keys.values()) == {1} and len(keys) == 7
    skipped = OutboxMessage.objects.get(key__startswith=f"member.tier_up:{off.pk}:")
    assert (skipped.status, skipped.reason) == ("skipped", "unsubscribed")
    # and the Chinese reader's messages are in Chinese, each with an unsubscribe link
    mine = [m["message"] for m in smtp_server.messages if m["to"] == [zh.customer.email]]
    assert len(mine) == 4
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in str(m["Subject"])) for m in mine)
    assert all("/m/u/" in m.get_body(("plain",)).get_content() for m in mine)
    # and the List-Unsubscribe header (one-click, RFC 8058) stops that kind only
    tier_mail = next(m for m in mine if m["X-Patron-Key"].startswith("member.tier_up"))
    token = tier_mail["List-Unsubscribe"].strip("<>").rstrip("/").rsplit("/", 1)[1]
    assert unsubscribe_read(token) == (zh.customer_id, "", "member.tier")


def _database_url() -> str:
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    user = settings.get("USER") or "postgres"
    host, port = settings.get("HOST") or "127.0.0.1", settings.get("PORT") or 5432
    return f"postgresql://{user}@{host}:{port}/{settings['NAME']}"


def _worker(smtp: Any, *, crash_after: int = 0) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update({"PATRON_DATABASE_URL": _database_url(), "PATRON_EMAIL_URL": smtp.url,
                "PATRON_ALLOW_INSECURE_KEY": "1", "PATRON_JOBS_IMMEDIATE": "1"})  # fmt: skip
    return subprocess.Popen(
        [sys.executable, str(WORKER), str(crash_after), "5"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.django_db(transaction=True)
def test_a_killed_notification_worker_sends_each_notification_once(smtp_server: Any) -> None:
    # given 5 members with 4 notifications each, queued by the scan
    _events(5)
    assert sum(notifications_scan().values()) == 20
    queued = sorted(OutboxMessage.objects.values_list("key", flat=True))
    # when the worker is killed after the SMTP server accepted its 7th message, before the
    # row was marked sent
    crashed = _worker(smtp_server, crash_after=7)
    crashed.wait(timeout=120)
    assert crashed.returncode == -9, crashed.stderr.read()[-2000:] if crashed.stderr else ""
    assert len(smtp_server.keys()) == 7
    # and the scan runs again (a retried job) and a new worker starts, twice
    assert sum(notifications_scan().values()) == 0
    for _ in range(2):
        restarted = _worker(smtp_server)
        _out, err = restarted.communicate(timeout=120)
        assert restarted.returncode == 0, err[-2000:]
    # then each member received each notification exactly once
    counts = Counter(smtp_server.keys())
    assert sorted(counts) == queued and set(counts.values()) == {1}
    statuses = Counter(OutboxMessage.objects.values_list("status", flat=True))
    assert statuses == {"sent": 19, "in_doubt": 1}
