"""In a real browser (Debian's Chromium through Playwright), in English and then in Chinese:
marketing builds a segment with a live count, saves it, opens it in the customer list, creates
a campaign in the wizard, previews it in both languages, sees who the launch would skip and
why, launches it and watches the campaign page; the customer 360 page lists the campaign.
Screenshots go to test-artifacts/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from patron.campaigns.models import Campaign, Target
from patron.customers.models import Consent, Customer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PASSWORD = "Patron-Test-Pass-2024"


@pytest.fixture
def shop(make_user: Any) -> None:
    make_user("mia", "marketing", password=PASSWORD)
    now = timezone.now()
    for i in range(12):
        customer = Customer.objects.create(
            external_id=f"S{i:02d}",
            name=f"顾客{i}",
            email=f"s{i}@shop.test",
            region="上海" if i < 8 else "北京",
        )
        Consent.objects.create(
            customer=customer, channel="email", granted=i % 4 != 0, recorded_at=now
        )


def test_builder_wizard_and_campaign_page_in_both_languages(
    shop: None, live_server: Any, page: Any, screenshot_dir: Path
) -> None:
    from playwright.sync_api import expect

    base = live_server.url
    page.set_extra_http_headers({"Accept-Language": "en"})
    page.set_viewport_size({"width": 390, "height": 900})

    def shot(name: str) -> None:
        page.screenshot(path=str(screenshot_dir / f"campaigns-{name}.png"), full_page=True)

    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", "mia")
    page.fill("#id_password", PASSWORD)
    page.click("button.primary")

    # the segment builder: add a condition, the count follows
    page.goto(f"{base}/campaigns/")
    expect(page.locator("h1")).to_have_text("Campaigns")
    page.click("text=New segment")
    expect(page.locator("#live-count")).to_have_text("12")
    page.click("#add-condition")
    page.locator(".c-field").first.select_option("region")
    page.locator(".c-op").first.select_option("=")
    page.locator(".c-value").first.fill("上海")
    expect(page.locator("#live-count")).to_have_text("8")
    page.fill("#id_name", "上海客户")
    shot("1-builder")
    page.click("#save-segment")
    expect(page.locator(".messages")).to_contain_text("Segment saved.")
    expect(page.locator("#live-count")).to_have_text("8")
    # an impossible rule is named, with the valid operators
    page.fill("textarea[name=rules]", '{"all": [{"field": "clv", "op": "like", "value": 1}]}')
    expect(page.locator("#rules-error")).to_contain_text("valid operators")
    # open it in the customer list
    page.click("#open-in-list")
    expect(page.locator("table tbody tr")).to_have_count(8)

    # the wizard
    page.goto(f"{base}/campaigns/new/")
    page.fill("#id_name", "Spring return")
    page.select_option("#id_segment", label="上海客户")
    page.select_option("#id_channel", "email")
    page.select_option("#id_offer", "coupon")
    page.fill("#id_subject_en", "A gift for {{ name }}")
    page.fill("#id_body_text_en", "Dear {{ name }}, your code is {{ coupon }}.")
    page.fill("#id_subject_zh", "{{ name }}，送您一份礼物")
    page.fill("#id_body_text_zh", "{{ name }}您好，您的优惠码是 {{ coupon }}。")
    page.fill("#id_control_share", "0.25")
    shot("2-wizard")
    page.click("#save-campaign")
    expect(page.locator(".messages")).to_contain_text("Campaign saved")
    campaign = Campaign.objects.get(name="Spring return")

    # previews in both languages
    page.click("#go-preview")
    expect(page.locator("#preview-en")).to_contain_text("Dear 顾客")
    expect(page.locator("#preview-zh-hans")).to_contain_text("您好，您的优惠码是 ABCD234567")
    shot("3-preview")

    # launch: who is skipped and why, then launch
    page.goto(f"{base}/campaigns/{campaign.pk}/launch/")
    expect(page.locator("#n-targeted")).to_have_text("8")
    expect(page.locator("#skip-reasons li[data-reason=no_consent]")).to_contain_text("2")
    shot("4-launch")
    page.click("#confirm-launch")
    expect(page.locator(".messages")).to_contain_text("Campaign launched.")
    expect(page.locator("[data-key=targeted]")).to_have_text("8")
    expect(page.locator("#skipped li[data-reason=no_consent]")).to_contain_text("2")
    shot("5-campaign")
    assert Target.objects.filter(campaign=campaign).count() == 8

    # the same pages in Chinese
    page.select_option("select[name=language]", "zh-hans")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("#progress")).to_contain_text("目标客户")
    expect(page.locator("#skipped")).to_contain_text("该渠道未获同意")
    shot("6-campaign-zh")
    page.goto(f"{base}/campaigns/segments/new/")
    expect(page.locator("h1")).to_have_text("分群构建器")
    page.fill("textarea[name=rules]", '{"all": [{"field": "shoe", "op": "=", "value": 1}]}')
    expect(page.locator("#rules-error")).to_contain_text("未知字段")
    page.goto(f"{base}/campaigns/new/")
    expect(page.locator("#step-content legend")).to_contain_text("双语内容")
    shot("7-wizard-zh")
    # the customer 360 page shows the campaign
    target = Target.objects.filter(campaign=campaign).first()
    page.goto(f"{base}/customers/{target.customer.external_id}/")
    expect(page.locator("#customer-campaigns")).to_contain_text("Spring return")
