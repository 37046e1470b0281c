"""The outbox dispatcher: exactly-once sending, the contact policy at dispatch, recovery.

One round: recover rows of workers that are gone, then repeat until nothing is due:
reserve a batch (in one transaction that the database serialises across workers: SQLite's
IMMEDIATE transactions, a PostgreSQL advisory lock) applying consent, opt-outs, suppressed
addresses, the frequency cap and quiet hours; claim the batch (one commit); send it one
message at a time over one connection; mark the sent ones in one statement.

Claim before send, per message: before a message goes out the worker writes ``S <id>`` in its
journal (:mod:`patron.messaging.journal`, a local file the kernel keeps when the process dies)
and ``A <id>`` once the server accepted it. A worker killed at any moment therefore leaves at
most one message handed over and not known accepted: recovery turns it ``in_doubt`` (never
re-sent), marks the accepted ones sent and queues the rest of the batch again. Without a
journal it can trust (another machine's worker, a machine restarted since), recovery turns
the whole claimed batch ``in_doubt``: never a second send.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Min, Q
from django.utils import timezone

from patron.customers.models import Consent
from patron.messaging.journal import Journal, journal_read, journal_remove
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

BATCH_SIZE = 500
MAX_ATTEMPTS = 5
BACKOFF_SECONDS = (60, 300, 900, 3600, 3600 * 4)
LEASE = dt.timedelta(hours=2)  # a reservation older than this belongs to a lost worker
ADVISORY_LOCK = 7_318_001  # PostgreSQL: one reserving worker at a time
IN_DOUBT_NOTE = "the worker stopped after claiming this message: it may have been sent"


def worker_name() -> str:
    """host:pid:token, new for each dispatch (threads of one process dispatch apart)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


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
    host, _, rest = worker.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return True  # another machine's worker: the lease decides
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def outbox_recover(*, now: dt.datetime | None = None) -> tuple[int, int]:
    """Rows of gone workers: reserved -> queued again, claimed -> in doubt. Returns both counts."""
    now = now or timezone.now()
    requeued = in_doubt = 0
    open_rows = OutboxMessage.objects.filter(
        status__in=(OutboxStatus.RESERVED, OutboxStatus.CLAIMED)
    )
    workers = set(open_rows.values_list("worker", flat=True).distinct())
    for worker in workers:
        gone = not _alive(worker)
        rows = open_rows.filter(worker=worker)
        if not gone:
            rows = rows.filter(claimed_at__lt=now - LEASE)
        requeued += rows.filter(status=OutboxStatus.RESERVED).update(
            status=OutboxStatus.QUEUED, worker="", claimed_at=None
        )
        claimed = rows.filter(status=OutboxStatus.CLAIMED)
        handed = journal_read(worker) if gone else None
        if handed is not None:  # the journal says which went out
            claimed.filter(pk__in=handed.accepted).update(status=OutboxStatus.SENT, sent_at=now)
            requeued += claimed.exclude(pk__in=handed.sending).update(
                status=OutboxStatus.QUEUED, worker="", claimed_at=None, attempts=F("attempts") - 1
            )
        in_doubt += claimed.update(status=OutboxStatus.IN_DOUBT, error=IN_DOUBT_NOTE)
        if gone and not open_rows.filter(worker=worker).exists():
            journal_remove(worker)
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
            OutboxMessage.objects.filter(pk__in=reserved).update(
                status=OutboxStatus.RESERVED, worker=worker, claimed_at=now
            )
        return reserved if reserved else ([-1] if (skipped or deferred) else [])


def _outgoing(m: OutboxMessage) -> Outgoing:
    link = ""
    if m.purpose == Purpose.MARKETING and m.customer_id is not None and m.channel == "email":
        link = unsubscribe_url(customer_id=m.customer_id, channel="", topic="")
    elif m.topic.startswith("member.") and m.customer_id is not None and m.channel == "email":
        # a member notification: its header (List-Unsubscribe) stops that kind only
        link = unsubscribe_url(customer_id=m.customer_id, channel="", topic=m.topic)
    return Outgoing(m.key, m.recipient, m.subject, m.body_text, m.body_html, link)


