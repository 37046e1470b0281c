"""Shared fixtures. The PostgreSQL pass (make test-postgres) checks its server first."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest


def _on_postgres() -> bool:
    return os.environ.get("PATRON_DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


def pytest_sessionstart(session: pytest.Session) -> None:
    if not _on_postgres():
        return
    import psycopg

    url = os.environ["PATRON_DATABASE_URL"]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    try:
        psycopg.connect(admin_url, connect_timeout=5).close()
    except psycopg.OperationalError as error:
        message = f"PostgreSQL is unreachable at {admin_url}: {error}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.exit(message, returncode=3)
        session.config.stash[_UNREACHABLE] = message


_UNREACHABLE = pytest.StashKey[str]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    message = config.stash.get(_UNREACHABLE, None)
    if message:
        skip = pytest.mark.skip(reason=message + " (set CI=true to make this a failure)")
        for item in items:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    """Sign-in failure counts and filter choices live in the cache; each test starts clean."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _default_language() -> None:
    """Each test starts in LANGUAGE_CODE: a test client's request leaves its language (a
    zh-hans cookie) active in the thread, which would translate the next test's messages."""
    from django.utils import translation

    translation.deactivate()


@pytest.fixture
def make_user(django_user_model: Any) -> Callable[..., Any]:
    """A user with a role; with ``password`` it can sign in through the form."""
    from patron.accounts.services import user_role_set

    def make(username: str, role: str | None = None, password: str | None = None) -> Any:
        user = django_user_model.objects.create(username=username, email=f"{username}@example.com")
        if password:
            user.set_password(password)
            user.save()
        if role:
            user_role_set(user=user, role=role)
        return user

    return make
