"""`patron import` speaks English whatever the shell's locale: the command line activates no
language, so Django's LANGUAGE_CODE ("en") applies, and scripts can match its messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from patron.cli import app
from patron.sales.models import Order

pytestmark = pytest.mark.django_db

BAD_ROWS = (
    "customer_id,date,amount\n"
    "C1,2024-01-05,10.00\n"
    "C2,2024-01-06,abc\n"  # line 3: not an amount
    ",2024-01-07,5.00\n"  # line 4: no customer id
)


@pytest.fixture(autouse=True)
def chinese_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LANG", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.setenv(name, "zh_CN.UTF-8")
    monkeypatch.setenv("LANGUAGE", "zh_CN:zh")


def test_row_errors_are_printed_in_english(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(BAD_ROWS, encoding="utf-8")

    result = CliRunner().invoke(app, ["import", "transactions", str(path)])

    assert result.exit_code == 1 and not Order.objects.exists()
    text = " ".join(result.output.split())  # the console wraps long lines
    assert (
        "line 3 amount 'abc': expected an amount such as 123.45 (¥, 元 and thousands "
        "separators are fine) line 4 customer_id: a value is required here" in text
    )
    assert "应为" not in result.output and "此处必须填写" not in result.output


def test_the_json_report_is_in_english(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(BAD_ROWS, encoding="utf-8")

    result = CliRunner().invoke(app, ["import", "transactions", str(path), "--json"])

    assert result.exit_code == 1
    errors = json.loads(result.stdout)["errors"]
    assert [(e["line"], e["code"], e["message"]) for e in errors] == [
        (
            3,
            "row.invalid_value",
            "expected an amount such as 123.45 (¥, 元 and thousands separators are fine)",
        ),
        (4, "row.missing_value", "a value is required here"),
    ]


def test_a_file_error_is_printed_in_english(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("\n", encoding="utf-8")

    result = CliRunner().invoke(app, ["import", "transactions", str(path)])

    assert result.exit_code == 1
    assert "Error: empty.csv has no header row (the file is empty or blank)." in " ".join(
        result.output.split()
    )
