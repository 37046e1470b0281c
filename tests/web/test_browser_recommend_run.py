"""In a real browser (Debian's Chromium), at phone width and in Chinese: marketing presses
"Compute recommendations", follows the background job to its outcome, and finds the run
listed (jobs run at once in tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from patron.demo.recommend import AS_OF, tea_shop_create
from patron.recommend.models import RecommendationRun, RunStatus

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PASSWORD = "Patron-Test-Pass-2024"


def test_compute_button_runs_a_job_at_phone_width_in_chinese(
    make_user: Any, live_server: Any, page: Any, screenshot_dir: Path
) -> None:
    from playwright.sync_api import expect

    tea_shop_create()
    make_user("mia", "marketing", password=PASSWORD)
    page.set_viewport_size({"width": 390, "height": 844})
    page.set_extra_http_headers({"Accept-Language": "zh-hans"})
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "mia")
    page.fill("#id_password", PASSWORD)
    page.click("button.primary")

    page.goto(f"{live_server.url}/recommendations/runs/")
    expect(page.locator("h1")).to_have_text("推荐计算记录")
    button = page.locator("#run-start")
    expect(button).to_have_text("计算推荐")
    expect(button).to_be_in_viewport()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide at a 390 px viewport"
    page.fill("#id_as_of", AS_OF.isoformat())
    page.fill("#id_per_list", "5")
    page.screenshot(path=str(screenshot_dir / "recommend-run-1-zh-phone.png"), full_page=True)
    button.click()

    expect(page.locator("#outcome")).to_contain_text("截至 2024-07-01 的推荐已保存")
    page.screenshot(path=str(screenshot_dir / "recommend-run-2-done.png"), full_page=True)
    page.locator("a.button.primary").click()
    expect(page.locator("#recommend-runs tbody tr").first).to_contain_text("2024-07-01")
    run = RecommendationRun.objects.get()
    assert run.status == RunStatus.COMPLETED and run.per_list == 5
