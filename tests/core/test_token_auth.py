"""API token auth in one query: the token, its user and the user's permissions (own and by
role) come together and answer ``has_perm`` for the request; the token's last use is written
at most once a minute, so one till's requests do not queue on the token's row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from patron.core.models import ApiToken
from patron.core.services import TOKEN_LAST_USED_EVERY, token_authenticate, token_create

pytestmark = pytest.mark.django_db


def test_one_query_finds_the_user_and_every_permission(make_user: Callable[..., Any]) -> None:
    # given: a service user (role permissions) with one permission of its own
    user = make_user("till", "service")
    user.user_permissions.add(Permission.objects.get(codename="export_customers"))
    record, token = token_create(username="till")
    ApiToken.objects.filter(pk=record.pk).update(last_used_at=timezone.now())
    expected = ModelBackend().get_all_permissions(type(user).objects.get(pk=user.pk))
    assert "accounts.export_customers" in expected and len(expected) > 1
    # when
    with CaptureQueriesContext(connection) as queries:
        found = token_authenticate(token=token)
        allowed = found.has_perm("accounts.export_customers")
        refused = found.has_perm("accounts.manage_users")
        everything = found.get_all_permissions()
    # then
    assert len(queries) == 1
    assert found.pk == user.pk
    assert (allowed, refused) == (True, False)
    assert everything == expected


def test_revoked_tokens_and_inactive_users_find_nobody(make_user: Callable[..., Any]) -> None:
    user = make_user("till", "marketing")
    record, token = token_create(username="till")
    assert token_authenticate(token=token + "x") is None
    user.is_active = False
    user.save()
    assert token_authenticate(token=token) is None
    user.is_active = True
    user.save()
    ApiToken.objects.filter(pk=record.pk).update(revoked=True)
    assert token_authenticate(token=token) is None


def test_a_superuser_token_holds_every_permission(make_user: Callable[..., Any]) -> None:
    user = make_user("root")
    user.is_superuser = True
    user.save()
    _, token = token_create(username="root")
    assert token_authenticate(token=token).has_perm("accounts.manage_users")


def test_the_last_use_is_written_at_most_once_a_minute(make_user: Callable[..., Any]) -> None:
    make_user("till", "marketing")
    record, token = token_create(username="till")
    token_authenticate(token=token)
    first = ApiToken.objects.get(pk=record.pk).last_used_at
    assert first is not None
    with CaptureQueriesContext(connection) as queries:
        token_authenticate(token=token)
    assert len(queries) == 1  # no write within the minute
    assert ApiToken.objects.get(pk=record.pk).last_used_at == first
    # a minute later the next use is written
    earlier = first - TOKEN_LAST_USED_EVERY - dt.timedelta(seconds=1)
    ApiToken.objects.filter(pk=record.pk).update(last_used_at=earlier)
    token_authenticate(token=token)
    assert ApiToken.objects.get(pk=record.pk).last_used_at > first
