"""Real files in, without surprises: what public retail logs as distributed ran into.

The amount that was a quantity, day/month decided on the first cells only, float noise in
Parquet doubles, id columns not recognised, natural words in --map, and a preset named for
one shared column.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from patron.ingest.errors import IngestError, IngestErrorCode
from patron.ingest.importer import ImportOptions, import_plan
from patron.ingest.mapping import EntityKind, resolve_columns
from patron.insights.sources import read_transactions_file

GROCERY = (
    "household_id,basket_id,date,AMOUNT,SALES_PRICE\n"
    "H1,B1,2017-01-02,1,2.99\n"
    "H1,B2,2017-01-09,3,7.50\n"
    "H2,B3,2017-01-03,2,1.25\n"
    "H2,B4,2017-02-03,1,10.00\n"
)


@pytest.mark.parametrize(
    ("header", "field", "column"),
    [
        (["basket_id", "household_id", "date", "amount"], "order_id", "basket_id"),
        (["transaction_id", "member_id", "date", "amount"], "order_id", "transaction_id"),
        (["receipt_no", "card_no", "date", "amount"], "order_id", "receipt_no"),
        (["小票号", "会员卡号", "日期", "金额"], "order_id", "小票号"),
        (["basket_id", "household_id", "date", "amount"], "customer_id", "household_id"),
        (["transaction_id", "member_id", "date", "amount"], "customer_id", "member_id"),
        (["receipt_no", "card_no", "date", "amount"], "customer_id", "card_no"),
    ],
)
def test_common_id_columns_are_recognised(header: list[str], field: str, column: str) -> None:
    # when a header with a retail log's id columns is matched
    mapping = resolve_columns(header, EntityKind.TRANSACTIONS)
    # then the id column feeds its field
    assert mapping.columns[field] == column


def test_natural_words_in_map_are_the_fields() -> None:
    # given --map with the words a person types
    header = ["wann", "wer", "bon", "betrag"]
    overrides = {"date": "wann", "customer": "wer", "order": "bon", "amount": "betrag"}
    # when the columns are resolved
    mapping = resolve_columns(header, EntityKind.TRANSACTIONS, overrides)
    # then they name ordered_at, customer_id and order_id, and were named, not guessed
    assert mapping.columns == {
        "ordered_at": "wann",
        "customer_id": "wer",
        "order_id": "bon",
        "amount": "betrag",
    }
    assert mapping.explicit == {"ordered_at", "customer_id", "order_id", "amount"}


def test_a_quantity_taken_as_the_amount_is_asked_about(tmp_path: Path) -> None:
    # given a grocery log whose AMOUNT is the quantity and SALES_PRICE the money
    path = tmp_path / "grocery.csv"
    path.write_text(GROCERY, encoding="utf-8")
    # when it is analysed without --map, then the analysis stops and asks, with examples
    with pytest.raises(IngestError) as asked:
        read_transactions_file(path)
    message = asked.value.message
    assert asked.value.code is IngestErrorCode.BAD_MAPPING
    assert "--map amount=COLUMN" in message
    assert "AMOUNT = 1, 3, 2" in message and "SALES_PRICE = 2.99, 7.50, 1.25" in message
    assert asked.value.extra["candidates"] == ["SALES_PRICE"]
    # and with --map amount=SALES_PRICE the money is the sales price (summed independently)
    source = read_transactions_file(path, mapping={"amount": "SALES_PRICE"})
    expected = sum(Decimal(line.split(",")[4]) for line in GROCERY.splitlines()[1:])
    assert sum(source.table["amount_cents"].to_pylist()) == int(expected * 100)
    # and --map amount=AMOUNT keeps the column the person named
    kept = read_transactions_file(path, mapping={"amount": "AMOUNT"})
    assert sum(kept.table["amount_cents"].to_pylist()) == 700


def test_two_amount_columns_with_other_values_are_asked_about(tmp_path: Path) -> None:
    # given a file with two columns that could be the amount
    path = tmp_path / "orders.csv"
    path.write_text(
        "customer_id,date,total,amount\nC1,2024-01-02,12.50,10.00\nC2,2024-01-03,8.00,8.00\n",
        encoding="utf-8",
    )
    with pytest.raises(IngestError) as asked:
        read_transactions_file(path)
    assert asked.value.extra["candidates"] == ["total"]
    assert "amount = 10.00, 8.00; total = 12.50, 8.00" in asked.value.message
    # and when the two hold the same values there is nothing to ask
    same = tmp_path / "same.csv"
    same.write_text("customer_id,date,total,amount\nC1,2024-01-02,12.50,12.50\n", encoding="utf-8")
    assert read_transactions_file(same).rows == 1


@pytest.mark.django_db
def test_the_import_asks_too_and_writes_nothing(cli, tmp_path: Path) -> None:
    from patron.sales.models import Order

    path = tmp_path / "grocery.csv"
    path.write_text(GROCERY, encoding="utf-8")
    from typer.testing import CliRunner

    from patron.cli import app

    asked = CliRunner().invoke(app, ["import", "transactions", str(path)])
    assert asked.exit_code == 1
    assert "--map amount=COLUMN" in asked.output and "SALES_PRICE = 2.99" in asked.output
    assert Order.objects.count() == 0
    code, report = cli("import", "transactions", str(path), "--map", "amount=SALES_PRICE")
    assert code == 0 and report["inserted"] == 4
    assert Order.objects.get(external_id="B2").amount == Decimal("7.50")


def test_day_and_month_are_decided_on_the_whole_column(tmp_path: Path) -> None:
    # given 2,500 rows dated 11/1/2000 (either way) and, further down, 11/30/2000
    rows = ["customer_id,date,amount"] + [f"C{i},11/1/2000,1.00" for i in range(2500)]
    path = tmp_path / "late.csv"
    path.write_text("\n".join([*rows, "C9,11/30/2000,2.00"]) + "\n", encoding="utf-8")
    # when it is read, then the late cell settles it: month first
    source = read_transactions_file(path)
    assert source.date_format == "%m/%d/%Y"
    dates = source.table["order_date"].to_pylist()
    assert dates[0] == dt.date(2000, 11, 1) and dates[-1] == dt.date(2000, 11, 30)
    # and a column that reads both ways to its end is still asked about
    both = tmp_path / "both.csv"
    both.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(IngestError) as asked:
        read_transactions_file(both)
    assert asked.value.code is IngestErrorCode.AMBIGUOUS_DATE_FORMAT


def test_float_noise_in_parquet_doubles_is_the_cent(tmp_path: Path) -> None:
    # given Parquet doubles with float noise (zero, 19.99, 0.3 as computed) and a plain one
    noisy = [1.776357e-15, 19.990000000000002, 0.1 + 0.2, 5.0, -2.0000000000000004]
    path = tmp_path / "noisy.parquet"
    pq.write_table(
        pa.table(
            {
                "customer_id": ["C1", "C2", "C3", "C4", "C5"],
                "date": ["2024-01-02"] * 5,
                "amount": pa.array(noisy, pa.float64()),
            }
        ),
        path,
    )
    # when it is analysed (set-based for the plain rows, the text path for the rest)
    source = read_transactions_file(path)
    # then every row is in, each amount the cent it is within a millionth of
    assert source.rejected == 0
    cents = dict(
        zip(
            source.table["customer_id"].to_pylist(),
            source.table["amount_cents"].to_pylist(),
            strict=True,
        )
    )
    assert cents == {"C1": 0, "C2": 1999, "C3": 30, "C4": 500, "C5": -200}


def test_a_preset_is_named_only_when_most_of_its_columns_are_there(tmp_path: Path) -> None:
    # given a generic file that shares one column with the WooCommerce export, no customer
    path = tmp_path / "orders.csv"
    path.write_text("order_total,date\n10.00,2024-01-02\n", encoding="utf-8")
    with pytest.raises(IngestError) as missing:
        import_plan(path, kind=EntityKind.TRANSACTIONS, options=ImportOptions())
    # then the message names no export
    assert "WooCommerce" not in missing.value.message
    assert "closest" not in missing.value.extra
    # and a file with most of its columns (but no e-mail, phone or order id) still names it
    many = tmp_path / "woo.csv"
    many.write_text(
        "order_number,order_total,refunded_total,order_currency,shipping_total,"
        "billing_first_name,billing_last_name,billing_company,billing_city\n"
        "1,10.00,0,USD,0,A,B,C,D\n",
        encoding="utf-8",
    )
    try:
        import_plan(many, kind=EntityKind.TRANSACTIONS, options=ImportOptions(preset="generic"))
    except IngestError as error:
        assert error.extra.get("closest") == "woocommerce_orders"
    else:
        pytest.fail("a file without a date column was planned")
