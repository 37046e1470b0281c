"""No export writes shop text as a formula (CSV injection): every CSV path prefixes a cell that
starts with = + - @ tab or CR with ', every workbook writes it as a text cell, unchanged."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from django.test import Client
from typer.testing import CliRunner

from patron.cli import app
from patron.core.cells import FORMULA_STARTS, neutralise_cell
from patron.customers.models import Customer

PASSWORD = "Patron-Test-Pass-2024"
EVIL_ID = "=1+2"
EVIL = ['=HYPERLINK("http://x","y")', "+1-2", "-3+4", "@SUM(A1)", "\tx", "\rx"]
runner = CliRunner()


def _csv_cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text.lstrip("\ufeff"))) for cell in row]


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _assert_csv_safe(cells: list[str], *expected: str) -> None:
    for cell in cells:
        if _is_number(cell):  # -12.5 written as a number is an amount, not text
            continue
        assert not cell.startswith(FORMULA_STARTS), repr(cell)
    for text in expected:
        assert "'" + text in cells, (text, cells)


def _assert_xlsx_safe(path_or_bytes: Path | bytes, *expected: str) -> None:
    data = path_or_bytes if isinstance(path_or_bytes, bytes) else path_or_bytes.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in archive.read(name), name  # no formula anywhere
    book = openpyxl.load_workbook(io.BytesIO(data))
    values = {c.value for sheet in book for row in sheet.iter_rows() for c in row}
    for text in expected:
        assert text in values, text  # the text as it was, as a string cell


def test_the_helper() -> None:
    for text in EVIL:
        assert neutralise_cell(text) == "'" + text
    for value in ("ok", "a=b", "", None, -5, 3.5, "'=already"):
        assert neutralise_cell(value) == value


@pytest.mark.django_db
def test_customer_list_exports(make_user: Any) -> None:
    # given customers whose fields start like formulas, and a user who may export
    Customer.objects.create(external_id=EVIL_ID, name=EVIL[0], email="@x.com", tags=["+vip"])
    Customer.objects.create(external_id="C2", name=EVIL[3], city="-3+4")
    make_user("mia", "marketing", password=PASSWORD)
    client = Client()
    client.login(username="mia", password=PASSWORD)
    # when both formats are exported
    text = b"".join(client.get("/customers/export/csv/").streaming_content).decode()
    workbook = client.get("/customers/export/xlsx/")
    # then
    _assert_csv_safe(_csv_cells(text), EVIL_ID, EVIL[0], "@x.com", "+vip", EVIL[3], "-3+4")
    _assert_xlsx_safe(b"".join(workbook.streaming_content), EVIL_ID, EVIL[0], EVIL[3])


@pytest.mark.django_db(transaction=True)
def test_rejected_rows_file(tmp_path: Path) -> None:
    source = tmp_path / "orders.csv"
    source.write_text(
        "order_id,customer_id,ordered_at,amount\n1,C1,2024-01-02,10\n"
        f"2,{EVIL_ID},not a date,=SUM(A1)\n",
        encoding="utf-8",
    )
    rejects = tmp_path / "rejects.csv"
    result = runner.invoke(
        app, ["import", "transactions", str(source), "--skip-bad", "--rejects", str(rejects)]
    )
    assert result.exit_code == 0, result.output
    _assert_csv_safe(_csv_cells(rejects.read_text(encoding="utf-8-sig")), EVIL_ID, "=SUM(A1)")


def _orders(path: Path, months: int = 1) -> Path:
    rows = ["order_id,customer_id,ordered_at,amount"]
    for i in range(60):
        customer = EVIL_ID if i % 3 == 0 else f"C{i % 7}"
        rows.append(f"O{i},{customer},2024-{1 + (i * months) % 12:02d}-{1 + i % 27:02d},{10 + i}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_analyze_files(tmp_path: Path) -> None:
    source = _orders(tmp_path / "orders.csv")
    out, xlsx = tmp_path / "out", tmp_path / "analysis.xlsx"
    result = runner.invoke(
        app,
        ["analyze", "--source", str(source), "--out", str(out), "--xlsx", str(xlsx), "--no-kpis"],
    )
    assert result.exit_code == 0, result.output
    _assert_csv_safe(_csv_cells((out / "customers.csv").read_text(encoding="utf-8")), EVIL_ID)
    _assert_xlsx_safe(xlsx, EVIL_ID)


@pytest.mark.django_db(transaction=True)
def test_runs_migration_moves(tmp_path: Path) -> None:
    source = _orders(tmp_path / "orders.csv", months=5)
    assert runner.invoke(app, ["import", "transactions", str(source)]).exit_code == 0
    runs = []
    for day in ("2024-06-30", "2024-12-31"):
        result = runner.invoke(app, ["analyze", "--as-of", day, "--no-kpis", "--json"])
        assert result.exit_code == 0, result.output
        runs.append(pd.read_json(io.StringIO(result.stdout), typ="series")["run"])
    moves = tmp_path / "moves.csv"
    result = runner.invoke(
        app, ["runs", "migration", str(runs[0]), str(runs[1]), "--moves", str(moves)]
    )
    assert result.exit_code == 0, result.output
    _assert_csv_safe(_csv_cells(moves.read_text(encoding="utf-8-sig")), EVIL_ID)


def test_clv_predictions(tmp_path: Path) -> None:
    summary = tmp_path / "summary.csv"
    frame = pd.DataFrame(
        {
            "customer_id": [EVIL_ID, "-7", "C3", "C4", "C5", "C6"],
            "frequency": [2, 0, 5, 1, 3, 0],
            "recency": [30.0, 0.0, 60.0, 10.0, 40.0, 0.0],
            "T": [90.0, 80.0, 90.0, 70.0, 85.0, 60.0],
        }
    )
    frame.to_csv(summary, index=False)
    out = tmp_path / "predicted.csv"
    result = runner.invoke(
        app, ["clv", "predict", str(summary), "--penalizer", "0.1", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    _assert_csv_safe(_csv_cells(out.read_text(encoding="utf-8-sig")), EVIL_ID, "-7")
