"""Import in the browser, in the language of the person importing: the row errors of the check,
the reasons in the rejects file, the import job's result and error, and the file-level errors
of the upload, all in Simplified Chinese for a Chinese browser and in English otherwise.

The check and the import are background jobs. Here they run after the request, in a thread
where English is active (as in a worker process, where no request ever activated a language),
so a Chinese result can only come from the language the job recorded when it was started."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation

from patron.jobs.imports import upload_path
from patron.jobs.models import Job, JobStatus, Upload
from patron.sales.models import Order

pytestmark = pytest.mark.django_db

ROWS = (
    "customer_id,date,amount\n"
    "C1,2024-01-05,10.00\n"  # line 2
    "C2,2024-01-06,abc\n"  # line 3: not an amount
    ",2024-01-07,5.00\n"  # line 4: no customer id
    "C4,2024-01-08,7.00\n"  # line 5
)
# Written out by hand: line -> (column, value, what was expected)
ERRORS = {
    "zh-hans": {
        3: ("amount", "abc", "应为金额，例如 123.45（可以带 ¥、元 和千位分隔符）"),
        4: ("customer_id", None, "此处必须填写"),
    },
    "en": {
        3: (
            "amount",
            "abc",
            "expected an amount such as 123.45 (¥, 元 and thousands separators are fine)",
        ),
        4: ("customer_id", None, "a value is required here"),
    },
}
CHINESE_BROWSER = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}
ENGLISH_BROWSER = {"Accept-Language": "en-GB,en;q=0.9"}


@pytest.fixture(autouse=True)
def upload_dir(settings: Any, tmp_path: Any) -> Any:
    settings.PATRON_UPLOAD_DIR = tmp_path / "uploads"
    return settings.PATRON_UPLOAD_DIR


@pytest.fixture
def visitor(make_user: Any) -> Any:
    def make(username: str, headers: dict[str, str]) -> Client:
        client = Client(headers=headers)
        client.force_login(make_user(username, "marketing"))
        return client

    return make


@pytest.fixture
def post(django_capture_on_commit_callbacks: Any) -> Any:
    """POST, then run the job it queued (immediate mode) with ``worker_language`` active, as a
    worker would: never in the request's language, which the test client leaves active."""

    def send(client: Client, url: str, data: dict[str, Any], worker_language: str = "en") -> Any:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            response = client.post(url, data)
        with translation.override(worker_language):
            for callback in callbacks:
                callback()
        return response

    return send


def upload(client: Client, name: str, text: str) -> Upload:
    file = SimpleUploadedFile(name, text.encode(), content_type="text/csv")
    response = client.post(reverse("web:import_start"), {"kind": "transactions", "file": file})
    assert response.status_code == 302, response.content.decode()[:2000]
    return Upload.objects.get(pk=response["Location"].rstrip("/").rsplit("/", 1)[1])


def check(client: Client, post: Any, item: Upload, worker_language: str = "en") -> Any:
    page = client.get(reverse("web:import_review", args=[item.pk]))
    data = {
        f"col_{i}": field.value() or ""
        for i, (_c, field) in enumerate(page.context["form"].column_fields())
    }
    response = post(client, reverse("web:import_check", args=[item.pk]), data, worker_language)
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.check_job.status == JobStatus.DONE, item.check_job.error
    return client.get(reverse("web:import_review", args=[item.pk]))


def job_of(response: Any) -> Job:
    return Job.objects.get(pk=response["Location"].rstrip("/").rsplit("/", 1)[1])


