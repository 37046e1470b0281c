"""In a real browser: from the dashboard's trends to a tier's diagnosis, read in Chinese."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from patron.demo.loader import demo_load

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PASSWORD = "Patron-Test-Pass-2024"


def test_segment_diagnosis_in_a_browser(
    make_user: Any, live_server: Any, page: Any, screenshot_dir: Path
) -> None:
    from playwright.sync_api import expect

    demo_load(customers=300, seed=5)
    make_user("ana", "analyst", password=PASSWORD)
    base = live_server.url
    page.set_extra_http_headers({"Accept-Language": "en"})
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", "ana")
    page.fill("#id_password", PASSWORD)
    page.click("button.primary")

    # the dashboard draws the KPI trends and the cohort heatmap
    expect(page.locator("#trends svg")).to_have_count(3)
    expect(page.locator("#cohorts svg rect").first).to_be_visible()
    page.locator("#trends").screenshot(path=str(screenshot_dir / "segments-1-trends.png"))

    # the segment page lists the tiers; the very-low tier's diagnosis explains it
    page.click("nav.sections >> text=Segments")
    expect(page.locator("h1")).to_have_text("Segments")
    page.click("tr[data-tier=very_low] th a")
    expect(page.locator("h1")).to_contain_text("Very low")
    expect(page.locator("#findings li").first).to_contain_text("as common in the very-low tier")
    expect(page.locator("#attributes svg")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "segments-2-diagnosis.png"), full_page=True)

    # in Chinese, the same findings in Chinese words
    page.select_option("select[name=language]", "zh-hans")
    expect(page.locator("#findings li").first).to_contain_text("很低层级中的比例是其他客户的")
    expect(page.locator("#findings h2")).to_have_text("该客户群的不同之处")
    page.screenshot(path=str(screenshot_dir / "segments-3-diagnosis-zh.png"), full_page=True)
