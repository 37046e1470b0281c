"""In a real browser (Debian's Chromium through Playwright): the service role opens the churn
warning list, takes a warning and records a call with a follow-up date. Screenshots go to
test-artifacts/."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from patron.customers.models import Customer
from patron.insights.models import AnalysisRun, CustomerScore, RunStatus
from patron.retention.models import ChurnWarning, WarningStatus
from patron.retention.services import warning_list_refresh

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PASSWORD = "Patron-Test-Pass-2024"


@pytest.fixture
def at_risk(make_user: Any) -> None:
    make_user("sam", "service", password=PASSWORD)
    run = AnalysisRun.objects.create(
        as_of=dt.date(2024, 6, 30), code_version="test", status=RunStatus.COMPLETED
    )
    for external_id, name, level, score in (
        ("C1", "张三", "high", 0.92),
        ("C2", "李四", "medium", 0.5),
    ):
        CustomerScore.objects.create(
            run=run,
            customer=Customer.objects.create(external_id=external_id, name=name),
            recency_days=120,
            frequency=6,
            monetary=Decimal("800.00"),
            r_score=1,
            f_score=4,
            m_score=4,
            segment="cant_lose",
            value_tier="high",
            revenue=Decimal("800.00"),
            cost_to_serve=Decimal("0"),
            p_alive=0.15,
            clv=Decimal("260.00"),
            risk_level=level,
            risk_score=score,
            risk_reasons_en="no purchase for 120 days, 4.0× the usual 30-day gap",
            risk_reasons_zh="已120天未购买，是其平时间隔（30天）的4.0倍",
        )
    warning_list_refresh()


def test_service_takes_a_warning_and_records_a_call(
    at_risk: None, live_server: Any, page: Any, screenshot_dir: Path
) -> None:
    from playwright.sync_api import expect

    base = live_server.url
    page.set_extra_http_headers({"Accept-Language": "en"})

    def shot(name: str) -> None:
        page.screenshot(path=str(screenshot_dir / f"warnings-{name}.png"), full_page=True)

    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", "sam")
    page.fill("#id_password", PASSWORD)
    page.click("button.primary")

    # the list, from the navigation
    page.click("nav.sections >> text=Churn warnings")
    expect(page.locator("h1")).to_have_text("Churn warnings")
    rows = page.locator("table#warnings tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("张三")
    expect(rows.first).to_contain_text("no purchase for 120 days")
    shot("1-list")

    # take the first warning
    rows.first.locator("button.assign-me").click()
    expect(page.locator(".messages")).to_contain_text("now owned by sam")
    expect(page.locator("table#warnings tbody tr").first.locator("td.owner")).to_have_text("sam")
    shot("2-taken")

    # open it and record a call with a follow-up date
    page.locator("table#warnings tbody tr").first.locator("a.button", has_text="Details").click()
    follow_up = timezone.localdate() + dt.timedelta(days=5)
    page.select_option("select[name=response]", "called")
    page.fill("input[name=follow_up_on]", follow_up.isoformat())
    page.fill("textarea[name=note]", "答应周末来店")
    page.click("form.respond-form button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("Response recorded.")
    expect(page.locator("#status")).to_have_text("In progress")
    expect(page.locator("#follow-up")).to_have_text(follow_up.isoformat())
    expect(page.locator("#notes")).to_contain_text("sam: 答应周末来店")
    shot("3-recorded")

    warning = ChurnWarning.objects.get(customer__external_id="C1")
    assert warning.owner is not None and warning.owner.username == "sam"
    assert warning.status == WarningStatus.IN_PROGRESS and warning.response == "called"
    assert warning.follow_up_on == follow_up
