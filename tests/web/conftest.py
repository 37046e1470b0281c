"""Fixtures for the web tests: users per role, and Playwright on Debian's Chromium."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API runs an event loop in the test thread; Django's ORM calls made from the
# test itself (fixtures, assertions) are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path(os.environ.get("PATRON_CHROMIUM", "/usr/bin/chromium"))  # Debian's package
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "Patron-Test-Pass-2024"


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    """Sign-in failure counts and filter choices live in the cache; each test starts clean."""
    from django.core.cache import cache

    cache.clear()


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


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's Chromium (``apt-get install chromium fonts-noto-cjk``), never a download."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: run `make system-deps` (apt-get install chromium)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason + " - required under CI=true")
        pytest.skip(reason)
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-sync",
        ],
    }


@pytest.fixture
def screenshot_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
