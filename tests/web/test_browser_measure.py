"""In a real browser (Debian's Chromium), in English and Chinese, at 390 px and 1280 px: the
campaign report of a demo campaign (grouped: by tier and segment, the interval chart), a
campaign with few customers and no control (said, not computed), and the cycle view.
Screenshots go to test-artifacts/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from patron.campaigns.models import Campaign, CampaignStatus, Group, Target, TargetState
from patron.customers.models import Customer
from patron.demo.loader import demo_load

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PASSWORD = "Patron-Test-Pass-2024"


def test_campaign_report_and_cycle_in_both_languages(
    make_user: Any, live_server: Any, page: Any, screenshot_dir: Path
) -> None:
    from playwright.sync_api import expect

    state = demo_load(customers=500, seed=5)
    spring = state["campaigns"]["春季唤醒 Spring reactivation"]["campaign_id"]
    few = Campaign.objects.create(
        name="Few", status=CampaignStatus.DONE, launched_at=timezone.now(), occurrences=1
    )
    Target.objects.bulk_create(
        Target(campaign=few, customer=c, group=Group.TREATMENT, state=TargetState.SENT,
               contacted_at=few.launched_at)
        for c in Customer.objects.order_by("pk")[:3]
    )  # fmt: skip
    make_user("mia", "marketing", password=PASSWORD)
    base = live_server.url
    page.set_extra_http_headers({"Accept-Language": "en"})
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", "mia")
    page.fill("#id_password", PASSWORD)
    page.click("button.primary")

    def shot(name: str) -> None:
        page.screenshot(path=str(screenshot_dir / f"measure-{name}.png"), full_page=True)

    def fits() -> None:
        width = page.evaluate("document.documentElement.scrollWidth")
        viewport = page.evaluate("window.innerWidth")
        assert width <= viewport + 1, (width, viewport)

    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{base}/campaigns/{spring}/")
        expect(page.locator("#report-summary")).to_contain_text("response rate")
        expect(page.locator("#uplift-chart svg circle")).to_have_count(3)
        expect(page.locator("#report-groups tr[data-group=control]")).to_be_visible()
        assert page.locator("#by-tier tbody tr").count() >= 3
        assert page.locator("#by-segment tbody tr").count() >= 3
        expect(page.locator("#report-roi")).not_to_have_text("—")
        fits()
        shot(f"report-en-{width}")
        page.goto(f"{base}/campaigns/{few.pk}/")
        expect(page.locator("#measurement")).to_contain_text("no control group")
        page.goto(f"{base}/campaigns/cycle/")
        expect(page.locator("section.cycle")).to_have_count(2)
        expect(page.locator(f"#cycle-{spring} .cycle-group")).to_have_count(2)
        expect(page.locator(f"#cycle-{spring} table.levers tbody tr")).to_have_count(5)
        fits()
        shot(f"cycle-en-{width}")

    page.select_option("select[name=language]", "zh-hans")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{base}/campaigns/{spring}/")
        expect(page.locator("#measurement h2")).to_have_text("活动带来的改变")
        expect(page.locator("#report-summary")).to_contain_text("响应率")
        expect(page.locator("#report-summary-other")).to_contain_text("response rate")
        expect(page.locator("#by-tier thead")).to_contain_text("增量收入")
        fits()
        shot(f"report-zh-{width}")
        page.goto(f"{base}/campaigns/{few.pk}/")
        expect(page.locator("#measurement")).to_contain_text("没有可比较的对照组")
        page.goto(f"{base}/campaigns/cycle/")
        expect(page.locator("h1")).to_have_text("活动循环")
        expect(page.locator(f"#cycle-{spring}")).to_contain_text("对照组")
        expect(page.locator(f"#cycle-{spring} table.levers")).to_contain_text("关系层次")
        fits()
        shot(f"cycle-zh-{width}")
