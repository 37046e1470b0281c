"""Fixtures for the job tests: Huey on its real SQLite queue, for a worker process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


def _database_url() -> str:
    """The test database, as a URL another process can open."""
    from django.db import connection

    config = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{config['NAME']}"
    auth = config["USER"] + (f":{config['PASSWORD']}" if config.get("PASSWORD") else "")
    return f"postgresql://{auth}@{config['HOST']}:{config['PORT']}/{config['NAME']}"


@pytest.fixture
def child_database(monkeypatch: pytest.MonkeyPatch) -> str:
    """PATRON_DATABASE_URL set to the test database, for the processes a test starts."""
    url = _database_url()
    monkeypatch.setenv("PATRON_DATABASE_URL", url)
    return url


@pytest.fixture
def real_queue(
    monkeypatch: pytest.MonkeyPatch, settings: Any, tmp_path: Path, child_database: str
) -> Any:
    """Huey on its SQLite file, and what a worker process needs to find the same things."""
    from huey.contrib.djhuey import HUEY

    settings.PATRON_UPLOAD_DIR = tmp_path / "uploads"
    monkeypatch.setenv("PATRON_JOBS_IMMEDIATE", "0")
    monkeypatch.setenv("PATRON_UPLOAD_DIR", str(settings.PATRON_UPLOAD_DIR))
    monkeypatch.setenv("PATRON_QUEUE_NAME", HUEY.name)  # named after the test database
    HUEY.immediate = False
    HUEY.flush()
    yield HUEY
    HUEY.flush()
    HUEY.immediate = True
