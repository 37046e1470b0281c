"""The outbox dispatcher: exactly-once sending, the contact policy at dispatch, recovery.

One round: recover rows of workers that are gone, then repeat until nothing is due:
reserve a batch (in one transaction that the database serialises across workers: SQLite's
IMMEDIATE transactions, a PostgreSQL advisory lock) applying consent, opt-outs, suppressed
addresses, the frequency cap and quiet hours, then send the batch one message at a time over
one connection. Before each send the row is claimed and committed, in the same statement that
marks the previous message sent; a worker killed at any moment therefore leaves at most one
row claimed and unmarked, which recovery turns ``in_doubt`` (never re-sent), and any rows it
had reserved but not claimed go back to the queue.

Speed (PostgreSQL): the reservation of a batch is the one commit that waits for the disk; the
per-message claims are committed without waiting for it (``synchronous_commit = off``: visible
at once to every session and kept when the worker dies, lost only if the database server
itself crashes before its WAL writer flushes them, within a fraction of a second). A crash
of the server resets every UNLOGGED table, so the reservation also writes the worker's row in
the unlogged ``messaging_outbox_sentinel``: recovery that finds a worker's reserved rows
without that row knows the server restarted since, that claims of the batch may have been
lost, and turns those rows ``in_doubt`` instead of queueing them again. Nothing is ever sent
twice; after a server crash a batch's unsent rest waits in doubt for a person. The SMTP
envelope's first command goes out before the claim's commit and is answered meanwhile.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Min, Q
from django.utils import timezone

from patron.customers.models import Consent
from patron.messaging.models import (
    CAPPED_STATUSES,
    OutboxMessage,
    OutboxStatus,
    Purpose,
    SkipReason,
    Suppression,
    Unsubscribe,
)
from patron.messaging.policy import cap_for, contact_policy_get, quiet_until, unsubscribe_url
from patron.messaging.services import suppression_add
from patron.messaging.transports import (
    InDoubtError,
    Outgoing,
    PermanentError,
    TemporaryError,
    Transport,
    transport_for,
)

logger = logging.getLogger("patron.messaging")

BATCH_SIZE = 200
MAX_ATTEMPTS = 5
BACKOFF_SECONDS = (60, 300, 900, 3600, 3600 * 4)
LEASE = dt.timedelta(hours=2)  # a reservation older than this belongs to a lost worker
ADVISORY_LOCK = 7_318_001  # PostgreSQL: one reserving worker at a time
IN_DOUBT_NOTE = "the worker stopped after claiming this message: it may have been sent"
CRASH_NOTE = (
    "the database server restarted while a worker held this message: its claim may have "
    "been lost, so it may have been sent"
)
SENTINEL = "messaging_outbox_sentinel"  # UNLOGGED (PostgreSQL): emptied by a server crash


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class DispatchResult:
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    deferred: int = 0
    retried: int = 0
    in_doubt: int = 0
    recovered: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def _alive(worker: str) -> bool:
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True  # another machine's worker: the lease decides
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def outbox_sentinel_mark(worker: str) -> None:
    """Note (PostgreSQL, unlogged) that ``worker`` holds reservations: the row survives
    anything but a crash of the database server (see the module's docstring)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {SENTINEL} (worker) VALUES (%s) ON CONFLICT (worker) DO NOTHING",
            [worker],
        )


def _sentinels(workers: set[str]) -> set[str] | None:
    """The workers whose sentinel is there; None where claims are never deferred (SQLite)."""
    if connection.vendor != "postgresql" or not workers:
        return None
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT worker FROM {SENTINEL} WHERE worker = ANY(%s)", [list(workers)])
        return {row[0] for row in cursor.fetchall()}


def _sentinel_clear(worker: str) -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {SENTINEL} WHERE worker = %s", [worker])


