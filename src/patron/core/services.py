"""Writes for tokens and users."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models.expressions import RawSQL
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


# A token's last use is written at most this often: every request writing it made all
# requests of one token queue on its row (and cost a commit each).
TOKEN_LAST_USED_EVERY = dt.timedelta(minutes=1)


def _permission_names_sql(token_table: str) -> str:
    """The token user's own and group permissions as one ``app.codename`` list (a correlated
    subquery on the token row), so the lookup that finds the token also answers
    ``has_perm`` for the request."""
    joined = "string_agg(%s, ',')" if connection.vendor == "postgresql" else "group_concat(%s, ',')"
    user_model = get_user_model()
    user_perms = user_model.user_permissions.through._meta.db_table  # type: ignore[attr-defined]
    user_groups = user_model.groups.through._meta.db_table  # type: ignore[attr-defined]
    group_perms = Group.permissions.through._meta.db_table
    names = joined % "ct.app_label || '.' || p.codename"
    return (
        f"SELECT {names} "
        f"FROM {Permission._meta.db_table} p "
        f"JOIN {ContentType._meta.db_table} ct ON ct.id = p.content_type_id "
        f"WHERE p.id IN (SELECT permission_id FROM {user_perms} "
        f'WHERE user_id = "{token_table}"."user_id" '
        f"UNION SELECT gp.permission_id FROM {user_groups} ug "
        f"JOIN {group_perms} gp ON gp.group_id = ug.group_id "
        f'WHERE ug.user_id = "{token_table}"."user_id")'
    )


def token_authenticate(*, token: str) -> AbstractUser | None:
    """The active user of an unrevoked token, or None. One query finds the token, its user
    and the user's permissions (cached on the user for the request, as Django's
    ``ModelBackend`` caches them); the token's ``last_used_at`` is written at most once a
    minute."""
    record = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=hash_token(token), revoked=False, user__is_active=True)
        .annotate(permission_names=RawSQL(_permission_names_sql(ApiToken._meta.db_table), ()))
        .first()
    )
    if record is None:
        return None
    user = record.user
    if not user.is_superuser:  # a superuser holds every permission without the cache
        names = record.permission_names  # type: ignore[attr-defined]
        user._perm_cache = set(names.split(",")) if names else set()  # type: ignore[attr-defined]
    now = timezone.now()
    if record.last_used_at is None or now - record.last_used_at >= TOKEN_LAST_USED_EVERY:
        ApiToken.objects.filter(pk=record.pk).update(last_used_at=now)
    return user  # type: ignore[return-value]
