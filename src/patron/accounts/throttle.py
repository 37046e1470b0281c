"""Sign-in throttling, one limiter for every sign-in form (the app's, the Django admin's, and
any later one such as a member portal: mix :class:`ThrottledSignInMixin` into its form).

Failures are counted three ways in a window (PATRON_SIGNIN_WINDOW_SECONDS, 15 minutes):
for one user name from one address (PATRON_SIGNIN_MAX_FAILURES, 5), and, wider, for one user
name from any address and for one address trying any user names
(PATRON_SIGNIN_MAX_FAILURES_WIDE, 20: one password tried against many names, or one name
from many machines). Past any limit the form refuses until the window ends, the right
password included. Counts live in Django's cache (a file cache by default, shared by all
server processes).
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger("patron.security")

SIGNIN_THROTTLED = _(
    "Too many failed sign-ins for this user name. Wait %(minutes)d minutes and try again, "
    "or reset your password."
)


def max_failures() -> int:
    return int(getattr(settings, "PATRON_SIGNIN_MAX_FAILURES", 5))


def max_wide_failures() -> int:
    return int(getattr(settings, "PATRON_SIGNIN_MAX_FAILURES_WIDE", 20))


def window_seconds() -> int:
    return int(getattr(settings, "PATRON_SIGNIN_WINDOW_SECONDS", 15 * 60))


def _key(kind: str, value: str) -> str:
    digest = hashlib.sha256(value.encode()).hexdigest()
    return f"patron:signin-failures:{kind}:{digest}"


def _keys(username: str, ip: str) -> dict[str, tuple[str, int]]:
    name = username.strip().casefold()
    return {
        "pair": (_key("pair", f"{name}|{ip}"), max_failures()),
        "name": (_key("name", name), max_wide_failures()),
        "address": (_key("address", ip), max_wide_failures()),
    }


def signin_is_throttled(*, username: str, ip: str) -> bool:
    """Whether a sign-in as ``username`` from ``ip`` is refused now (any count at its limit)."""
    keys = _keys(username, ip)
    counts = cache.get_many([key for key, _ in keys.values()])
    return any(int(counts.get(key, 0)) >= limit for key, limit in keys.values())


def _incr(key: str) -> int:
    cache.add(key, 0, timeout=window_seconds())
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window_seconds())
        return 1


def signin_failure_record(*, username: str, ip: str) -> int:
    """Count one failed sign-in; returns the failures for this user name and address."""
    counts = {kind: _incr(key) for kind, (key, _) in _keys(username, ip).items()}
    return counts["pair"]


def signin_failures_clear(*, username: str, ip: str) -> None:
    """A successful sign-in clears its user name's counts (not its address's: a valid
    account must not reset an address that is trying other names)."""
    keys = _keys(username, ip)
    cache.delete_many([keys["pair"][0], keys["name"][0]])


def client_address(request: HttpRequest | None) -> str:
    """The client's address: behind a TLS proxy (PATRON_TLS_PROXY) the last address the
    proxy appended to X-Forwarded-For, else REMOTE_ADDR."""
    if request is None:
        return ""
    if getattr(settings, "PATRON_TLS_PROXY", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1]
    return str(request.META.get("REMOTE_ADDR", ""))


class ThrottledSignInMixin:
    """For an ``AuthenticationForm`` (``self.request``, ``clean()``): refuse while throttled,
    count failures, clear on success. ``throttled`` tells the view to answer 429."""

    throttled = False
    request: HttpRequest | None
    cleaned_data: dict[str, Any]

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username") or ""
        ip = client_address(self.request)
        if signin_is_throttled(username=username, ip=ip):
            self.throttled = True
            logger.warning("sign-in refused (throttled) for %r from %s", username, ip)
            raise ValidationError(
                SIGNIN_THROTTLED, code="throttled", params={"minutes": window_seconds() // 60}
            )
        try:
            cleaned: dict[str, Any] = super().clean()  # type: ignore[misc]
        except ValidationError:
            failures = signin_failure_record(username=username, ip=ip)
            logger.warning("failed sign-in for %r from %s (%d)", username, ip, failures)
            raise
        signin_failures_clear(username=username, ip=ip)
        return cleaned
