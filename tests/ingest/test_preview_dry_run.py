"""What the browser import builds on: the preview (preset, mapping, first rows), the dry run
(the check) and a complete mapping, all through the importer's one code path."""

from __future__ import annotations

from pathlib import Path

import pytest

from patron.customers.models import Customer
from patron.ingest.importer import ImportOptions, import_file
from patron.ingest.mapping import EntityKind
from patron.ingest.preview import file_preview
from patron.sales.models import Order

pytestmark = pytest.mark.django_db

BAD = (
    "customer_id,date,amount,store\n"
    "C1,2024-01-05,10.00,A\n"
    "C2,2024-01-06,abc,A\n"  # line 3
    "C3,2024-01-07,5.50,B\n"
    "C4,2024-02-30,7.00,B\n"  # line 5
)
# A Taobao order export (the preset's own columns; GBK; ="..." order numbers; one refund).
TAOBAO = (
    "订单编号,买家会员名,买家支付宝账号,买家应付货款,总金额,买家实际支付金额,订单状态,"
    "订单创建时间,订单付款时间 ,宝贝标题 ,宝贝总数量,退款金额,店铺名称\n"
    '="1001",tb_alice,a@x.cn,100.00,100.00,100.00,交易成功,2024-03-01 10:00:00,'
    "2024-03-01 10:01:00,连衣裙,1,无退款申请,小店\n"
    '="1002",tb_alice,a@x.cn,327.70,327.70,148.90,交易成功,2024-03-02 11:00:00,'
    "2024-03-02 11:05:00,外套,2,178.80,小店\n"
    '="1004",tb_bob,b@x.cn,50.00,50.00,0.00,交易关闭,2024-03-04 09:00:00,,帽子,1,0,小店\n'
)


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def orders() -> list[tuple[str, str, str, str]]:
    rows = Order.objects.values_list("customer__external_id", "external_id", "amount", "status")
    return sorted((c, o, str(a), s) for c, o, a, s in rows)


def test_preview_shows_columns_first_rows_and_the_detected_mapping(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.csv", BAD)
    preview = file_preview(path, kind=EntityKind.TRANSACTIONS, rows=3)
    assert preview.columns == ["customer_id", "date", "amount", "store"]
    assert preview.sample == [
        [2, "C1", "2024-01-05", "10.00", "A"],
        [3, "C2", "2024-01-06", "abc", "A"],
        [4, "C3", "2024-01-07", "5.50", "B"],
    ]
    assert preview.mapping == {
        "customer_id": "customer_id",
        "ordered_at": "date",
        "amount": "amount",
        "store": "store",
    }
    assert preview.missing == [] and preview.preset == "generic"
    unknown = file_preview(write(tmp_path, "u.csv", "who,when,paid\nA,2024-01-01,1\n"),
                           kind=EntityKind.TRANSACTIONS)  # fmt: skip
    assert unknown.mapping == {"amount": "paid"}
    assert unknown.missing == ["customer_id", "ordered_at"]


def test_dry_run_reports_what_the_import_would_and_writes_nothing(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.csv", BAD)
    rejects = tmp_path / "check-rejects.csv"
    check = import_file(
        path,
        kind=EntityKind.TRANSACTIONS,
        options=ImportOptions(dry_run=True, rejects=rejects),
    )
    assert not check.committed and Order.objects.count() == 0 == Customer.objects.count()
    assert (check.read, check.rejected) == (4, 2)
    assert [(e.line, e.column) for e in check.errors] == [(3, "amount"), (5, "date")]
    assert rejects.read_text(encoding="utf-8-sig").count("\n") == 3  # header and two rows
    # the import proper reports the same rows, and skipping them imports the rest
    real = import_file(path, kind=EntityKind.TRANSACTIONS, options=ImportOptions(skip_bad=True))
    assert [e.as_dict() for e in real.errors] == [e.as_dict() for e in check.errors]
    assert real.committed and real.inserted == check.read - check.rejected == 2


def test_complete_mapping_leaves_out_what_it_does_not_name(tmp_path: Path) -> None:
    path = write(tmp_path, "good.csv", "customer_id,date,amount,store\nC1,2024-01-05,10,A\n")
    mapping = {"customer_id": "customer_id", "ordered_at": "date", "amount": "amount"}
    report = import_file(
        path,
        kind=EntityKind.TRANSACTIONS,
        options=ImportOptions(mapping=mapping, mapping_complete=True),
    )
    assert report.columns == mapping
    assert list(Order.objects.values_list("store", flat=True)) == [""]
    # without it the store column is found by its name, as before
    report = import_file(path, kind=EntityKind.TRANSACTIONS, options=ImportOptions(mapping=mapping))
    assert report.columns["store"] == "store"


def test_a_preset_export_imports_the_same_through_the_browser_path(tmp_path: Path) -> None:
    path = write(tmp_path, "ExportOrderList.csv", TAOBAO, encoding="gbk")
    # the command line's way
    cli = import_file(path, kind=EntityKind.TRANSACTIONS)
    assert cli.committed and cli.preset != "generic"
    expected = orders()
    Order.objects.all().delete()
    Customer.objects.all().delete()
    # the browser's way: preview, then the previewed mapping, complete, with its preset
    preview = file_preview(path, kind=EntityKind.TRANSACTIONS)
    assert preview.preset == cli.preset and preview.preset_label == cli.preset_label
    assert preview.mapping == cli.columns
    options = ImportOptions(mapping=preview.mapping, mapping_complete=True, preset=preview.preset)
    check = import_file(path, kind=EntityKind.TRANSACTIONS, options=ImportOptions(
        mapping=preview.mapping, mapping_complete=True, preset=preview.preset, dry_run=True
    ))  # fmt: skip
    assert check.rejected == cli.rejected and Order.objects.count() == 0
    web = import_file(path, kind=EntityKind.TRANSACTIONS, options=options)
    assert web.committed and (web.inserted, web.rejected) == (cli.inserted, cli.rejected)
    assert orders() == expected
