"""Import in the browser, page by page (Django's test client, a real SQLite or PostgreSQL
database, real files): upload, see the detected preset and mapping, correct it, see the row
errors of the check, import all-or-nothing or skipping bad rows, download the rejects."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Sum
from django.test import Client
from django.urls import reverse

from patron.customers.models import Customer
from patron.jobs.imports import upload_path
from patron.jobs.models import Job, JobKind, JobStatus, Upload
from patron.sales.models import Order

pytestmark = pytest.mark.django_db

GBK_ROWS = [
    ("C001", "2024-01-05", "128.50", "上海店"),
    ("C002", "2024-01-06", "66.00", "北京店"),
    ("C001", "2024-02-10", "230.00", "上海店"),
    ("C003", "2024-02-11", "15.90", "广州店"),
    ("C002", "2024-03-01", "99.10", "北京店"),
]
# By hand: C001 128.50 + 230.00; C002 66.00 + 99.10; C003 15.90.
GBK_TOTALS = {"C001": Decimal("358.50"), "C002": Decimal("165.10"), "C003": Decimal("15.90")}

BAD_ROWS_CSV = (
    "customer_id,date,amount\n"
    "C1,2024-01-05,10.00\n"  # line 2
    "C2,2024-01-06,abc\n"  # line 3: not an amount
    "C3,2024-01-07,5.50\n"  # line 4
    "C4,2024-02-30,7.00\n"  # line 5: no such day
    "C5,2024-01-09,3.25\n"  # line 6
)


def gbk_file() -> SimpleUploadedFile:
    text = "会员卡号,交易日期,实付金额,门店\n" + "".join(",".join(r) + "\n" for r in GBK_ROWS)
    return SimpleUploadedFile("交易记录.csv", text.encode("gbk"), content_type="text/csv")


@pytest.fixture(autouse=True)
def upload_dir(settings: Any, tmp_path: Path) -> Path:
    settings.PATRON_UPLOAD_DIR = tmp_path / "uploads"
    return settings.PATRON_UPLOAD_DIR


@pytest.fixture
def client_for(make_user: Any) -> Any:
    def make(username: str, role: str) -> Client:
        client = Client()
        client.force_login(make_user(username, role))
        return client

    return make


@pytest.fixture
def alice(client_for: Any) -> Client:
    return client_for("alice", "marketing")


@pytest.fixture
def post(django_capture_on_commit_callbacks: Any) -> Any:
    """POST and run what it queued (jobs run immediately in the tests, once committed)."""

    def send(client: Client, url: str, data: dict[str, Any]) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data)

    return send


def upload(client: Client, file: SimpleUploadedFile, kind: str = "transactions") -> Upload:
    response = client.post(reverse("web:import_start"), {"kind": kind, "file": file})
    assert response.status_code == 302, response.content.decode()[:2000]
    return Upload.objects.get(pk=response["Location"].rstrip("/").rsplit("/", 1)[1])


def mapping_data(response: Any, **changes: str) -> dict[str, str]:
    """The mapping form as the page offers it (each select's chosen value), with changes by
    column name, the way a person would submit it."""
    form = response.context["form"]
    data = {}
    for i, (column, field) in enumerate(form.column_fields()):
        data[f"col_{i}"] = changes.get(column, field.value() or "")
    return data


def review(client: Client, item: Upload) -> Any:
    response = client.get(reverse("web:import_review", args=[item.pk]))
    assert response.status_code == 200
    return response


def test_gbk_chinese_headers_upload_check_confirm(alice: Client, post: Any) -> None:
    # given a GBK file with Chinese headers, uploaded
    item = upload(alice, gbk_file())
    assert upload_path(item).is_file() and upload_path(item).suffix == ".csv"
    assert item.original_name == "交易记录.csv" and item.uploaded_by.username == "alice"

    # when the review page opens, it shows the encoding, the detected mapping and the rows
    page = review(alice, item)
    html = page.content.decode()
    assert "gb18030" in html.lower() and "No platform export recognised" in html
    chosen = {column: field.value() for column, field in page.context["form"].column_fields()}
    assert chosen == {
        "会员卡号": "customer_id",
        "交易日期": "ordered_at",
        "实付金额": "amount",
        "门店": "store",
    }
    assert "上海店" in html and "128.50" in html  # examples and first rows

    # and the rows are checked with that mapping
    response = post(alice, reverse("web:import_check", args=[item.pk]), mapping_data(page))
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.check_job.kind == JobKind.IMPORT_CHECK
    assert item.check_job.status == JobStatus.DONE, item.check_job.error
    page = review(alice, item)
    assert page.context["result"]["read"] == 5 and page.context["result"]["rejected"] == 0
    assert "Every row is valid." in page.content.decode()
    assert Order.objects.count() == 0  # the check wrote nothing

    # then confirming imports every row, as a background job with its counts
    response = post(alice, reverse("web:import_confirm", args=[item.pk]), {"mode": "all"})
    assert response.status_code == 302
    job = Job.objects.get(pk=response["Location"].rstrip("/").rsplit("/", 1)[1])
    assert job.kind == JobKind.IMPORT and job.status == JobStatus.DONE, job.error
    page = alice.get(response["Location"])
    counts = {key: value for key, _label, value in page.context["counts"]}
    assert counts["inserted"] == 5 and counts["rejected"] == 0 and counts["customers_created"] == 3
    assert 'id="count-inserted"' in page.content.decode()
    totals = dict(Order.objects.values_list("customer__external_id").annotate(total=Sum("amount")))
    assert totals == GBK_TOTALS
    assert set(Order.objects.values_list("store", flat=True)) == {"上海店", "北京店", "广州店"}
    # and the same file cannot be imported twice from this upload
    again = post(alice, reverse("web:import_confirm", args=[item.pk]), {"mode": "all"})
    assert again.status_code == 400 and Order.objects.count() == 5


def test_bad_rows_are_named_by_line_and_all_or_nothing_imports_nothing(
    alice: Client, post: Any
) -> None:
    item = upload(alice, SimpleUploadedFile("orders.csv", BAD_ROWS_CSV.encode()))
    page = review(alice, item)
    post(alice, reverse("web:import_check", args=[item.pk]), mapping_data(page))

    # the check names each bad row: line, column, value and what was expected
    page = review(alice, item)
    errors = {e["line"]: e for e in page.context["errors"]}
    assert sorted(errors) == [3, 5]
    assert errors[3]["column"] == "amount" and errors[3]["value"] == "abc"
    assert errors[5]["column"] == "date" and errors[5]["value"] == "2024-02-30"
    assert errors[3]["message"].startswith("expected an amount")
    assert errors[5]["message"].startswith("no such day in the calendar")
    html = page.content.decode()
    assert 'id="row-errors"' in html and '<td class="num">3</td>' in html
    assert '<td class="num">5</td>' in html

    # all or nothing: refused, nothing imported, no import job
    response = post(alice, reverse("web:import_confirm", args=[item.pk]), {"mode": "all"})
    assert response.status_code == 400
    assert "2 rows have errors" in response.content.decode()
    item.refresh_from_db()
    assert item.import_job is None and Order.objects.count() == 0

    # the rejected rows can be downloaded, as they were in the file, with the reason
    rejects = alice.get(reverse("web:import_rejects", args=[item.pk]))
    assert rejects.status_code == 200 and rejects["Content-Disposition"].startswith("attachment")
    rows = list(csv.reader(io.StringIO(b"".join(rejects.streaming_content).decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == ["3", "5"]
    assert rows[1][3:] == ["C2", "2024-01-06", "abc"]

    # skipping bad rows imports the three good ones
    response = post(alice, reverse("web:import_confirm", args=[item.pk]), {"mode": "skip_bad"})
    job = Job.objects.get(pk=response["Location"].rstrip("/").rsplit("/", 1)[1])
    assert job.status == JobStatus.DONE and job.result["committed"]
    assert (job.result["inserted"], job.result["rejected"]) == (3, 2)
    assert sorted(Order.objects.values_list("customer__external_id", flat=True)) == [
        "C1",
        "C3",
        "C5",
    ]
    assert Order.objects.aggregate(total=Sum("amount"))["total"] == Decimal("18.75")


def test_a_mapping_is_corrected_and_a_column_left_out(alice: Client, post: Any) -> None:
    text = "member,when,paid,store\nM1,2024-05-01,12.00,A店\nM2,2024-05-02,8.00,B店\n"
    item = upload(alice, SimpleUploadedFile("export.csv", text.encode()))
    page = review(alice, item)
    # "paid" and "store" are recognised; the customer and the date are not
    assert page.context["missing"] == ["Customer id", "Order date and time"]
    assert 'id="missing"' in page.content.decode()

    # a field chosen twice is refused, naming it and the columns
    twice = mapping_data(page, member="customer_id", when="customer_id")
    response = post(alice, reverse("web:import_check", args=[item.pk]), twice)
    assert response.status_code == 400
    assert "Customer id is chosen for more than one column: member, when." in (
        response.content.decode()
    )
    # a required field left without a column is refused, naming it
    response = post(alice, reverse("web:import_check", args=[item.pk]), mapping_data(page))
    assert response.status_code == 400
    assert "Choose a column for every required field: Customer id, Order date and time." in (
        response.content.decode()
    )
    item.refresh_from_db()
    assert item.check_job is None

    # corrected, with the store column left out on purpose
    fixed = mapping_data(page, member="customer_id", when="ordered_at", store="")
    post(alice, reverse("web:import_check", args=[item.pk]), fixed)
    item.refresh_from_db()
    assert item.mapping == {"customer_id": "member", "ordered_at": "when", "amount": "paid"}
    assert item.check_job.result["rejected"] == 0
    post(alice, reverse("web:import_confirm", args=[item.pk]), {"mode": "all"})
    assert sorted(Order.objects.values_list("customer__external_id", "amount", "store")) == [
        ("M1", Decimal("12.00"), ""),
        ("M2", Decimal("8.00"), ""),
    ]


def test_customers_file(alice: Client, post: Any) -> None:
    text = "客户编号,姓名,城市\nK1,张三,深圳市\nK2,李四,杭州市\n"
    item = upload(alice, SimpleUploadedFile("客户.csv", text.encode()), kind="customers")
    page = review(alice, item)
    assert page.context["missing"] == []
    post(alice, reverse("web:import_check", args=[item.pk]), mapping_data(page))
    response = post(alice, reverse("web:import_confirm", args=[item.pk]), {"mode": "all"})
    job = Job.objects.get(pk=response["Location"].rstrip("/").rsplit("/", 1)[1])
    assert job.status == JobStatus.DONE and job.result["inserted"] == 2
    assert dict(Customer.objects.values_list("external_id", "city")) == {
        "K1": "深圳市",
        "K2": "杭州市",
    }


def test_uploads_that_are_refused(alice: Client, settings: Any) -> None:
    response = alice.post(
        reverse("web:import_start"),
        {"kind": "transactions", "file": SimpleUploadedFile("notes.pdf", b"%PDF-1.4")},
    )
    assert response.status_code == 400 and "notes.pdf: Patron reads" in response.content.decode()
    settings.PATRON_UPLOAD_MAX_MB = 0
    response = alice.post(reverse("web:import_start"), {"kind": "transactions", "file": gbk_file()})
    assert response.status_code == 400 and "larger than the limit of 0 MB" in (
        response.content.decode()
    )
    settings.PATRON_UPLOAD_MAX_MB = 5
    empty = SimpleUploadedFile("empty.csv", b"")
    response = alice.post(reverse("web:import_start"), {"kind": "transactions", "file": empty})
    assert response.status_code == 400
    assert Upload.objects.count() == 0
    assert not any(Path(settings.PATRON_UPLOAD_DIR).glob("*/*"))  # nothing left behind


def test_who_may_import_and_see_an_upload(alice: Client, client_for: Any, post: Any) -> None:
    item = upload(alice, gbk_file())
    page = review(alice, item)
    post(alice, reverse("web:import_check", args=[item.pk]), mapping_data(page))
    check = Upload.objects.get(pk=item.pk).check_job
    for role in ("analyst", "service"):
        other = client_for(f"user-{role}", role)
        assert other.get(reverse("web:import_start")).status_code == 403
        assert other.post(reverse("web:import_start"), {}).status_code == 403
        assert other.get(reverse("web:import_review", args=[item.pk])).status_code == 403
        assert other.post(reverse("web:import_confirm", args=[item.pk]), {}).status_code == 403
        assert "web/imports" not in other.get(reverse("web:home")).content.decode()
    bob = client_for("bob", "marketing")  # may import, but not look at Alice's file
    assert bob.get(reverse("web:import_start")).status_code == 200
    assert bob.get(reverse("web:import_review", args=[item.pk])).status_code == 404
    assert bob.get(reverse("web:import_rejects", args=[item.pk])).status_code == 404
    assert bob.get(reverse("web:job_detail", args=[check.pk])).status_code == 404
    assert bob.get(reverse("web:job_status", args=[check.pk])).status_code == 404
    root = client_for("root", "admin")
    assert root.get(reverse("web:import_review", args=[item.pk])).status_code == 200
    # the navigation offers Import to those who may import
    assert reverse("web:import_start") in alice.get(reverse("web:home")).content.decode()
    service = client_for("sam", "service")
    assert reverse("web:import_start") not in service.get(reverse("web:home")).content.decode()


def test_job_status_json_reports_live_progress(alice: Client, django_user_model: Any) -> None:
    from patron.jobs.progress import JobProgress

    owner = django_user_model.objects.get(username="alice")
    job = Job.objects.create(kind=JobKind.IMPORT, status=JobStatus.RUNNING, created_by=owner)
    JobProgress(job_id=job.pk).update(250, total=1000, message="Importing the rows")
    data = alice.get(reverse("web:job_status", args=[job.pk])).json()
    assert data["status"] == "running" and not data["finished"]
    assert (data["done"], data["total"], data["percent"]) == (250, 1000, 25)
    assert data["message"] == "Importing the rows" and data["detail"] == "250 of 1,000"
    assert data["url"] is None
    # in Chinese
    alice.cookies["django_language"] = "zh-hans"
    data = alice.get(reverse("web:job_status", args=[job.pk])).json()
    assert data["message"] == "正在导入数据行" and data["status_label"] == "运行中"
    # the page without JavaScript reloads itself while the job runs
    page = alice.get(reverse("web:job_detail", args=[job.pk])).content.decode()
    assert '<noscript><meta http-equiv="refresh"' in page and 'value="25"' in page
    Job.objects.filter(pk=job.pk).update(status=JobStatus.DONE)
    page = alice.get(reverse("web:job_detail", args=[job.pk])).content.decode()
    assert "http-equiv" not in page


def youzan_cut() -> SimpleUploadedFile:
    """Four of a Youzan order export's columns: too few for it to be recognised."""
    text = (
        "订单号,订单状态,订单实付金额,订单创建时间\n"
        "E001,交易成功,88.00,2024-03-01 10:00:00\n"
        "E002,待付款,12.00,2024-03-02 11:00:00\n"
        "E003,交易成功,20.50,2024-03-03 12:00:00\n"
    )
    return SimpleUploadedFile("orders.csv", text.encode("utf-8"), content_type="text/csv")


def test_an_export_format_is_chosen_when_it_is_not_recognised(alice: Client, post: Any) -> None:
    # given a cut-down Youzan export: recognised automatically, it names no customer column
    item = upload(alice, youzan_cut())
    assert item.preview["preset"] == "generic" and "customer_id" in item.preview["missing"]

    # when the same file is uploaded with the Youzan format chosen
    response = alice.post(
        reverse("web:import_start"),
        {"kind": "transactions", "file": youzan_cut(), "preset": "youzan_orders"},
    )
    assert response.status_code == 302
    item = Upload.objects.latest("pk")

    # then the review shows the format and its mapping, and the rows check and import
    page = review(alice, item)
    assert item.preview["preset"] == "youzan_orders" and item.preview["missing"] == []
    assert "Youzan order export" in page.content.decode()
    post(alice, reverse("web:import_check", args=[item.pk]), mapping_data(page))
    item.refresh_from_db()
    assert item.check_job.status == JobStatus.DONE, item.check_job.error
    assert item.check_job.result["rejected"] == 0
    post(alice, reverse("web:import_confirm", args=[item.pk]), {"mode": "all"})
    statuses = dict(Order.objects.values_list("external_id", "status"))
    assert statuses == {"E001": "completed", "E002": "unpaid", "E003": "completed"}


def test_a_format_of_another_kind_is_refused(alice: Client) -> None:
    response = alice.post(
        reverse("web:import_start"),
        {"kind": "transactions", "file": youzan_cut(), "preset": "youzan_customers"},
    )
    assert response.status_code == 400
    assert "Youzan customer export holds Customers" in response.content.decode()
    assert not Upload.objects.exists()


def test_a_header_only_file_says_it_has_no_rows(alice: Client) -> None:
    # given a file with a header and nothing under it
    only_header = SimpleUploadedFile("orders.csv", b"customer_id,order_date,amount\n")
    # when it is uploaded and reviewed, in Chinese
    item = upload(alice, only_header)
    page = alice.get(
        reverse("web:import_review", args=[item.pk]), headers={"accept-language": "zh-hans"}
    ).content.decode()
    # then the page says there is nothing to import, not "the first 0 rows"
    assert 'id="no-rows"' in page and "没有数据行" in page and 'id="sample"' not in page


def test_an_undecodable_file_points_to_the_encoding_box(alice: Client) -> None:
    # given a GBK file uploaded as UTF-8: its Chinese bytes are not valid UTF-8
    response = alice.post(
        reverse("web:import_start"),
        {"kind": "transactions", "file": gbk_file(), "encoding": "utf-8"},
        headers={"accept-language": "zh-hans"},
    )
    # then the page says to choose the encoding, which is a box on this page
    page = response.content.decode()
    assert response.status_code == 400, page[:2000]
    assert "请选择文件的文字编码" in page