def outbox_recover(*, now: dt.datetime | None = None) -> tuple[int, int]:
    """Rows of gone workers: reserved -> queued again, claimed -> in doubt; reserved rows of
    a worker whose sentinel the database server's crash erased -> in doubt too. Returns the
    counts queued again and in doubt."""
    now = now or timezone.now()
    requeued = in_doubt = 0
    open_rows = OutboxMessage.objects.filter(
        status__in=(OutboxStatus.RESERVED, OutboxStatus.CLAIMED)
    )
    workers = set(open_rows.values_list("worker", flat=True).distinct())
    marked = _sentinels(workers)
    for worker in workers:
        gone = not _alive(worker)
        rows = open_rows.filter(worker=worker)
        if not gone:
            rows = rows.filter(claimed_at__lt=now - LEASE)
        reserved = rows.filter(status=OutboxStatus.RESERVED)
        if marked is not None and worker not in marked:
            in_doubt += reserved.update(status=OutboxStatus.IN_DOUBT, error=CRASH_NOTE)
        else:
            requeued += reserved.update(status=OutboxStatus.QUEUED, worker="", claimed_at=None)
        in_doubt += rows.filter(status=OutboxStatus.CLAIMED).update(
            status=OutboxStatus.IN_DOUBT, error=IN_DOUBT_NOTE
        )
        if gone and not open_rows.filter(worker=worker).exists():
            _sentinel_clear(worker)
    return requeued, in_doubt


def _blocked(message: OutboxMessage, unsubscribes: set[tuple[int, str, str]]) -> bool:
    c, channel, topic = message.customer_id, message.channel, message.topic
    if c is None:
        return False
    channels = ("", channel)
    if message.purpose == Purpose.MARKETING:
        topics = ("", topic) if topic else ("",)
    elif topic:
        topics = (topic,)
    else:
        return False
    return any((c, ch, t) in unsubscribes for ch in channels for t in topics)


