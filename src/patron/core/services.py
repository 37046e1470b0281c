"""Writes for tokens and users."""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.db import transaction
from django.utils import timezone

from patron.core.errors import PatronError
from patron.core.models import ApiToken


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def token_create(*, username: str, name: str = "") -> tuple[ApiToken, str]:
    """Create a token for ``username``; returns the record and the token (shown only now).

    Raises
    ------
    PatronError
        No such user.
    """
    user_model = get_user_model()
    try:
        user = user_model.objects.get(username=username)
    except user_model.DoesNotExist:
        raise PatronError(f"No user named {username!r}.", code="user_not_found") from None
    token = "ptn_" + secrets.token_urlsafe(32)
    record = ApiToken.objects.create(
        user=user, name=name, prefix=token[:8], key_hash=hash_token(token)
    )
    return record, token


def token_authenticate(*, token: str) -> AbstractUser | None:
    record = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=hash_token(token), revoked=False, user__is_active=True)
        .first()
    )
    if record is None:
        return None
    ApiToken.objects.filter(pk=record.pk).update(last_used_at=timezone.now())
    return record.user  # type: ignore[return-value]
