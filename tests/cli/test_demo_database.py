"""After `make demo`, the commands find the demo's database by themselves (and say so); with
no database at all they say how to get one, and leave no empty var/patron.sqlite3 behind.
Times printed by the command line are in the business time zone, as on the web."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest


def _patron(var: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PATRON_", "DJANGO_"))}
    clean.update({"PATRON_VAR_DIR": str(var), "COLUMNS": "200", **env})
    return subprocess.run(
        [sys.executable, "-m", "patron.cli", *args],
        env=clean,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.mark.django_db
def test_commands_use_the_demo_database_or_say_how_to_point_at_it(tmp_path: Path) -> None:
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("the demo database is a SQLite file")
    # given a var/ with nothing in it: a command says how to get a database, creates none
    empty = _patron(tmp_path, "stats")
    assert empty.returncode == 1
    message = " ".join(empty.stderr.split())
    assert "run `patron init`" in message and "make demo" in message
    assert f"PATRON_DATABASE_URL=sqlite:///{tmp_path / 'demo.sqlite3'}" in message
    assert not (tmp_path / "patron.sqlite3").exists()
    # given the demo's database (as `make demo` leaves it: var/demo.sqlite3)
    # (a copy of the migrated test database, quicker than `patron demo`)
    import shutil

    demo = tmp_path / "demo.sqlite3"
    source = Path(connection.settings_dict["NAME"])
    shutil.copyfile(source, demo)
    if Path(f"{source}-wal").exists():  # committed pages not yet in the main file
        shutil.copyfile(f"{source}-wal", f"{demo}-wal")
    # when a command runs without PATRON_DATABASE_URL
    stats = _patron(tmp_path, "stats", "--json")
    # then it reads the demo database and says which one it uses
    assert stats.returncode == 0, stats.stderr
    assert json.loads(stats.stdout)["customers"] == 0
    assert f"Using the demo database {demo}" in " ".join(stats.stderr.split())
    assert not (tmp_path / "patron.sqlite3").exists()


@pytest.mark.django_db
def test_runs_list_prints_times_in_the_business_time_zone() -> None:
    from typer.testing import CliRunner

    from patron.cli.app import app
    from patron.insights.models import AnalysisRun, RunStatus

    AnalysisRun.objects.create(
        as_of=date(2024, 6, 30), code_version="t", status=RunStatus.COMPLETED
    )
    result = CliRunner().invoke(app, ["runs", "list", "--json"])
    assert result.exit_code == 0, result.output
    created = json.loads(result.output)[0]["created"]
    assert created.endswith("+08:00")  # Asia/Shanghai, PATRON_TIME_ZONE's default
