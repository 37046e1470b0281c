"""Sign-in throttling: after repeated failures for one user name from one address, refuse for a
while. Counts live in Django's cache (a file cache by default, shared by all server processes).
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache


def max_failures() -> int:
    return int(getattr(settings, "PATRON_SIGNIN_MAX_FAILURES", 5))


def window_seconds() -> int:
    return int(getattr(settings, "PATRON_SIGNIN_WINDOW_SECONDS", 15 * 60))


def _key(username: str, ip: str) -> str:
    digest = hashlib.sha256(f"{username.strip().casefold()}|{ip}".encode()).hexdigest()
    return f"patron:signin-failures:{digest}"


def signin_is_throttled(*, username: str, ip: str) -> bool:
    return int(cache.get(_key(username, ip), 0)) >= max_failures()


def signin_failure_record(*, username: str, ip: str) -> int:
    """Count one failed sign-in; returns the failures in the current window."""
    key = _key(username, ip)
    cache.add(key, 0, timeout=window_seconds())
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window_seconds())
        return 1


def signin_failures_clear(*, username: str, ip: str) -> None:
    cache.delete(_key(username, ip))
