"""Without Chromium the browser tests skip with a reason; under CI=true they fail instead."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BROWSER_TEST = Path(__file__).with_name("test_browser.py")


def _run(extra_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # Its own throwaway var/ and SQLite database: never the parent run's test database.
    dropped = {"CI", "PATRON_CHROMIUM", "PATRON_VAR_DIR", "PATRON_DATABASE_URL"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update({"PATRON_CHROMIUM": "/nonexistent/chromium", **extra_env})
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", str(BROWSER_TEST)],
        env=env, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip


@pytest.mark.slow
def test_missing_chromium_skips_with_a_reason_but_fails_under_ci() -> None:
    skipped = _run({})
    assert skipped.returncode == 0, skipped.stdout[-2000:]
    assert "1 skipped" in skipped.stdout and "make system-deps" in skipped.stdout
    failed = _run({"CI": "true"})
    assert failed.returncode == 1, failed.stdout[-2000:]
    assert "required under CI=true" in failed.stdout
