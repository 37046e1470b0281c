from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

PASSWORD = "Patron-Test-Pass-2024"


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    """Sign-in failure counts live in the cache; each test starts clean."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def make_user(django_user_model: Any) -> Callable[..., Any]:
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
