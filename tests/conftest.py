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
    browser = pytest.mark.browser
    for item in items:
        if "page" in getattr(item, "fixturenames", ()):
            item.add_marker(browser)
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


# --- campaigns: a real SMTP server (aiosmtpd) on a free port, for mail tests ----------------


class SmtpSink:
    """What the local SMTP server received: one entry per accepted message, with the outbox
    key (``X-Patron-Key``). ``refuse`` / ``defer`` hold recipients answered 550 / 451;
    ``pipelining`` offers PIPELINING."""

    def __init__(self) -> None:
        import threading

        self.messages: list[dict[str, Any]] = []
        self.refuse: set[str] = set()
        self.defer: set[str] = set()
        self.lock = threading.Lock()
        self.host = "127.0.0.1"
        self.port = 0
        self.pipelining = False  # offer PIPELINING (RFC 2920) in the EHLO answer

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        if self.pipelining:
            return [*responses[:-1], "250-PIPELINING", responses[-1]]
        return responses

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such user"
        if address in self.defer:
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        from email import message_from_bytes, policy

        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append(
                {"key": str(message["X-Patron-Key"]), "to": list(envelope.rcpt_tos),
                 "message": message}
            )  # fmt: skip
        return "250 OK"

    def keys(self) -> list[str]:
        with self.lock:
            return [m["key"] for m in self.messages]

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"


def free_port() -> int:
    """A free TCP port (aiosmtpd's Controller cannot take port 0)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp_server(settings: Any) -> Any:
    """A real SMTP server on localhost; Django's mail settings point at it for the test."""
    from aiosmtpd.controller import Controller

    sink = SmtpSink()
    sink.port = free_port()
    controller = Controller(sink, hostname=sink.host, port=sink.port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = sink.host, sink.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 10
    try:
        yield sink
    finally:
        controller.stop()