def _claim_batch(ids: list[int], *, worker: str) -> list[int]:
    """Claim this worker's reserved rows (one commit); the ids claimed, in order."""
    with transaction.atomic():
        rows = OutboxMessage.objects.filter(pk__in=ids, status=OutboxStatus.RESERVED, worker=worker)
        claimed = sorted(rows.values_list("pk", flat=True))
        OutboxMessage.objects.filter(pk__in=claimed).update(
            status=OutboxStatus.CLAIMED, claimed_at=timezone.now(), attempts=F("attempts") + 1
        )
    return claimed


def _accepted(journal: Journal, message_id: int) -> None:
    """The server accepted the message: so says the journal (before the batch's commit)."""
    journal.accepted(message_id)


def _mark_sent(ids: list[int], now: dt.datetime) -> None:
    """The batch's accepted messages, sent: one statement."""
    if ids:
        OutboxMessage.objects.filter(pk__in=ids, status=OutboxStatus.CLAIMED).update(
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
    attempts = message.attempts  # this one included (counted by the claim)
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
    """Put claimed rows not yet handed over back in the queue (the channel could not be
    opened)."""
    OutboxMessage.objects.filter(pk__in=ids, status=OutboxStatus.CLAIMED, worker=worker).update(
        status=OutboxStatus.QUEUED,
        worker="",
        claimed_at=None,
        attempts=F("attempts") - 1,
        error=error[:4000],
        not_before=timezone.now() + dt.timedelta(seconds=BACKOFF_SECONDS[0]),
    )


def _send_batch(
    ids: list[int],
    *,
    worker: str,
    transports: dict[str, Transport],
    journal: Journal,
    result: DispatchResult,
) -> bool:
    """Claim the reserved rows, send them one at a time (each written in the journal before
    it goes out and once accepted) and mark the accepted ones sent in one statement; False
    when a channel could not be opened."""
    claimed = _claim_batch(ids, worker=worker)
    messages = list(OutboxMessage.objects.filter(pk__in=claimed).order_by("id"))
    accepted: list[int] = []
    try:
        for index, message in enumerate(messages):
            transport = transports.get(message.channel)
            if transport is None:
                transport = transport_for(message.channel)
                try:
                    transport.open()
                except (TemporaryError, PermanentError) as error:
                    rest = [m.pk for m in messages[index:] if m.channel == message.channel]
                    _release(rest, worker=worker, error=str(error))
                    logger.warning("cannot open the %s channel: %s", message.channel, error)
                    return False
                transports[message.channel] = transport
            outgoing = _outgoing(message)
            after = messages[index + 1] if index + 1 < len(messages) else None
            following = after.recipient if after and after.channel == message.channel else ""
            journal.sending(message.pk)
            try:
                transport.send(outgoing, following=following)
            except (TemporaryError, PermanentError, InDoubtError) as error:
                _after_failure(message, error, result)
                continue
            except Exception as error:
                logger.exception("unexpected error sending %s", message.key)
                _after_failure(message, InDoubtError(f"{type(error).__name__}: {error}"), result)
                continue
            _accepted(journal, message.pk)
            accepted.append(message.pk)
    finally:
        _mark_sent(accepted, timezone.now())
        result.sent += len(accepted)
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
    relaxed = connection.vendor == "postgresql" and not settings.PATRON_OUTBOX_DURABLE_COMMITS
    if relaxed:  # see PATRON_OUTBOX_DURABLE_COMMITS in docs/campaigns.md
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit = off")
    requeued, in_doubt = outbox_recover()
    result.recovered, result.in_doubt = requeued, in_doubt
    transports: dict[str, Transport] = {}
    journal = Journal(worker)
    handled = 0
    try:
        while limit is None or handled < limit:
            size = batch_size if limit is None else min(batch_size, limit - handled)
            ids = _reserve(worker=worker, size=size, now=timezone.now(), result=result)
            if not ids:
                break
            ids = [i for i in ids if i != -1]
            handled += len(ids)
            if ids and not _send_batch(
                ids, worker=worker, transports=transports, journal=journal, result=result
            ):
                break
            if progress is not None:
                progress(result)
    finally:
        for transport in transports.values():
            transport.close()
        journal.close(
            remove=not OutboxMessage.objects.filter(
                worker=worker, status__in=(OutboxStatus.RESERVED, OutboxStatus.CLAIMED)
            ).exists()
        )
        if relaxed:
            with connection.cursor() as cursor:
                cursor.execute("RESET synchronous_commit")
    return result
