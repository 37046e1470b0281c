"""A clean CSV and the same data written with real-world quirks import to the same orders."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from patron.cli import app
from patron.customers.models import Customer
from patron.sales.models import Order

pytestmark = pytest.mark.django_db
runner = CliRunner()

rows_strategy = st.lists(
    st.tuples(
        st.sampled_from(["C1", "C2", "会员003", "0042"]),
        st.dates(
            min_value=__import__("datetime").date(2020, 1, 1),
            max_value=__import__("datetime").date(2025, 12, 31),
        ),
        st.decimals(min_value=Decimal("-500"), max_value=Decimal("99999"), places=2),
        st.sampled_from(["南山店", "Futian, 2F", "线上\n商城", 'the "best" shop']),
    ),
    min_size=1,
    max_size=12,
)
quirks_strategy = st.fixed_dictionaries(
    {
        "encoding": st.sampled_from(["utf-8", "utf-8-sig", "gbk"]),
        "newline": st.sampled_from(["\n", "\r\n"]),
        "yen": st.sampled_from(["", "¥", "￥"]),
        "thousands": st.booleans(),
        "preamble": st.booleans(),
        "trailing_blank_lines": st.integers(0, 3),
    }
)


def _csv_cell(text: str) -> str:
    if any(ch in text for ch in ',"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text


def _write(path: Path, rows: list[tuple], quirks: dict | None) -> None:
    quirks = quirks or {}
    newline = quirks.get("newline", "\n")
    lines = []
    if quirks.get("preamble"):
        lines += ["门店销售流水导出", "导出时间：2024年1月31日", ""]
    lines.append("客户编号,交易日期,金额,门店")
    for customer, day, amount, store in rows:
        text = f"{amount:.2f}"
        if quirks.get("thousands"):
            text = f"{amount:,.2f}"
        if quirks.get("yen") and amount >= 0:
            # GBK has no U+00A5: files in GBK write the full-width ￥
            yen = "￥" if quirks.get("encoding") == "gbk" else quirks["yen"]
            text = yen + text
        lines.append(
            ",".join([customer, day.strftime("%Y-%m-%d"), _csv_cell(text), _csv_cell(store)])
        )
    body = newline.join(lines) + newline + newline * quirks.get("trailing_blank_lines", 0)
    path.write_bytes(body.encode(quirks.get("encoding", "utf-8")))


def _import(path: Path) -> dict:
    result = runner.invoke(app, ["import", "transactions", str(path), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=rows_strategy, quirks=quirks_strategy)
def test_quirky_file_imports_to_the_same_orders(
    tmp_path: Path, rows: list[tuple], quirks: dict
) -> None:
    Order.objects.all().delete()
    Customer.objects.all().delete()
    clean, quirky = tmp_path / "clean.csv", tmp_path / "quirky.csv"
    _write(clean, rows, None)
    _write(quirky, rows, quirks)

    first = _import(clean)
    before = sorted(Order.objects.values_list("external_id", "amount", "store", "ordered_on"))
    second = _import(quirky)

    assert first["inserted"] == len(rows) and first["rejected"] == 0
    assert (second["inserted"], second["updated"], second["unchanged"]) == (0, 0, len(rows))
    assert second["rejected"] == 0
    after = sorted(Order.objects.values_list("external_id", "amount", "store", "ordered_on"))
    assert after == before
