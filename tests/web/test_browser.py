"""In a real browser (Debian's Chromium through Playwright): sign in, search a customer, open the
360 page, add a note, switch to Chinese, and be refused an export as the service role.
Screenshots of each step go to test-artifacts/.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from patron.customers.models import Customer, Interaction
from patron.sales.models import Order

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PASSWORD = "Patron-Test-Pass-2024"


@pytest.fixture
def shop(make_user: Any) -> None:
    make_user("alice", "admin", password=PASSWORD)
    make_user("sam", "service", password=PASSWORD)
    zhang = Customer.objects.create(
        external_id="C1",
        name="张三",
        phone="13812345678",
        region="广东",
        city="深圳市",
        tags=["vip"],
    )
    Customer.objects.create(external_id="C2", name="李四", region="浙江")
    for n, (day, amount) in enumerate(((date(2024, 1, 1), "100.00"), (date(2024, 1, 31), "88.50"))):
        Order.objects.create(
            customer=zhang,
            external_id=f"O{n}",
            ordered_on=day,
            ordered_at=datetime(day.year, day.month, day.day, tzinfo=UTC),
            amount=Decimal(amount),
        )


def _sign_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button.primary")


def test_the_main_journey_in_a_browser(
    shop: None, live_server: Any, page: Any, screenshot_dir: Path
) -> None:
    from playwright.sync_api import expect

    base = live_server.url
    page.set_extra_http_headers({"Accept-Language": "en"})

    def shot(name: str) -> None:
        page.screenshot(path=str(screenshot_dir / f"web-{name}.png"), full_page=True)

    # sign in
    _sign_in(page, base, "alice")
    expect(page.locator("h1")).to_have_text("Dashboard")
    shot("1-dashboard")

    # search a customer
    page.click("nav.sections >> text=Customers")
    page.fill("input[name=q]", "张三")
    page.click("form.filters button[type=submit]")
    expect(page.locator("table.data tbody tr")).to_have_count(1)
    shot("2-search")

    # open the 360 page
    page.click("table.data >> text=张三")
    expect(page).to_have_url(re.compile(r"/customers/C1/$"))
    expect(page.locator("#figures")).to_contain_text("¥188.50")
    shot("3-customer-360")

    # add a note
    page.fill("textarea[name=text]", "喜欢龙井茶，周末来店")
    page.click("form.add-interaction button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("Added to the timeline.")
    expect(page.locator("#timeline")).to_contain_text("喜欢龙井茶，周末来店")
    assert Interaction.objects.filter(customer__external_id="C1", kind="note").count() == 1
    shot("4-note-added")

    # switch to Chinese: the language switcher submits itself (progressive enhancement)
    page.select_option("select[name=language]", "zh-hans")
    expect(page.locator("#figures h2")).to_have_text("关键指标")
    expect(page.locator("#figures")).to_contain_text("2024年1月31日")
    expect(page.locator("nav.sections")).to_contain_text("客户")
    shot("5-customer-360-zh")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: panels stack in one column
    shot("5b-customer-360-zh-phone")
    page.set_viewport_size({"width": 1280, "height": 720})

    # sign out, sign in as the service role, be refused an export
    page.click("text=退出")
    _sign_in(page, base, "sam")
    page.goto(f"{base}/customers/")
    expect(page.locator("text=导出 CSV")).to_have_count(0)
    response = page.goto(f"{base}/customers/export/csv/")
    assert response is not None and response.status == 403
    expect(page.locator("h1")).to_have_text("无权访问")
    shot("6-service-refused-export")