def test_a_chinese_browser_gets_the_row_errors_rejects_and_result_in_chinese(
    visitor: Any, post: Any
) -> None:
    # given a Chinese browser uploading a file with a bad amount and a missing customer id
    alice = visitor("alice", CHINESE_BROWSER)
    item = upload(alice, "orders.csv", ROWS)

    # when its rows are checked (by a job running where English is active)
    page = check(alice, post, item)

    # then the job recorded her language, and the check names each bad line in Chinese
    assert item.check_job.params["language"] == "zh-hans"
    errors = {e["line"]: (e["column"], e["value"], e["message"]) for e in page.context["errors"]}
    assert errors == ERRORS["zh-hans"]
    assert [e["code"] for e in page.context["errors"]] == ["row.invalid_value", "row.missing_value"]
    html = page.content.decode()
    assert "有错误的行" in html  # the page itself is Chinese
    for line, (_column, _value, message) in ERRORS["zh-hans"].items():
        assert f'<td class="num">{line}</td>' in html and f"<td>{message}</td>" in html

    # and the rejects file gives the reasons in Chinese, by line, beside the rows as they were
    rejects = alice.get(reverse("web:import_rejects", args=[item.pk]))
    text = b"".join(rejects.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert [(r[0], r[1], r[2]) for r in rows[1:]] == [
        ("3", "amount", ERRORS["zh-hans"][3][2]),
        ("4", "customer_id", ERRORS["zh-hans"][4][2]),
    ]

    # and all-or-nothing is refused in Chinese
    refused = post(alice, reverse("web:import_confirm", args=[item.pk]), {"mode": "all"})
    assert refused.status_code == 400
    assert "有 2 行存在错误" in refused.content.decode()

    # when the good rows are imported, skipping the bad ones
    response = post(alice, reverse("web:import_confirm", args=[item.pk]), {"mode": "skip_bad"})
    job = job_of(response)

    # then the import job ran in her language too: its result names the lines in Chinese
    assert job.params["language"] == "zh-hans"
    assert job.status == JobStatus.DONE and job.result["committed"]
    assert (job.result["inserted"], job.result["rejected"]) == (2, 2)
    assert {e["line"]: e["message"] for e in job.result["errors"]} == {
        line: message for line, (_c, _v, message) in ERRORS["zh-hans"].items()
    }
    assert sorted(Order.objects.values_list("customer__external_id", flat=True)) == ["C1", "C4"]
    detail = alice.get(response["Location"]).content.decode()
    assert "已导入" in detail and "下载被拒绝的行（CSV）" in detail


def test_an_english_browser_gets_english_even_from_a_worker_in_chinese(
    visitor: Any, post: Any
) -> None:
    # given an English browser; its check runs where Chinese happens to be active
    bob = visitor("bob", ENGLISH_BROWSER)
    item = upload(bob, "orders.csv", ROWS)
    page = check(bob, post, item, worker_language="zh-hans")

    # then the messages are in Bob's language, English, as today
    assert item.check_job.params["language"] == "en"
    errors = {e["line"]: (e["column"], e["value"], e["message"]) for e in page.context["errors"]}
    assert errors == ERRORS["en"]


def test_the_error_of_an_import_job_is_in_the_language_of_who_started_it(
    visitor: Any, post: Any
) -> None:
    # given a checked file (no bad rows) whose stored copy is emptied before the import
    alice = visitor("alice", CHINESE_BROWSER)
    item = upload(alice, "orders.csv", "customer_id,date,amount\nC1,2024-01-05,10.00\n")
    check(alice, post, item)
    upload_path(item).write_text("\n", encoding="utf-8")

    # when the import runs
    response = post(alice, reverse("web:import_confirm", args=[item.pk]), {"mode": "all"})

    # then the job failed with the reader's message, in Chinese, and the page shows it
    job = job_of(response)
    assert job.status == JobStatus.FAILED
    assert job.error == "data.csv 没有表头行（文件是空的或全是空行）。"
    assert job.error in alice.get(response["Location"]).content.decode()
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("cookie", "message"),
    [
        # (data.csv: the name the upload is kept under)
        ("zh-hans", "empty.csv：data.csv 没有表头行（文件是空的或全是空行）。"),
        ("en", "empty.csv: data.csv has no header row (the file is empty or blank)."),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_in_the_page_language(
    make_user: Any, cookie: str, message: str
) -> None:
    # given the language chosen with the site's language cookie
    client = Client()
    client.force_login(make_user("carol", "marketing"))
    client.cookies["django_language"] = cookie

    # when an empty file is uploaded
    empty = SimpleUploadedFile("empty.csv", b"\n\n", content_type="text/csv")
    response = client.post(reverse("web:import_start"), {"kind": "transactions", "file": empty})

    # then the upload page refuses it at once, in that language, and keeps nothing
    assert response.status_code == 400
    assert response.context["form"].errors["file"] == [message]
    assert message in response.content.decode()
    assert not Upload.objects.exists()


def test_every_importer_field_has_a_label_in_english_and_chinese() -> None:
    """The column selects of the import page name fields, never show their code names."""
    from patron.ingest.mapping import FIELDS
    from patron.jobs.fields import FIELD_LABELS, field_label

    names = {field.name for fields in FIELDS.values() for field in fields}
    assert names - set(FIELD_LABELS) == set()
    with translation.override("en"):
        english = {name: field_label(name) for name in names}
    with translation.override("zh-hans"):
        untranslated = {name for name in names if field_label(name) == english[name]}
    assert untranslated == set()
