"""patron warnings refresh: what a daily cron runs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from patron.cli import app
from patron.retention.models import ChurnWarning

pytestmark = pytest.mark.django_db
runner = CliRunner()


def test_refresh_prints_what_it_did_and_is_safe_to_repeat(make_run: Any, make_score: Any) -> None:
    run = make_run()
    make_score(run, "H1", level="high")
    make_score(run, "M1", level="medium")
    make_score(run, "L1", level="low")

    first = runner.invoke(app, ["warnings", "refresh", "--today", "2024-07-02", "--json"])
    again = runner.invoke(app, ["warnings", "refresh", "--today", "2024-07-02", "--json"])

    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout) == {
        "run": run.pk,
        "as_of": "2024-06-30",
        "raised": 2,
        "updated": 0,
        "won_back": 0,
        "recovered": 0,
        "open": 2,
        "cutoff": None,  # the scores have no value at risk: no threshold
    }
    assert again.exit_code == 0 and json.loads(again.stdout)["raised"] == 0
    assert ChurnWarning.objects.count() == 2
    plain = runner.invoke(app, ["warnings", "refresh", "--run", str(run.pk)])
    assert plain.exit_code == 0 and "0 new" in plain.stdout and "2 open" in plain.stdout


def test_refresh_errors_name_what_is_wrong(make_run: Any) -> None:
    result = runner.invoke(app, ["warnings", "refresh"])
    assert result.exit_code == 1 and "patron analyze" in result.output
    result = runner.invoke(app, ["warnings", "refresh", "--run", "999"])
    assert result.exit_code == 1 and "no analysis run 999" in result.output
    result = runner.invoke(app, ["warnings", "refresh", "--today", "2024-13-01"])
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.output
