"""Day one in a real browser (Debian's Chromium), in English and Chinese, at 390 and 1366 px,
with every request to anything but 127.0.0.1 blocked (no CDN anywhere):

- every page of the navigation (and Settings > Users, the API docs, the Django admin) loads,
  fits the screen width, logs no error; the API docs render Swagger UI from local files;
- on a phone the menu button opens the sections; Chinese tier names do not break per
  character; money fits its tile even with eight-digit sums;
- at both widths and in both languages, the customer list finds a customer by the last four
  digits of the phone and by a given name, sorts by CLV from its header, saves the view and
  exports it with readable values, and an admin adds a user in Settings.

Screenshots go to test-artifacts/ (day1-*.png).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from patron.customers.models import Customer
from patron.demo.loader import demo_load

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PASSWORD = "Patron-Test-Pass-2024"
NAVIGATION_PAGES = (
    "/",
    "/customers/",
    "/imports/",
    "/segments/",
    "/loyalty/",
    "/campaigns/",
    "/service/",
    "/warnings/",
    "/reports/",
    "/reports/predictions/",
    "/settings/",
    "/settings/users/",
    "/settings/analysis/",
    "/api/v1/docs",
    "/admin/",
)
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
WIDE_PAGES = ("/", "/customers/", "/segments/", "/warnings/", "/reports/predictions/")
SHOWN = {"/", "/customers/", "/warnings/", "/settings/users/", "/api/v1/docs"}  # screenshots


@pytest.fixture
def demo(make_user: Any) -> Customer:
    demo_load(customers=200, seed=5)
    admin = make_user("ada", "admin", password=PASSWORD)
    admin.is_staff = True
    admin.save()
    customer = Customer.objects.exclude(phone="").exclude(name="").order_by("pk").first()
    assert customer is not None
    return customer


def _offline_context(browser: Any, width: int, blocked: list[str]) -> Any:
    context = browser.new_context(viewport={"width": width, "height": 900})

    def route(route: Any) -> None:
        host = urlparse(route.request.url).hostname or ""
        if host in LOCAL_HOSTS or route.request.url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", route)
    return context


def _sign_in(page: Any, base: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", "ada")
    page.fill("#id_password", PASSWORD)
    page.click("button.primary")
    page.wait_for_url(f"{base}/")


def test_day_one_in_a_browser(
    demo: Customer, live_server: Any, browser: Any, screenshot_dir: Path
) -> None:
    """One demo business for all the checks: loading it is the slow part."""
    for width in (390, 1366):
        _every_page_loads_offline_and_fits_the_screen(
            demo, live_server, browser, screenshot_dir, width
        )
    _the_customer_list_finds_sorts_saves_and_exports(demo, live_server, browser, screenshot_dir)


def _every_page_loads_offline_and_fits_the_screen(
    demo: Customer, live_server: Any, browser: Any, screenshot_dir: Path, width: int
) -> None:
    blocked: list[str] = []
    context = _offline_context(browser, width, blocked)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(f"{page.url}: {m.text}"))
    page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))
    base = live_server.url
    _sign_in(page, base)
    problems: dict[str, str] = {}
    for language in ("en", "zh-hans"):
        page.set_extra_http_headers({"Accept-Language": language})
        # every page on a phone; on a laptop the pages with wide content
        paths = NAVIGATION_PAGES if width == 390 else WIDE_PAGES
        for path in (*paths, f"/customers/{demo.external_id}/"):
            response = page.goto(base + path)
            key = f"{language} {path}"
            name = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home"
            if path in SHOWN:
                page.screenshot(path=str(screenshot_dir / f"day1-{width}-{language}-{name}.png"))
            if response is None or response.status != 200:
                problems[key] = f"HTTP {response.status if response else '-'}"
                continue
            scroll, client = page.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
            )
            if scroll > client:
                problems[key] = f"{scroll}px wide"
                page.screenshot(path=str(screenshot_dir / f"day1-{width}-{language}-{name}.png"))
            if path == "/api/v1/docs":  # Swagger UI drew the operations from local files
                page.wait_for_selector(".opblock", timeout=15_000)
        # the dashboard: money fits its tile even with eight-digit sums
        page.goto(base + "/")
        overflowing = page.evaluate(
            """() => Array.from(document.querySelectorAll('.tile .value')).filter(v => {
                 v.textContent = '¥12,345,678.90';
                 const tile = v.closest('.tile').getBoundingClientRect();
                 return v.scrollWidth > v.clientWidth + 1
                   || v.getBoundingClientRect().right > tile.right;
               }).length"""
        )
        if overflowing:
            problems[f"{language} dashboard tiles"] = f"{overflowing} money values overflow"
        # Chinese tier and segment names in tables are one line (no character per line),
        # and no row of the dashboard's tables is taller than a thumb's scroll
        tall = page.evaluate(
            """() => Array.from(document.querySelectorAll('table.data td:first-child'))
                 .filter(td => td.innerText.trim().length <= 6)
                 .filter(td => {
                   const range = document.createRange();
                   range.selectNodeContents(td);
                   const rects = Array.from(range.getClientRects());
                   const tops = new Set(rects.map(r => Math.round(r.top)));
                   return tops.size > 1;
                 })
                 .map(td => td.innerText)"""
        )
        if tall:
            problems[f"{language} tier names"] = f"wrapped: {tall}"
        rows = page.evaluate(
            "() => Array.from(document.querySelectorAll('table.data tbody tr'))"
            ".map(r => r.getBoundingClientRect().height).filter(h => h > 160).length"
        )
        if rows:
            problems[f"{language} dashboard rows"] = f"{rows} rows taller than 160 px"
        if width == 390:  # the menu button opens the sections, each reachable
            page.click(".menu-toggle")
            links = page.locator("nav.sections a")
            for i in range(links.count()):
                if not links.nth(i).is_visible():
                    problems[f"{language} menu"] = f"{links.nth(i).inner_text()} hidden"
            page.screenshot(path=str(screenshot_dir / f"day1-390-{language}-menu.png"))
    context.close()
    assert problems == {}, width
    assert blocked == [], f"requests leaving 127.0.0.1: {blocked}"
    assert errors == []


def _the_customer_list_finds_sorts_saves_and_exports(
    demo: Customer, live_server: Any, browser: Any, screenshot_dir: Path
) -> None:
    from playwright.sync_api import expect

    blocked: list[str] = []
    for width in (390, 1366):
        context = _offline_context(browser, width, blocked)
        page = context.new_page()
        base = live_server.url
        _sign_in(page, base)
        for language in ("en", "zh-hans"):
            page.set_extra_http_headers({"Accept-Language": language})
            _find_sort_save_export(page, base, demo, language, width, screenshot_dir)
            # Settings: an admin adds a user
            username = f"mia{width}{language[:2]}"
            page.goto(f"{base}/settings/users/")
            page.fill("#id_username", username)
            page.select_option("#id_role", "marketing")
            page.fill("#id_password", PASSWORD)
            page.click("#add-user button[type=submit]")
            expect(page.locator(f"#users >> text={username}")).to_be_visible()
            expect(page.locator("#users")).to_contain_text(
                "Marketing" if language == "en" else "市场"
            )
            scroll, client = page.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
            )
            assert scroll <= client, (width, language, scroll)
            page.screenshot(
                path=str(screenshot_dir / f"day1-{width}-{language}-users.png"), full_page=True
            )
        context.close()
    assert blocked == []


def _find_sort_save_export(
    page: Any, base: str, demo: Customer, language: str, width: int, screenshot_dir: Path
) -> None:
    from playwright.sync_api import expect

    # the last four digits of a phone, then a given name
    page.goto(f"{base}/customers/")
    page.fill("input[name=q]", demo.phone[-4:])
    page.click("form.filters button[type=submit]")
    expect(page.locator(f"table.customers >> text={demo.external_id}")).to_be_visible()
    given = demo.name[1:]
    page.fill("input[name=q]", given)
    page.click("form.filters button[type=submit]")
    expect(page.locator(f"table.customers >> text={demo.external_id}")).to_be_visible()
    # sort by CLV from its header
    page.goto(f"{base}/customers/")
    page.click("table.customers th a.sort >> nth=6")  # CLV
    expect(page.locator('table.customers th[aria-sort="descending"]')).to_have_count(1)
    page.screenshot(path=str(screenshot_dir / f"day1-{width}-{language}-list-by-clv.png"))
    # save it, open it again
    name = ("By CLV" if language == "en" else "按终身价值") + f" {width}"
    page.fill("form.save-view input[name=name]", name)
    page.click("form.save-view button")
    page.goto(f"{base}/customers/")
    page.click(f".saved-views >> text={name}")
    expect(page).to_have_url(re.compile(r"sort=clv"))
    # export what is shown
    with page.expect_download() as download:
        page.click("text=Export CSV" if language == "en" else "text=导出 CSV")
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    genders = {row[4] for row in rows[1:]}
    expected = {"Male", "Female", "Unknown"} if language == "en" else {"男", "女", "未知"}
    assert genders <= expected and genders, genders
    assert len(rows[0]) == 21 and rows[1][12], rows[:2]  # the run's figures are there
