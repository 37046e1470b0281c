"""patron runs list / migration: any two stored runs, against a crosstab of their scores."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from patron.cli import app
from patron.insights.models import CustomerScore

pytestmark = pytest.mark.django_db(transaction=True)
runner = CliRunner()


def invoke(*args: str) -> Any:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, f"{result.output} {result.exception!r}"
    return json.loads(result.stdout)


@pytest.fixture
def three_runs(tmp_path: Path) -> list[int]:
    """Forty customers buying over a year, analysed as of three dates."""
    rows = ["order_id,customer_id,date,amount"]
    for i in range(400):
        day = dt.date(2024, 1, 1) + dt.timedelta(days=(i * 13) % 360)
        rows.append(f"O{i},C{(i * 7) % 40:02d},{day},{(i * 31) % 500 + 10}")
    path = tmp_path / "orders.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    invoke("import", "transactions", str(path))
    return [
        invoke("analyze", "--as-of", day, "--no-kpis")["run"]
        for day in ("2024-03-31", "2024-08-31", "2024-12-31")
    ]


def _crosstab(before: int, after: int, column: str) -> dict[tuple[str, str], int]:
    """The transition counts computed here from the stored scores, outer-joined in pandas."""

    def levels(run: int) -> pd.Series:
        rows = CustomerScore.objects.filter(run_id=run).values_list("customer_id", column)
        return pd.Series(dict(rows), name=str(run))

    joined = pd.concat([levels(before), levels(after)], axis=1)
    joined = joined.fillna({str(before): "(new)", str(after): "(lost)"})
    counts = joined.groupby([str(before), str(after)]).size()
    return {(b, a): int(n) for (b, a), n in counts.items()}


@pytest.mark.parametrize(("by", "column"), [("tier", "value_tier"), ("segment", "segment")])
def test_migration_between_any_two_runs_equals_a_crosstab(
    three_runs: list[int], tmp_path: Path, by: str, column: str
) -> None:
    first, _, last = three_runs  # not neighbours: any two runs
    # when
    result = invoke("runs", "migration", str(first), str(last), "--by", by,
                    "--moves", str(tmp_path / "moves.csv"))  # fmt: skip
    # then every non-zero cell is the crosstab's, and the crosstab has no other cell
    expected = _crosstab(first, last, column)
    ours = {(b, a): n for b, row in result["counts"].items() for a, n in row.items() if n}
    assert ours == expected
    assert result["new"] == sum(n for (b, _), n in expected.items() if b == "(new)")
    assert result["lost"] == sum(n for (_, a), n in expected.items() if a == "(lost)")
    total = result["upgrades"] + result["downgrades"] + result["same"]
    assert total == sum(n for (b, a), n in expected.items() if "(" not in b + a)
    # and the customers' moves are written, one per customer in either run
    moves = pd.read_csv(tmp_path / "moves.csv", encoding="utf-8-sig")
    assert list(moves.columns) == ["customer_id", "before", "after", "change"]
    assert len(moves) == sum(expected.values())


def test_runs_list_and_unknown_runs(three_runs: list[int]) -> None:
    listed = invoke("runs", "list")
    assert [r["run"] for r in listed] == sorted(three_runs, reverse=True)
    assert {r["status"] for r in listed} == {"completed"}
    missing = runner.invoke(app, ["runs", "migration", str(three_runs[0]), "999"])
    assert missing.exit_code == 2
    assert "no completed analysis run 999" in " ".join(missing.output.split())
    huge = runner.invoke(app, ["runs", "migration", str(three_runs[0]), "9" * 20])
    assert huge.exit_code == 2  # past any database key: no such run, not a database error
    wrong = runner.invoke(app, ["runs", "migration", "1", "2", "--by", "colour"])
    assert wrong.exit_code == 2
