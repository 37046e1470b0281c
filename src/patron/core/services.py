"""Writes for tokens and users."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import timezone

from patron.core.errors import PatronError
from patron.core.models import ApiToken
from patron.core.raw_models import RawModel


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


_LOOKUP: dict[str, tuple[str, RawModel[Any], RawModel[ApiToken]]] = {}


def _token_lookup() -> tuple[str, RawModel[Any], RawModel[ApiToken]]:
    """One statement (built once per database vendor): the unrevoked token of an active
    user, with the user's columns and the user's own and group permissions as one
    ``app.codename`` list, so the lookup that finds the token also answers ``has_perm`` for
    the request. Hand-written because it runs on every API request."""
    vendor = connection.vendor
    if vendor in _LOOKUP:
        return _LOOKUP[vendor]
    user_model = get_user_model()
    users = RawModel(user_model, "u")
    tokens = RawModel(ApiToken, "t", ["id", "last_used_at"])
    joined = "string_agg(%s, ',')" if vendor == "postgresql" else "group_concat(%s, ',')"
    names = joined % "ct.app_label || '.' || p.codename"
    user_perms = user_model.user_permissions.through._meta.db_table  # type: ignore[attr-defined]
    user_groups = user_model.groups.through._meta.db_table  # type: ignore[attr-defined]
    group_perms = Group.permissions.through._meta.db_table
    false = "FALSE" if vendor == "postgresql" else "0"
    true = "TRUE" if vendor == "postgresql" else "1"
    sql = (
        f"SELECT (SELECT {names} FROM {Permission._meta.db_table} p "
        f"JOIN {ContentType._meta.db_table} ct ON ct.id = p.content_type_id "
        f"WHERE p.id IN (SELECT permission_id FROM {user_perms} WHERE user_id = t.user_id "
        f"UNION SELECT gp.permission_id FROM {user_groups} ug "
        f"JOIN {group_perms} gp ON gp.group_id = ug.group_id WHERE ug.user_id = t.user_id)), "
        f"{tokens.columns()}, {users.columns()} FROM {ApiToken._meta.db_table} t "
        f"JOIN {user_model._meta.db_table} u ON u.id = t.user_id "
        f"WHERE t.key_hash = %s AND t.revoked = {false} AND u.is_active = {true}"
    )
    _LOOKUP[vendor] = (sql, users, tokens)
    return _LOOKUP[vendor]


def token_authenticate(*, token: str) -> AbstractUser | None:
    """The active user of an unrevoked token, or None. One query finds the token, its user
    and the user's permissions (cached on the user for the request, as Django's
    ``ModelBackend`` caches them); the token's ``last_used_at`` is written at most once a
    minute."""
    sql, users, tokens = _token_lookup()
    with connection.cursor() as cursor:
        cursor.execute(sql, [hash_token(token)])
        row = cursor.fetchone()
    if row is None:
        return None
    names = row[0]
    record = tokens.build(row, 1)
    user = users.build(row, 1 + tokens.width)
    if record is None or user is None:  # inner joins: never, but say so to the type checker
        return None
    if not user.is_superuser:  # a superuser holds every permission without the cache
        user._perm_cache = set(names.split(",")) if names else set()  # type: ignore[attr-defined]
    now = timezone.now()
    if record.last_used_at is None or now - record.last_used_at >= TOKEN_LAST_USED_EVERY:
        ApiToken.objects.filter(pk=record.pk).update(last_used_at=now)
    return user  # type: ignore[return-value]
