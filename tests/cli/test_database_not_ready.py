"""A command run before `patron init`, or against a database that cannot be opened, says so
in one line and exits 1, instead of printing Django's traceback ("no such table ...")."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def _patron(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PATRON_", "DJANGO_"))}
    clean.update({"PATRON_VAR_DIR": str(tmp_path), "COLUMNS": "200", **env})
    return subprocess.run(
        [sys.executable, "-m", "patron.cli", *args],
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_command_before_init_says_to_run_init(tmp_path: Path) -> None:
    # given a new var/ directory: no database yet
    # when
    result = _patron(tmp_path, "stats")

    # then
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    assert (
        f"The database {tmp_path / 'patron.sqlite3'} is not set up yet: run `patron init`"
        in result.stderr
    )


def test_an_import_before_init_says_to_run_init(tmp_path: Path) -> None:
    # given a file to import, and no database yet
    path = tmp_path / "orders.csv"
    path.write_text("customer_id,date,amount\nC1,2024-01-05,10\n", encoding="utf-8")

    # when
    result = _patron(tmp_path, "import", "transactions", str(path))

    # then the importer's "the database refused the import" is explained
    assert result.returncode == 1
    assert "not set up yet: run `patron init`" in result.stderr
    assert "refused" not in result.stderr


def test_serve_refuses_a_database_that_is_not_set_up(tmp_path: Path) -> None:
    result = _patron(tmp_path, "serve", "--port", "8799", PATRON_SECRET_KEY="k" * 50)

    assert result.returncode == 1
    assert "not set up yet: run `patron init`" in result.stderr
    assert "Serving Patron" not in result.stdout


def test_a_database_that_cannot_be_opened_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "a-folder"  # not a file SQLite can open
    folder.mkdir()

    result = _patron(tmp_path, "init", PATRON_DATABASE_URL=f"sqlite:///{folder}")

    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    assert f"Cannot open the database {folder}: unable to open database file." in result.stderr
    assert "Check PATRON_DATABASE_URL" in result.stderr


def test_a_missing_secret_key_is_one_message_without_a_traceback(tmp_path: Path) -> None:
    result = _patron(tmp_path, "serve", "--port", "8799")

    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    assert f"PATRON_SECRET_KEY is not set and there is no {tmp_path / 'secret_key'}" in (
        " ".join(result.stderr.split())
    )


@pytest.mark.django_db
def test_a_migrated_database_passes_the_check() -> None:
    from patron.core.setup import database_check

    database_check()  # the test database has every migration: no error
