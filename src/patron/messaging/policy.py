"""The contact policy read as rules: the policy row, quiet hours in the business time zone,
signed unsubscribe links, and the global holdout by a stable hash."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib

from django.conf import settings
from django.core import signing
from django.utils import timezone

from patron.messaging.models import ContactPolicy

UNSUBSCRIBE_SALT = "patron.messaging.unsubscribe"


def contact_policy_get() -> ContactPolicy:
    """The contact policy (created with its defaults the first time)."""
    policy, _ = ContactPolicy.objects.get_or_create(pk=1)
    return policy


def cap_for(policy: ContactPolicy, channel: str) -> int:
    return policy.sms_cap if channel == "sms" else policy.email_cap


def quiet_until(policy: ContactPolicy, now: dt.datetime) -> dt.datetime | None:
    """When quiet hours end, if ``now`` is inside them (in ``TIME_ZONE``); else None."""
    start, end = policy.quiet_start, policy.quiet_end
    if start == end:
        return None
    local = timezone.localtime(now)
    hour = local.hour
    inside = (start <= hour or hour < end) if start > end else (start <= hour < end)
    if not inside:
        return None
    day = local.date() if hour < end else local.date() + dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(end)))


def unsubscribe_token(*, customer_id: int, channel: str, topic: str) -> str:
    return signing.dumps([customer_id, channel, topic], salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_read(token: str) -> tuple[int, str, str] | None:
    try:
        customer_id, channel, topic = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    return int(customer_id), str(channel), str(topic)


@functools.lru_cache(maxsize=1)
def _unsubscribe_prefix(base: str) -> str:
    from django.urls import reverse

    return base + reverse("messaging:unsubscribe", args=["TOKEN"]).removesuffix("TOKEN/")


def unsubscribe_url(*, customer_id: int, channel: str, topic: str) -> str:
    token = unsubscribe_token(customer_id=customer_id, channel=channel, topic=topic)
    return f"{_unsubscribe_prefix(settings.PATRON_BASE_URL)}{token}/"


# What a topic is called on the unsubscribe page (apps add theirs from AppConfig.ready).
TOPIC_LABELS: dict[str, object] = {}


def topic_label_register(topic: str, label: object) -> None:
    TOPIC_LABELS[topic] = label


def stable_share(salt: str, key: int) -> float:
    """A number in [0, 1) fixed by (salt, key): the same on every run, machine and order."""
    digest = hashlib.sha256(f"{salt}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def in_global_holdout(policy: ContactPolicy, customer_id: int) -> bool:
    return stable_share("holdout:" + policy.holdout_salt, customer_id) < policy.holdout_share
