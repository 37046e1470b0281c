"""What `patron import` prints: only the details a file has, and counts in plain English."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from patron.cli import app

pytestmark = pytest.mark.django_db


def _text(output: str) -> str:
    return " ".join(output.split())  # the console wraps long lines


def test_an_excel_file_has_no_encoding_to_report(tmp_path: Path) -> None:
    # given
    book = Workbook()
    book.active.append(["会员卡号", "姓名"])
    book.active.append(["00001", "张三"])
    path = tmp_path / "会员.xlsx"
    book.save(path)

    # when
    result = CliRunner().invoke(app, ["import", "customers", str(path)])

    # then
    assert result.exit_code == 0, result.output
    assert f"Read 1 row (customers) from {path}" in _text(result.output)
    assert "encoding" not in result.output and "None" not in result.output
    assert "dates -" not in result.output


def test_one_bad_row_is_one_row(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("customer_id,date,amount\nC1,2024-01-05,10\nC2,2024-01-06,abc\n")

    result = CliRunner().invoke(app, ["import", "transactions", str(path)])

    assert result.exit_code == 1
    text = _text(result.output)
    assert "(encoding utf-8, dates %Y-%m-%d)" in text
    assert "Nothing imported: 1 row rejected. Fix it, or use --skip-bad" in text
    assert "more rejected" not in text


def test_a_member_list_given_as_transactions_is_pointed_to_import_customers(
    tmp_path: Path,
) -> None:
    # given a customer file
    path = tmp_path / "members.csv"
    path.write_text("会员卡号,姓名,手机号\n00001,张三,13812345678\n", encoding="utf-8")

    # when it is imported as transactions
    result = CliRunner().invoke(app, ["import", "transactions", str(path)])

    # then the missing columns are named, and so is the command that fits the file
    assert result.exit_code == 1
    text = _text(result.output)
    assert "No column for required field(s) ordered_at, amount in this transactions file" in text
    assert f"If it is a customers file, import it with: patron import customers {path}" in text


def test_a_file_that_fits_no_other_kind_gets_no_such_hint(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("cust,date,amount\nA1,2026-01-02,10\n")

    result = CliRunner().invoke(app, ["import", "transactions", str(path)])

    assert result.exit_code == 1
    assert "--map customer_id=COLUMN" in result.output and "If it is" not in result.output


def test_the_mapping_line_shows_example_values(tmp_path: Path) -> None:
    # given a grocery log whose AMOUNT is the quantity, imported with the sales price as money
    path = tmp_path / "grocery.csv"
    path.write_text(
        "household_id,basket_id,date,AMOUNT,SALES_PRICE\n"
        "H1,B1,2017-01-02,1,2.99\nH1,B2,2017-01-09,3,7.50\n"
        "H2,B3,2017-01-03,2,1.25\nH2,B4,2017-02-03,1,10.00\n",
        encoding="utf-8",
    )
    # when
    args = ["import", "transactions", str(path), "--map", "amount=SALES_PRICE"]
    result = CliRunner().invoke(app, args)
    # then each mapped field names its column and the column's first cells
    assert result.exit_code == 0, result.output
    text = _text(result.output)
    assert "amount←SALES_PRICE (2.99, 7.50, 1.25)" in text
    assert "customer_id←household_id (H1, H1, H2)" in text
    assert "order_id←basket_id (B1, B2, B3)" in text
    assert "ordered_at←date (2017-01-02, 2017-01-09, 2017-01-03)" in text
    assert "Ignored columns: AMOUNT" in text


def test_examples_come_through_the_background_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from patron.ingest import pipeline

    # given a file read in a child process (as a large one is), with a long cell
    monkeypatch.setattr(pipeline, "SUBPROCESS_MIN_BYTES", 0)
    path = tmp_path / "orders.csv"
    long_name = "a very long product description indeed"
    path.write_text(
        f"order_id,customer_id,ordered_at,amount,product_name\nO1,C1,2024-01-02,5.00,{long_name}\n"
    )
    # when
    result = CliRunner().invoke(app, ["import", "transactions", str(path), "--json"])
    # then the report carries the first cells, and the line shortens a long one
    assert result.exit_code == 0, result.output
    examples = json.loads(result.stdout)["examples"]
    assert examples["amount"] == ["5.00"] and examples["customer_id"] == ["C1"]
    printed = CliRunner().invoke(app, ["import", "transactions", str(path)])
    assert "(a very long product des…)" in _text(printed.output)
