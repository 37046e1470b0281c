"""Every view declares who may open it; the permission matrix test reads the declarations.

- ``public``: anyone, signed in or not (sign-in, password reset, health check).
- ``require_permission()``: any signed-in user.
- ``require_permission("app.codename", ...)``: a signed-in user holding all of them; others get
  403, visitors who are not signed in go to the sign-in page.

API endpoints use ``api_auth(...)``: a bearer token whose user holds the permissions, checked
before the request body is read. Views Patron does not write (the admin site, the API schema,
the language switch) get their rule from ``EXTERNAL_RULES`` and ``NAMESPACE_RULES``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from ninja.errors import AuthorizationError
from ninja.security import HttpBearer

from patron.accounts.sitegate import ADMIN_SITE_PERMISSION

PUBLIC = "public"
SIGNED_IN = "signed_in"
PERMISSIONS = "permissions"

API_FORBIDDEN = _("Your role does not allow this.")


@dataclass(frozen=True)
class AccessRule:
    kind: str  # PUBLIC, SIGNED_IN or PERMISSIONS
    permissions: tuple[str, ...] = ()

    def allows(self, user: Any) -> bool:
        if self.kind == PUBLIC:
            return True
        if not user.is_authenticated:
            return False
        return user.has_perms(self.permissions)


PUBLIC_RULE = AccessRule(PUBLIC)
SIGNED_IN_RULE = AccessRule(SIGNED_IN)

View = TypeVar("View", bound=Callable[..., HttpResponse])


def public(view: View) -> View:
    """Mark a view as open to everyone."""
    view.access_rule = PUBLIC_RULE  # type: ignore[attr-defined]
    return view


def require_permission(*permissions: str) -> Callable[[View], View]:
    """Require a signed-in user holding every one of ``permissions`` (none: any signed-in user)."""
    rule = AccessRule(PERMISSIONS, tuple(permissions)) if permissions else SIGNED_IN_RULE

    def decorator(view: View) -> View:
        @wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not rule.allows(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        guarded.access_rule = rule  # type: ignore[attr-defined]
        return guarded  # type: ignore[return-value]

    return decorator


class PermissionBearer(HttpBearer):
    """Bearer-token auth that also checks the token user's permissions (403 when missing)."""

    def __init__(self, permissions: tuple[str, ...]) -> None:
        super().__init__()
        self.access_rule = AccessRule(PERMISSIONS, permissions)

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        from auditlog.context import auditlog_value

        from patron.core.services import token_authenticate

        user = token_authenticate(token=token)
        if user is None:
            return None
        if not self.access_rule.allows(user):
            raise AuthorizationError(message=str(API_FORBIDDEN))
        request.user = user
        # AuditlogMiddleware saw no session user; changes are audited under the token's user.
        with contextlib.suppress(LookupError):
            auditlog_value.get()["actor"] = user
        return user


def api_auth(*permissions: str) -> PermissionBearer:
    return PermissionBearer(tuple(permissions))


# Views that Patron mounts but does not write, by URL name.
EXTERNAL_RULES: dict[str, AccessRule] = {
    "set_language": PUBLIC_RULE,
    "admin:login": PUBLIC_RULE,  # the admin's own sign-in form, which refuses non-admins
    "admin:logout": PUBLIC_RULE,
    "api:api-root": PUBLIC_RULE,
    "api:openapi-json": SIGNED_IN_RULE,  # or an API token (patron.api.signed_in_or_token)
    "api:openapi-view": SIGNED_IN_RULE,
}
# Whole URL namespaces guarded in one place.
NAMESPACE_RULES: dict[str, AccessRule] = {
    "admin": AccessRule(PERMISSIONS, (ADMIN_SITE_PERMISSION,)),
}


def declared_rule(*, callback: Callable[..., Any], url_name: str) -> AccessRule | None:
    """The rule a URL declares: on its view, else in the tables above."""
    rule = getattr(callback, "access_rule", None)
    if rule is not None:
        return rule
    if url_name in EXTERNAL_RULES:
        return EXTERNAL_RULES[url_name]
    namespace = url_name.split(":", 1)[0] if ":" in url_name else ""
    return NAMESPACE_RULES.get(namespace)
