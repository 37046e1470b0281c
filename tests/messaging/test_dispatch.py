"""The outbox against a real SMTP server (aiosmtpd): idempotent keys, the contact policy at
dispatch, bounces and temporary refusals, and exactly-once sending when a worker process is
killed with SIGKILL between the server's acceptance and the outbox commit, or when two worker
processes run at once."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from patron.customers.models import Consent, Customer
from patron.messaging.dispatch import outbox_dispatch
from patron.messaging.models import OutboxMessage, OutboxStatus, Suppression
from patron.messaging.policy import contact_policy_get, unsubscribe_read
from patron.messaging.services import message_enqueue, unsubscribe_record

WORKER = Path(__file__).with_name("worker_process.py")


def _customer(external_id: str, *, email: str = "", consent: bool = True) -> Customer:
    customer = Customer.objects.create(
        external_id=external_id, name=f"Name {external_id}", email=email or f"{external_id}@x.test"
    )
    Consent.objects.create(
        customer=customer, channel="email", granted=consent, recorded_at=timezone.now()
    )
    return customer


def _no_quiet_hours() -> None:
    policy = contact_policy_get()
    policy.quiet_start = policy.quiet_end = 0
    policy.save()


def _marketing(key: str, customer: Customer, topic: str = "offers") -> OutboxMessage:
    return message_enqueue(
        key=key,
        channel="email",
        recipient=customer.email,
        subject="Offer 优惠",
        body_text="Hello 你好",
        body_html="<p>Hello</p>",
        customer_id=customer.pk,
        purpose="marketing",
        topic=topic,
    )


@pytest.mark.django_db
def test_the_same_key_is_one_message_sent_once(smtp_server: Any) -> None:
    # given a message queued twice under one key
    _no_quiet_hours()
    customer = _customer("C1")
    first = _marketing("k-1", customer)
    again = _marketing("k-1", customer)
    # when the outbox is dispatched twice
    outbox_dispatch()
    outbox_dispatch()
    # then one row, one message on the server, with the unsubscribe header and both parts
    assert first.pk == again.pk and OutboxMessage.objects.count() == 1
    assert smtp_server.keys() == ["k-1"]
    received = smtp_server.messages[0]["message"]
    assert received["Subject"] == "Offer 优惠"
    assert received["List-Unsubscribe"].startswith("<http")
    token = received["List-Unsubscribe"].strip("<>").rstrip("/").rsplit("/", 1)[1]
    assert unsubscribe_read(token) == (customer.pk, "", "")
    types = [part.get_content_type() for part in received.walk()]
    assert "text/plain" in types and "text/html" in types
    assert OutboxMessage.objects.get().status == OutboxStatus.SENT


@pytest.mark.django_db
def test_consent_unsubscribes_and_addresses_hold_at_dispatch(smtp_server: Any) -> None:
    # given customers who may not receive marketing, and some who may
    _no_quiet_hours()
    ok = _customer("OK")
    no_consent = _customer("NC", consent=False)
    global_out = _customer("GU")
    topic_out = _customer("TU")
    other_topic = _customer("OT")
    bounced = _customer("BO")
    no_address = Customer.objects.create(external_id="NA")
    Consent.objects.create(
        customer=no_address, channel="email", granted=True, recorded_at=timezone.now()
    )
    unsubscribe_record(customer_id=global_out.pk)
    unsubscribe_record(customer_id=topic_out.pk, topic="offers")
    unsubscribe_record(customer_id=other_topic.pk, topic="news")
    Suppression.objects.create(channel="email", address=bounced.email, reason="550")
    for customer in (ok, no_consent, global_out, topic_out, other_topic, bounced):
        _marketing(f"m-{customer.external_id}", customer)
    message_enqueue(
        key="m-NA",
        channel="email",
        recipient="",
        subject="s",
        body_text="t",
        customer_id=no_address.pk,
        purpose="marketing",
        topic="offers",
    )
    # transactional: no consent needed, but a per-kind opt-out holds
    message_enqueue(
        key="t-NC",
        channel="email",
        recipient=no_consent.email,
        subject="Receipt",
        body_text="t",
        customer_id=no_consent.pk,
        topic="receipt",
    )
    message_enqueue(
        key="t-TU",
        channel="email",
        recipient=topic_out.email,
        subject="Survey",
        body_text="t",
        customer_id=topic_out.pk,
        topic="offers",
    )
    # when dispatched
    result = outbox_dispatch()
    # then only the allowed ones reached the server; the rest are skipped with their reason
    assert sorted(smtp_server.keys()) == ["m-OK", "m-OT", "t-NC"]
    reasons = dict(OutboxMessage.objects.filter(status="skipped").values_list("key", "reason"))
    assert reasons == {
        "m-NC": "no_consent",
        "m-GU": "unsubscribed",
        "m-TU": "unsubscribed",
        "m-BO": "bounced",
        "m-NA": "no_address",
        "t-TU": "unsubscribed",
    }
    assert result.sent == 3 and result.skipped == 6


@pytest.mark.django_db
@pytest.mark.parametrize("pipelining", [False, True])
def test_bounces_suppress_and_temporary_refusals_retry(smtp_server: Any, pipelining: bool) -> None:
    # given one address the server refuses for good and one it defers (a server that
    # offers PIPELINING, or not: the envelope then goes in one round trip)
    smtp_server.pipelining = pipelining
    _no_quiet_hours()
    hard = _customer("H")
    soft = _customer("S")
    smtp_server.refuse.add(hard.email)
    smtp_server.defer.add(soft.email)
    _marketing("h-1", hard)
    _marketing("s-1", soft)
    # when dispatched
    result = outbox_dispatch()
    # then the refused address is suppressed, the deferred message waits with a back-off
    assert result.failed == 1 and result.retried == 1 and smtp_server.keys() == []
    assert Suppression.objects.filter(address=hard.email).exists()
    waiting = OutboxMessage.objects.get(key="s-1")
    assert waiting.status == OutboxStatus.QUEUED and waiting.attempts == 1
    assert waiting.not_before is not None and waiting.not_before > timezone.now()
    # and a later message to the bounced address is skipped, the deferred one goes when due
    _marketing("h-2", hard)
    smtp_server.defer.clear()
    OutboxMessage.objects.filter(key="s-1").update(not_before=timezone.now())
    outbox_dispatch()
    assert OutboxMessage.objects.get(key="h-2").reason == "bounced"
    assert smtp_server.keys() == ["s-1"]


@pytest.mark.django_db
def test_quiet_hours_defer_marketing_not_transactional(smtp_server: Any) -> None:
    # given quiet hours that cover every hour but one (the current hour is inside)
    policy = contact_policy_get()
    hour = timezone.localtime().hour
    policy.quiet_start, policy.quiet_end = hour, (hour + 23) % 24
    policy.save()
    customer = _customer("Q")
    _marketing("q-m", customer)
    message_enqueue(
        key="q-t",
        channel="email",
        recipient=customer.email,
        subject="Code",
        body_text="123456",
        customer_id=customer.pk,
        topic="signin",
    )
    # when dispatched
    outbox_dispatch()
    # then the transactional message went, the marketing one waits for the end of quiet hours
    assert smtp_server.keys() == ["q-t"]
    waiting = OutboxMessage.objects.get(key="q-m")
    assert waiting.status == OutboxStatus.QUEUED and waiting.not_before > timezone.now()
    assert timezone.localtime(waiting.not_before).hour == policy.quiet_end


def _database_url() -> str:
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    user = settings.get("USER") or "postgres"
    host, port = settings.get("HOST") or "127.0.0.1", settings.get("PORT") or 5432
    return f"postgresql://{user}@{host}:{port}/{settings['NAME']}"


def _worker(smtp: Any, *, crash_after: int = 0, batch: int = 25) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(
        {
            "PATRON_DATABASE_URL": _database_url(),
            "PATRON_EMAIL_URL": smtp.url,
            "PATRON_ALLOW_INSECURE_KEY": "1",
            "PATRON_JOBS_IMMEDIATE": "1",
        }
    )
    return subprocess.Popen(
        [sys.executable, str(WORKER), str(crash_after), str(batch)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _queue(n: int) -> list[str]:
    _no_quiet_hours()
    customer = _customer("W")
    keys = [f"tx-{i:04d}" for i in range(n)]
    OutboxMessage.objects.bulk_create(
        [
            OutboxMessage(
                key=k,
                channel="email",
                recipient=customer.email,
                subject="s",
                body_text=f"message {k}",
                customer=customer,
            )
            for k in keys
        ]
    )
    return keys


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("pipelining", [False, True])
def test_a_worker_killed_after_the_server_accepted_sends_each_message_once(
    smtp_server: Any, pipelining: bool
) -> None:
    # given 60 queued messages (and a server offering PIPELINING, or not)
    smtp_server.pipelining = pipelining
    keys = _queue(60)
    # when a worker process is killed (SIGKILL) right after the server accepted its 10th
    # message, before that message's row was committed as sent
    crashed = _worker(smtp_server, crash_after=10)
    crashed.wait(timeout=120)
    assert crashed.returncode == -9, crashed.stderr.read()[-2000:]
    received_before = smtp_server.keys()
    assert len(received_before) == 10
    # and a new worker starts
    restarted = _worker(smtp_server)
    _out, err = restarted.communicate(timeout=120)
    assert restarted.returncode == 0, err[-2000:]
    # then every message reached the server exactly once
    counts = Counter(smtp_server.keys())
    assert sorted(counts) == keys and set(counts.values()) == {1}
    # and the one accepted but unmarked is in doubt (shown apart, never re-sent), the rest sent
    statuses = Counter(OutboxMessage.objects.values_list("status", flat=True))
    assert statuses == {"sent": 59, "in_doubt": 1}
    in_doubt = OutboxMessage.objects.get(status="in_doubt")
    assert in_doubt.key == received_before[-1]
    # a third run sends nothing more
    again = _worker(smtp_server)
    again.communicate(timeout=120)
    assert len(smtp_server.keys()) == 60


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_each_message_once(smtp_server: Any) -> None:
    # given 200 queued messages
    keys = _queue(200)
    # when two worker processes dispatch at the same time
    workers = [_worker(smtp_server, batch=10) for _ in range(2)]
    outputs = [w.communicate(timeout=180) for w in workers]
    assert [w.returncode for w in workers] == [0, 0], [e[-2000:] for _, e in outputs]
    # then each message was sent once, and every row is marked sent
    counts = Counter(smtp_server.keys())
    assert sorted(counts) == keys and set(counts.values()) == {1}
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {"sent"}


@pytest.mark.django_db
def test_a_dead_workers_rows_are_recovered() -> None:
    # given rows reserved and claimed by a worker whose process is gone
    customer = _customer("R")
    for key, status in (("r-1", "reserved"), ("r-2", "claimed")):
        OutboxMessage.objects.create(
            key=key,
            channel="email",
            recipient=customer.email,
            body_text="t",
            status=status,
            worker="nohost:1",
            claimed_at=timezone.now() - dt.timedelta(hours=3),
        )
    # when a dispatcher starts (with nothing it could send: console backend)
    from patron.messaging.dispatch import outbox_recover

    requeued, in_doubt = outbox_recover()
    # then the reserved row is queued again and the claimed one is in doubt
    assert (requeued, in_doubt) == (1, 1)
    assert OutboxMessage.objects.get(key="r-1").status == OutboxStatus.QUEUED
    assert OutboxMessage.objects.get(key="r-2").status == OutboxStatus.IN_DOUBT


def _dead_local_worker() -> str:
    """The name of a worker of this machine whose process is gone."""
    import socket

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return f"{socket.gethostname()}:{child.pid}:deadbeef"


@pytest.mark.parametrize("same_boot", [True, False])
@pytest.mark.django_db
def test_a_gone_workers_journal_decides_its_claimed_rows(same_boot: bool) -> None:
    from patron.messaging.dispatch import outbox_recover
    from patron.messaging.journal import _boot_id, journal_path

    # given a gone worker's claimed batch of four: accepted, being sent, two not yet started
    customer = _customer("J")
    worker = _dead_local_worker()
    rows = [
        OutboxMessage.objects.create(
            key=f"j-{i}",
            channel="email",
            recipient=customer.email,
            body_text="t",
            status="claimed",
            worker=worker,
            attempts=1,
            claimed_at=timezone.now(),
        )
        for i in range(4)
    ]
    boot = _boot_id() if same_boot else "another-boot"
    path = journal_path(worker)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"boot {boot}\nS {rows[0].pk}\nA {rows[0].pk}\nS {rows[1].pk}\n")
    # when a dispatcher recovers
    outbox_recover()
    statuses = [OutboxMessage.objects.get(pk=r.pk).status for r in rows]
    if same_boot:
        # then the journal says which went out: sent, in doubt, and the rest queued again
        assert statuses == ["sent", "in_doubt", "queued", "queued"]
        assert OutboxMessage.objects.get(pk=rows[2].pk).attempts == 0
        assert not path.exists()
    else:
        # then a journal of another boot may have lost lines: the whole batch is in doubt
        assert statuses == ["in_doubt"] * 4


@pytest.mark.django_db
def test_a_refusal_between_pipelined_messages_touches_only_its_own(smtp_server: Any) -> None:
    # given a server offering PIPELINING and three messages, the middle one to an address it
    # refuses: its envelope goes out with the first message's end
    smtp_server.pipelining = True
    _no_quiet_hours()
    first, refused, last = _customer("P1"), _customer("P2"), _customer("P3")
    smtp_server.refuse.add(refused.email)
    for key, customer in (("p-1", first), ("p-2", refused), ("p-3", last)):
        _marketing(key, customer)
    # when dispatched
    result = outbox_dispatch()
    # then the two others arrive once each and the refused address is suppressed
    assert sorted(smtp_server.keys()) == ["p-1", "p-3"]
    assert (result.sent, result.failed) == (2, 1)
    assert OutboxMessage.objects.get(key="p-2").status == OutboxStatus.FAILED
    assert Suppression.objects.filter(address=refused.email).exists()