def _reserve(*, worker: str, size: int, now: dt.datetime, result: DispatchResult) -> list[int]:
    """Apply the policy to the next due rows and reserve the sendable ones for ``worker``."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                if settings.PATRON_OUTBOX_DURABLE_COMMITS:  # the batch's one durable commit
                    cursor.execute("SET LOCAL synchronous_commit = on")
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK])
        due = list(
            OutboxMessage.objects.filter(status=OutboxStatus.QUEUED)
            .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
            .order_by("id")
            .only("id", "channel", "recipient", "customer_id", "purpose", "topic", "expires_at")[
                :size
            ]
        )
        if not due:
            return []
        policy = contact_policy_get()
        customers = {m.customer_id for m in due if m.customer_id is not None}
        marketing_customers = {
            m.customer_id for m in due if m.purpose == Purpose.MARKETING and m.customer_id
        }
        consents = set(
            Consent.objects.filter(customer_id__in=marketing_customers, granted=True).values_list(
                "customer_id", "channel"
            )
        )
        unsubscribes = set(
            Unsubscribe.objects.filter(customer_id__in=customers).values_list(
                "customer_id", "channel", "topic"
            )
        )
        suppressed = set(
            Suppression.objects.filter(address__in={m.recipient for m in due}).values_list(
                "channel", "address"
            )
        )
        cutoff = now - dt.timedelta(days=policy.window_days)
        counted: dict[tuple[int, str], list[object]] = {}
        for row in (
            OutboxMessage.objects.filter(
                customer_id__in=marketing_customers,
                purpose=Purpose.MARKETING,
                status__in=(*CAPPED_STATUSES, OutboxStatus.RESERVED),
                claimed_at__gte=cutoff,
            )
            .values("customer_id", "channel")
            .annotate(n=Count("id"), first=Min("claimed_at"))
        ):
            counted[(row["customer_id"], row["channel"])] = [row["n"], row["first"]]
        quiet_end = quiet_until(policy, now)
        skipped: dict[str, list[int]] = defaultdict(list)
        deferred: list[OutboxMessage] = []
        reserved: list[int] = []
        for m in due:
            reason = ""
            if not m.recipient:
                reason = SkipReason.NO_ADDRESS
            elif (m.channel, m.recipient) in suppressed:
                reason = SkipReason.BOUNCED
            elif _blocked(m, unsubscribes):
                reason = SkipReason.UNSUBSCRIBED
            elif m.purpose == Purpose.MARKETING and (
                m.customer_id is None or (m.customer_id, m.channel) not in consents
            ):
                reason = SkipReason.NO_CONSENT
            if reason:
                skipped[reason].append(m.pk)
                continue
            if m.purpose == Purpose.MARKETING:
                key = (m.customer_id, m.channel)
                n, first = counted.get(key, [0, None])
                later: dt.datetime | None = None
                if n >= cap_for(policy, m.channel):
                    later = first + dt.timedelta(days=policy.window_days)  # type: ignore[operator]
                elif quiet_end is not None:
                    later = quiet_end
                if later is not None:
                    if m.expires_at is not None and later > m.expires_at:
                        skipped[SkipReason.OVER_CAP].append(m.pk)
                    else:
                        m.not_before = later
                        deferred.append(m)
                    continue
                counted[key] = [n + 1, first or now]
            reserved.append(m.pk)
        for reason, ids in skipped.items():
            OutboxMessage.objects.filter(pk__in=ids).update(
                status=OutboxStatus.SKIPPED, reason=reason
            )
            result.skipped += len(ids)
            result.reasons[reason] = result.reasons.get(reason, 0) + len(ids)
        if deferred:
            OutboxMessage.objects.bulk_update(deferred, ["not_before"])
            result.deferred += len(deferred)
        if reserved:
            outbox_sentinel_mark(worker)
            OutboxMessage.objects.filter(pk__in=reserved).update(
                status=OutboxStatus.RESERVED, worker=worker, claimed_at=now
            )
        return reserved if reserved else ([-1] if (skipped or deferred) else [])


def _outgoing(m: OutboxMessage) -> Outgoing:
    link = ""
    if m.purpose == Purpose.MARKETING and m.customer_id is not None and m.channel == "email":
        link = unsubscribe_url(customer_id=m.customer_id, channel="", topic="")
    return Outgoing(m.key, m.recipient, m.subject, m.body_text, m.body_html, link)


def _claim(message_id: int, *, worker: str, previous: int | None) -> bool:
    """Mark ``previous`` sent and claim ``message_id``, in one statement (one commit).

    One UPDATE whose CASEs set each row's own values: the claim is durable before the send,
    and a worker killed at any point leaves at most one row claimed and unmarked.
    """
    if previous is None:
        return bool(
            OutboxMessage.objects.filter(
                pk=message_id, status=OutboxStatus.RESERVED, worker=worker
            ).update(
                status=OutboxStatus.CLAIMED, claimed_at=timezone.now(), attempts=F("attempts") + 1
            )
        )
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    table = OutboxMessage._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET "
            "status = CASE WHEN id = %s THEN 'sent' ELSE 'claimed' END, "
            "sent_at = CASE WHEN id = %s THEN %s ELSE sent_at END, "
            "claimed_at = CASE WHEN id = %s THEN claimed_at ELSE %s END, "
            "attempts = CASE WHEN id = %s THEN attempts ELSE attempts + 1 END "
            "WHERE (id = %s AND status = 'claimed') "
            "OR (id = %s AND status = 'reserved' AND worker = %s) RETURNING id",
            [previous, previous, now, previous, now, previous, previous, message_id, worker],
        )
        changed = {row[0] for row in cursor.fetchall()}
    return message_id in changed


def _mark_sent(message_id: int, now: dt.datetime) -> None:
    OutboxMessage.objects.filter(pk=message_id, status=OutboxStatus.CLAIMED).update(
        status=OutboxStatus.SENT, sent_at=now
    )


def _after_failure(message: OutboxMessage, error: Exception, result: DispatchResult) -> None:
    now = timezone.now()
    rows = OutboxMessage.objects.filter(pk=message.pk, status=OutboxStatus.CLAIMED)
    text = str(error)[:4000]
    if isinstance(error, InDoubtError):
        rows.update(status=OutboxStatus.IN_DOUBT, error=text)
        result.in_doubt += 1
        return
    if isinstance(error, PermanentError):
        if error.bounce:
            suppression_add(channel=message.channel, address=message.recipient, reason=text)
        rows.update(status=OutboxStatus.FAILED, error=text)
        result.failed += 1
        return
    attempts = message.attempts + 1
    if attempts >= MAX_ATTEMPTS:
        rows.update(status=OutboxStatus.FAILED, error=text)
        result.failed += 1
        return
    wait = BACKOFF_SECONDS[min(attempts, len(BACKOFF_SECONDS)) - 1]
    rows.update(
        status=OutboxStatus.QUEUED,
        worker="",
        claimed_at=None,
        error=text,
        not_before=now + dt.timedelta(seconds=wait),
    )
    result.retried += 1


def _release(ids: list[int], *, worker: str, error: str) -> None:
    """Put reserved rows back in the queue (the channel could not be opened)."""
    OutboxMessage.objects.filter(pk__in=ids, status=OutboxStatus.RESERVED, worker=worker).update(
        status=OutboxStatus.QUEUED,
        worker="",
        claimed_at=None,
        error=error[:4000],
        not_before=timezone.now() + dt.timedelta(seconds=BACKOFF_SECONDS[0]),
    )


def _send_batch(
    ids: list[int], *, worker: str, transports: dict[str, Transport], result: DispatchResult
) -> bool:
    """Send reserved rows one at a time; False when a channel could not be opened."""
    messages = list(OutboxMessage.objects.filter(pk__in=ids).order_by("id"))
    previous: int | None = None
    try:
        for index, message in enumerate(messages):
            transport = transports.get(message.channel)
            if transport is None:
                transport = transport_for(message.channel)
                try:
                    transport.open()
                except (TemporaryError, PermanentError) as error:
                    if previous is not None:
                        _mark_sent(previous, timezone.now())
                        result.sent += 1
                        previous = None
                    rest = [m.pk for m in messages[index:] if m.channel == message.channel]
                    _release(rest, worker=worker, error=str(error))
                    logger.warning("cannot open the %s channel: %s", message.channel, error)
                    return False
                transports[message.channel] = transport
            outgoing = _outgoing(message)
            transport.begin(outgoing)  # the envelope starts while the claim commits
            if not _claim(message.pk, worker=worker, previous=previous):
                transport.abandon()
                if previous is not None:
                    result.sent += 1
                previous = None
                continue
            if previous is not None:
                result.sent += 1
            previous = None
            try:
                transport.send(outgoing)
            except (TemporaryError, PermanentError, InDoubtError) as error:
                _after_failure(message, error, result)
                continue
            except Exception as error:
                logger.exception("unexpected error sending %s", message.key)
                _after_failure(message, InDoubtError(f"{type(error).__name__}: {error}"), result)
                continue
            previous = message.pk
    finally:
        if previous is not None:
            _mark_sent(previous, timezone.now())
            result.sent += 1
    return True


def outbox_dispatch(
    *,
    limit: int | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[DispatchResult], None] | None = None,
) -> DispatchResult:
    """Send every due message (at most ``limit``), batch by batch; safe to run in several
    workers at once. Returns what happened to the rows this call handled."""
    worker = worker_name()
    result = DispatchResult()
    deferred = connection.vendor == "postgresql"
    if deferred:  # claims and marks; reservations wait for the disk (see the docstring)
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit = off")
    requeued, in_doubt = outbox_recover()
    result.recovered, result.in_doubt = requeued, in_doubt
    transports: dict[str, Transport] = {}
    handled = 0
    try:
        while limit is None or handled < limit:
            size = batch_size if limit is None else min(batch_size, limit - handled)
            ids = _reserve(worker=worker, size=size, now=timezone.now(), result=result)
            if not ids:
                break
            ids = [i for i in ids if i != -1]
            handled += len(ids)
            if ids and not _send_batch(ids, worker=worker, transports=transports, result=result):
                break
            if progress is not None:
                progress(result)
    finally:
        for transport in transports.values():
            transport.close()
        if deferred and connection.is_usable():
            with connection.cursor() as cursor:
                cursor.execute("RESET synchronous_commit")
            if not OutboxMessage.objects.filter(
                worker=worker, status__in=(OutboxStatus.RESERVED, OutboxStatus.CLAIMED)
            ).exists():
                _sentinel_clear(worker)
    return result
