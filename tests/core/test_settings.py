"""Settings come from the environment; the server refuses the default secret key."""

from __future__ import annotations

import os
import subprocess
import sys


def _settings(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PATRON_")}
    code = (
        "import patron.settings as s; print(s.DATABASES['default']['ENGINE'], s.TIME_ZONE, "
        "s.PATRON_CURRENCY, s.DEBUG)"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_refuses_default_secret_key_outside_debug(tmp_path) -> None:
    result = _settings({"PATRON_VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "PATRON_SECRET_KEY" in result.stderr


def test_defaults_and_overrides(tmp_path) -> None:
    result = _settings({"PATRON_VAR_DIR": str(tmp_path), "PATRON_DEBUG": "true"})
    assert result.stdout.split() == ["django.db.backends.sqlite3", "Asia/Shanghai", "CNY", "True"]
    result = _settings(
        {
            "PATRON_VAR_DIR": str(tmp_path),
            "PATRON_SECRET_KEY": "k" * 50,
            "PATRON_DATABASE_URL": "postgresql://u@127.0.0.1/x",
            "PATRON_TIME_ZONE": "Europe/Berlin",
            "PATRON_CURRENCY": "EUR",
        }
    )
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "Europe/Berlin",
        "EUR",
        "False",
    ]


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path) -> None:
    code = (
        "import django; django.setup(); from django.db import connection; c = connection.cursor(); "
        "print(c.execute('PRAGMA journal_mode').fetchone()[0], "
        "c.execute('PRAGMA foreign_keys').fetchone()[0])"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PATRON_")}
    env.update(
        {
            "PATRON_VAR_DIR": str(tmp_path),
            "PATRON_DEBUG": "1",
            "DJANGO_SETTINGS_MODULE": "patron.settings",
        }
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["wal", "1"]
