from __future__ import annotations

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm

from patron.accounts.throttle import SIGNIN_THROTTLED, ThrottledSignInMixin

__all__ = ["SIGNIN_THROTTLED", "ThrottledAdminAuthenticationForm", "ThrottledAuthenticationForm"]


class ThrottledAuthenticationForm(ThrottledSignInMixin, AuthenticationForm):
    """Django's sign-in form, refusing after repeated failures (patron.accounts.throttle)."""


class ThrottledAdminAuthenticationForm(ThrottledSignInMixin, AdminAuthenticationForm):
    """The Django admin's sign-in form, under the same limiter and counts as the app's."""
