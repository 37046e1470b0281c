"""In a real browser (Debian's Chromium): the loyalty staff pages in English and Chinese —
the member list from the navigation, a member's page with a manual adjustment, the customer
360 panel, rewards, settings, and the programme analytics with its charts. Screenshots go to
test-artifacts/ (one at a phone's 390 px)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from patron.customers.models import Customer
from patron.loyalty import services
from patron.loyalty.models import LedgerEntry, Reward, Tier
from patron.sales.services import order_batch_import

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PASSWORD = "Patron-Test-Pass-2024"


@pytest.fixture
def programme(make_user: Any) -> str:
    make_user("mia", "marketing", password=PASSWORD)
    p = services.programme_get()
    p.tiers_enabled = True
    p.save()
    Tier.objects.create(
        programme=p, code="silver", name_en="Silver", name_zh="银卡", rank=0, threshold=0
    )
    Tier.objects.create(
        programme=p, code="gold", name_en="Gold", name_zh="金卡", rank=1, threshold=Decimal(500)
    )
    today = dt.date.today()
    orders = []
    for i, (cid, name) in enumerate((("C1", "张三"), ("C2", "李四"), ("C3", "王五"))):
        Customer.objects.create(external_id=cid, name=name)
        for k in range(3):
            day = today - dt.timedelta(days=30 * k + i)
            orders.append(
                {
                    "order_id": f"{cid}-{k}",
                    "customer_id": cid,
                    "status": "completed",
                    "ordered_at": f"{day.isoformat()}T10:00:00+00:00",
                    "amount": str(120 + 90 * i),
                }
            )
    member = services.member_enrol(
        customer_id="C1", enrolled_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    )
    services.member_enrol(
        customer_id="C2",
        referral_code=member.referral_code,
        enrolled_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
    )
    assert order_batch_import(orders=orders, source="pos")["rejected"] == 0
    reward = Reward.objects.create(code="mug", name_en="Mug", name_zh="马克杯", points_cost=100)
    services.points_redeem(
        member=member, idempotency_key="k1", rewards=[services.RewardLine(reward.pk, 1)]
    )
    assert LedgerEntry.objects.filter(member=member).count() >= 4
    return member.card_number


def test_loyalty_pages_in_both_languages(
    programme: str, live_server: Any, page: Any, screenshot_dir: Path
) -> None:
    from playwright.sync_api import expect

    card = programme
    base = live_server.url
    page.set_extra_http_headers({"Accept-Language": "en"})
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", "mia")
    page.fill("#id_password", PASSWORD)
    page.click("button.primary")

    # the member list, from the navigation
    page.click("nav.sections >> text=Loyalty")
    expect(page.locator("h1")).to_have_text("Members")
    rows = page.locator("table#members tbody tr")
    expect(rows).to_have_count(2)
    page.screenshot(path=str(screenshot_dir / "loyalty-1-members.png"), full_page=True)

    # a member's page: statement, then an adjustment with a reason
    page.click(f"text={card}")
    expect(page.locator("#member-card .card-number")).to_have_text(card)
    before = int(page.locator("#member-card .points-balance").inner_text().replace(",", ""))
    page.fill("#adjust input[name=points]", "-30")
    page.fill("#adjust input[name=reason]", "goodwill correction")
    page.click("#adjust button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("Points adjusted.")
    expect(page.locator("#member-card .points-balance")).to_have_text(f"{before - 30:,}")
    expect(page.locator("#statement table")).to_contain_text("goodwill correction")
    page.screenshot(path=str(screenshot_dir / "loyalty-2-member.png"), full_page=True)

    # the programme analytics, with charts drawn from the ledger
    page.click(".crumbs >> text=Members")
    page.click("#loyalty-tabs >> text=Programme analytics")
    expect(page.locator("h1")).to_have_text("Programme analytics")
    expect(page.locator("#liability svg.line-chart circle").first).to_be_attached()
    expect(page.locator("#tier-section svg.bars-chart rect")).to_have_count(3)  # gold, silver, none
    expect(page.locator("#top-rewards svg rect[data-label='Mug']")).to_have_attribute(
        "data-value", "1.0"
    )
    expect(page.locator("#selection-caveat")).to_contain_text("overstates")
    expect(page.locator("#compare-table tr[data-group=members] td").first).to_have_text("2")
    page.screenshot(path=str(screenshot_dir / "loyalty-3-analytics.png"), full_page=True)

    # in Chinese
    page.select_option("select[name=language]", "zh-hans")
    expect(page.locator("h1")).to_have_text("会员计划分析")
    expect(page.locator("#selection-caveat")).to_contain_text("高估")
    expect(page.locator("#tier-section svg rect[data-label='金卡']")).to_be_attached()
    page.screenshot(path=str(screenshot_dir / "loyalty-4-analytics-zh.png"), full_page=True)
    page.click("#loyalty-tabs >> text=会员计划设置")
    expect(page.locator("h1")).to_have_text("会员计划设置")
    expect(page.locator("#tiers")).to_contain_text("银卡")
    # the earning rule's cap per member per period, set in Chinese
    expect(page.locator("label[for=id_cap_points]")).to_contain_text("每位会员每周期积分上限")
    page.fill("#id_cap_points", "500")
    page.select_option("#id_cap_period", "year")
    expect(page.locator("#id_cap_period option:checked")).to_have_text("自然年")
    page.click("#programme-form button[type=submit]")
    expect(page.locator(".messages")).to_be_visible()
    expect(page.locator("#id_cap_points")).to_have_value("500")
    expect(page.locator("#id_cap_period")).to_have_value("year")
    page.click("#loyalty-tabs >> text=礼品")
    expect(page.locator("table#rewards")).to_contain_text("马克杯")

    # the customer 360 page's membership panel, at a phone's width
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/customers/C1/")
    panel = page.locator("text=积分余额").first
    expect(panel).to_be_visible()
    expect(page.locator(".card-number").first).to_have_text(card)
    page.screenshot(path=str(screenshot_dir / "loyalty-5-panel-390.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, f"the page scrolls sideways at 390 px ({width} px)"
