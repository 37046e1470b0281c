"""Member credentials: hashing of addresses, codes and tokens, the member API's bearer
auth, and the portal's cookie. Kept apart from staff auth on purpose: a member token is
never a staff ``ApiToken`` and a member is never a Django user, so neither side's credential
opens the other's doors (docs/member-portal.md)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone, translation
from ninja.security import HttpBearer

from patron.accounts.permissions import PUBLIC_RULE, AccessRule
from patron.loyalty.models import Member

TOKEN_PREFIX = "pm_"
COOKIE = "patron_member"
MEMBERS = "members"


@dataclass(frozen=True)
class MemberRule(AccessRule):
    """Members only: no staff user (no role, no permission) passes."""

    kind: str = MEMBERS

    def allows(self, user: Any) -> bool:
        return False


MEMBER_RULE = MemberRule()


def secret_hash(value: str) -> str:
    """HMAC-SHA256 of ``value`` under the secret key (addresses, codes and tokens at rest)."""
    return hmac.new(settings.SECRET_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()


def address_normalise(email: object) -> str:
    return str(email or "").strip().lower()[:254]


def token_new() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def session_member(*, token: str, kind: str | None = None, customer: bool = True) -> Member | None:
    """The member of a live session token (one indexed query), else None. The member comes
    with their tier and profile, and with their customer row unless ``customer`` is False
    (the API's calls mostly need none of its columns; it loads when first asked for)."""
    from patron.members.models import MemberSession

    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    related = ["member__tier", "member__portal_profile"] + (
        ["member__customer"] if customer else []
    )
    rows = MemberSession.objects.select_related(*related).filter(
        token_hash=secret_hash(token), ended_at__isnull=True, expires_at__gt=timezone.now()
    )
    if kind is not None:
        rows = rows.filter(kind=kind)
    session = rows.first()
    return session.member if session is not None else None


def _member_language(member: Member) -> None:
    from patron.members.selectors import member_language

    translation.activate(member_language(member=member))


class MemberBearer(HttpBearer):
    """The member API's auth: ``Authorization: Bearer pm_...`` of a member session. Staff
    tokens and staff sessions are not looked at."""

    access_rule = MEMBER_RULE

    def authenticate(self, request: HttpRequest, token: str) -> Member | None:
        member = session_member(token=token, customer=False)
        if member is None:
            return None
        request.member = member  # type: ignore[attr-defined]
        _member_language(member)
        return member


class Anyone:
    """Auth of the two sign-in operations: open to everyone (the answer tells nothing)."""

    access_rule = PUBLIC_RULE

    def __call__(self, request: HttpRequest) -> bool:
        return True


def portal_member(request: HttpRequest) -> Member | None:
    token = request.COOKIES.get(COOKIE, "")
    return session_member(token=token, kind="portal") if token else None


def member_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A portal page: the member of the portal cookie, else the member sign-in page. A staff
    session is not a member session."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        member = portal_member(request)
        if member is None:
            from django.urls import reverse

            return redirect(f"{reverse('members:login')}?next={request.path}")
        request.member = member  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    guarded.access_rule = MEMBER_RULE  # type: ignore[attr-defined]
    return guarded


def cookie_set(response: HttpResponse, *, token: str, max_age: int) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=max_age,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
        path="/member/",
    )
