"""In a real browser (Debian's Chromium): the customer 360 page shows both recommendation
lists with their reasons and the latest evaluation, in English and in Chinese."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from patron.demo.recommend import AS_OF, tea_shop_create
from patron.recommend.services import recommendation_run_create

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PASSWORD = "Patron-Test-Pass-2024"


def test_recommendations_panel_in_both_languages(
    make_user: Any,
    live_server: Any,
    page: Any,
    screenshot_dir: Path,
) -> None:
    from playwright.sync_api import expect

    # given the tea shop and a stored run with its evaluation
    tea_shop_create()
    recommendation_run_create(as_of=AS_OF, per_list=5, evaluate_days=60, tune=False)
    make_user("mia", "marketing", password=PASSWORD)
    page.set_extra_http_headers({"Accept-Language": "en"})
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "mia")
    page.fill("#id_password", PASSWORD)
    page.click("button.primary")

    # when the 360 page opens
    page.goto(f"{live_server.url}/customers/C01/")
    panel = page.locator("#recommendations")
    # then both lists, each item with a reason, and the evaluation beside them
    expect(panel.locator("h2")).to_have_text("Recommendations")
    expect(panel.locator("[data-list=buy_again] h3")).to_have_text("Buy again")
    expect(panel.locator("[data-list=try_new] h3")).to_have_text("Try new")
    expect(panel.locator("[data-list=buy_again] li").first).to_contain_text(
        "you buy this about every"
    )
    assert panel.locator("[data-list=try_new] li").count() >= 1
    expect(panel.locator(".recommend-evaluation")).to_contain_text("Own top items")
    expect(panel.locator(".recommend-evaluation tr.ours").first).to_contain_text("Patron")
    page.screenshot(path=str(screenshot_dir / "recommend-1-en.png"), full_page=True)

    # in Chinese
    page.select_option("select[name=language]", "zh-hans")
    expect(panel.locator("h2")).to_have_text("个性化推荐")
    expect(panel.locator("[data-list=buy_again] h3")).to_have_text("复购提醒")
    expect(panel.locator("[data-list=try_new] h3")).to_have_text("新品推荐")
    expect(panel.locator("[data-list=buy_again] li").first).to_contain_text("您大约每")
    expect(panel.locator(".recommend-evaluation")).to_contain_text("召回率@10")
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(screenshot_dir / "recommend-2-zh-phone.png"), full_page=True)
