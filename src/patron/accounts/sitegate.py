"""The Django admin is for the admin role only."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

ADMIN_SITE_PERMISSION = "accounts.access_admin"


def admin_site_allows(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_active and user.is_staff and user.has_perm(ADMIN_SITE_PERMISSION))


def guard_admin_site() -> None:
    from patron.accounts.forms import ThrottledAdminAuthenticationForm

    admin.site.has_permission = admin_site_allows  # type: ignore[method-assign]
    # The admin's sign-in counts toward, and is refused by, the app's sign-in limiter.
    admin.site.login_form = ThrottledAdminAuthenticationForm
