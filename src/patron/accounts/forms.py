from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from patron.accounts.throttle import (
    signin_failure_record,
    signin_failures_clear,
    signin_is_throttled,
    window_seconds,
)

logger = logging.getLogger("patron.security")

SIGNIN_THROTTLED = _(
    "Too many failed sign-ins for this user name. Wait %(minutes)d minutes and try again, "
    "or reset your password."
)


class ThrottledAuthenticationForm(AuthenticationForm):
    """Django's sign-in form, refusing after repeated failures per user name and address."""

    throttled = False

    def _ip(self) -> str:
        return self.request.META.get("REMOTE_ADDR", "") if self.request else ""

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username") or ""
        ip = self._ip()
        if signin_is_throttled(username=username, ip=ip):
            self.throttled = True
            raise ValidationError(
                SIGNIN_THROTTLED, code="throttled", params={"minutes": window_seconds() // 60}
            )
        try:
            cleaned = super().clean()
        except ValidationError:
            failures = signin_failure_record(username=username, ip=ip)
            logger.warning("failed sign-in for %r from %s (%d)", username, ip, failures)
            raise
        signin_failures_clear(username=username, ip=ip)
        return cleaned
