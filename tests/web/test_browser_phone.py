"""In a real browser on a phone-sized screen (390 x 844) and at 1280 x 800: the pages fit the
screen width (no sideways scrolling of the whole page; wide tables scroll in their own box),
and no page logs a console error (a missing favicon was one on every page)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from patron.customers.models import Customer
from patron.demo.loader import demo_load

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PASSWORD = "Patron-Test-Pass-2024"
PAGES = ("/", "/customers/", "/segments/", "/segments/tier/high/", "/reports/predictions/")


@pytest.mark.parametrize(("width", "height"), [(390, 844), (1280, 800)])
def test_pages_fit_the_screen_without_console_errors(
    make_user: Any,
    live_server: Any,
    browser: Any,
    screenshot_dir: Path,
    width: int,
    height: int,
) -> None:
    # given the demo business and an administrator (the longest header: Administration link)
    demo_load(customers=200, seed=5)
    admin = make_user("ada", "admin", password=PASSWORD)
    admin.is_staff = True
    admin.save()
    customer = Customer.objects.order_by("external_id").first()
    assert customer is not None
    context = browser.new_context(
        viewport={"width": width, "height": height}, extra_http_headers={"Accept-Language": "en"}
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(f"{page.url}: {m.text}"))
    page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))
    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", "ada")
    page.fill("#id_password", PASSWORD)
    page.click("button.primary")
    page.wait_for_url(f"{base}/")

    # when each page opens, in English and in Chinese
    too_wide = {}
    for language in ("en", "zh-hans"):
        page.set_extra_http_headers({"Accept-Language": language})
        for path in (*PAGES, f"/customers/{customer.external_id}/"):
            page.goto(base + path)
            scroll, client = page.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
            )
            if scroll > client:
                too_wide[f"{language} {path}"] = scroll
                name = f"phone-{width}-{language}-{path.strip('/').replace('/', '-') or 'home'}"
                page.screenshot(path=str(screenshot_dir / f"{name}.png"), full_page=True)

    # then none is wider than the screen, and the browser logged no error
    context.close()
    assert too_wide == {}, f"wider than {width}px: {too_wide}"
    assert errors == []
