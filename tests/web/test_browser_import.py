"""In a real browser (Debian's Chromium through Playwright): upload a CSV, correct one column of
the mapping, check the rows, import, and see the counts; and a job's progress bar moving and
the page turning to the outcome when the job ends. Screenshots go to test-artifacts/."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db.models import Sum

from patron.jobs.models import Job, JobKind, JobStatus
from patron.jobs.progress import JobProgress
from patron.sales.models import Order

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PASSWORD = "Patron-Test-Pass-2024"
ORDERS = (
    "member,date,amount\n"
    "M1,2024-05-01,12.00\n"
    "M2,2024-05-02,8.50\n"
    "M1,2024-05-09,20.00\n"
    "M3,2024-05-10,3.25\n"
)  # by hand: 4 orders, 3 customers, 43.75 in all


@pytest.fixture(autouse=True)
def upload_dir(settings: Any, tmp_path: Path) -> None:
    settings.PATRON_UPLOAD_DIR = tmp_path / "uploads"


def _sign_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button.primary")


def test_import_a_csv_in_the_browser(
    make_user: Any, live_server: Any, page: Any, screenshot_dir: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    make_user("mia", "marketing", password=PASSWORD)
    source = tmp_path / "orders.csv"
    source.write_text(ORDERS, encoding="utf-8")
    base = live_server.url
    page.set_extra_http_headers({"Accept-Language": "en"})

    def shot(name: str) -> None:
        page.screenshot(path=str(screenshot_dir / f"import-{name}.png"), full_page=True)

    # upload, from the navigation
    _sign_in(page, base, "mia")
    page.click("nav.sections >> text=Import")
    expect(page.locator("h1")).to_have_text("Import")
    page.set_input_files("input[name=file]", str(source))
    shot("1-upload")
    page.click("#upload-form button[type=submit]")

    # the detected mapping: "member" is not recognised, date and amount are
    expect(page.locator("#missing")).to_contain_text("Customer id")
    expect(page.get_by_label("date", exact=True)).to_have_value("ordered_at")
    expect(page.get_by_label("amount", exact=True)).to_have_value("amount")
    shot("2-mapping-detected")

    # correct one column, check the rows
    page.get_by_label("member", exact=True).select_option("customer_id")
    page.click("#check-button")
    expect(page.locator("#all-valid")).to_be_visible()
    expect(page.locator("#check-read .value")).to_have_text("4")
    shot("3-rows-checked")

    # confirm: the import runs as a job and its page shows the counts
    page.click("#import-button")
    expect(page.locator("#outcome")).to_have_text("Imported")
    expect(page.locator("#count-inserted .value")).to_have_text("4")
    expect(page.locator("#count-rejected .value")).to_have_text("0")
    expect(page.locator("#count-customers_created .value")).to_have_text("3")
    shot("4-imported")
    # and in Chinese
    page.select_option("select[name=language]", "zh-hans")
    expect(page.locator("#outcome")).to_have_text("已导入")
    expect(page.locator("#count-inserted .label")).to_have_text("新增")
    shot("5-imported-zh")
    assert Order.objects.count() == 4
    assert Order.objects.aggregate(total=Sum("amount"))["total"] == Decimal("43.75")


def test_progress_bar_follows_the_job_then_shows_the_outcome(
    make_user: Any, live_server: Any, page: Any, screenshot_dir: Path
) -> None:
    from playwright.sync_api import expect

    ann = make_user("ann", "analyst", password=PASSWORD)
    job = Job.objects.create(kind=JobKind.ANALYSIS, created_by=ann)
    page.set_extra_http_headers({"Accept-Language": "en"})
    _sign_in(page, live_server.url, "ann")

    # queued: waiting for the worker
    page.goto(f"{live_server.url}/jobs/{job.pk}/")
    expect(page.locator(".job-status")).to_have_text("Queued")
    expect(page.locator(".when-queued")).to_be_visible()

    # the worker takes it and reports progress: the page follows without a reload
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING)
    progress = JobProgress(job_id=job.pk)
    progress.update(2, total=5, message="Scoring customers")
    bar = page.locator(".job-progress progress")
    expect(bar).to_have_attribute("value", "40")
    expect(page.locator(".job-status")).to_have_text("Running")
    expect(page.locator(".when-queued")).to_be_hidden()
    expect(page.locator(".when-running")).to_be_visible()
    expect(page.locator(".job-detail")).to_have_text("2 of 5")
    page.screenshot(path=str(screenshot_dir / "job-1-running.png"), full_page=True)

    # and moves on
    progress.update(4, message="Storing scores")
    expect(bar).to_have_attribute("value", "80")
    expect(page.locator(".job-message")).to_have_text("Storing scores")

    # the job ends: the page turns to its outcome
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.DONE,
        result={"run_id": 1, "as_of": "2024-04-01", "customers": 3},
        progress_done=5,
        progress_total=5,
    )
    expect(page.locator("#outcome")).to_contain_text("as of 2024-04-01 stored")
    expect(page.locator("a.button.primary")).to_have_text("Open the dashboard")
    page.screenshot(path=str(screenshot_dir / "job-2-done.png"), full_page=True)
