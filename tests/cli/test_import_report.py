"""What `patron import` prints: only the details a file has, and counts in plain English."""

from __future__ import annotations

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
