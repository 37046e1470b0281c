"""In a real browser (Debian's Chromium through Playwright), in English and Chinese, at 1366 and
390 px: the predictions page names the purchase model the run chose and its holdout error; the
warning list is ordered by value at risk with what a caller needs, is filtered and sorted, and
is brought up to date by a background job; a default-date run that would repeat the latest
says so; the customer page labels the run's figures with its date and says when the customer
bought again (each of these in both languages and at both widths, in one page that is
resized). Screenshots go to test-artifacts/."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from patron.customers.models import Customer
from patron.insights.services import analysis_run_create
from patron.retention.models import ChurnWarning
from patron.retention.services import warning_list_refresh
from patron.sales.models import Order

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PASSWORD = "Patron-Test-Pass-2024"
START = dt.date(2023, 1, 2)
LAST = dt.date(2024, 6, 29)
WIDTHS = {"desktop": 1366, "phone": 390}


@pytest.fixture
def shop(make_user: Any) -> dict[str, Any]:
    """400 simulated customers over 18 months, one analysis run as of the default date, and
    the warning list raised from it."""
    make_user("ada", "admin", password=PASSWORD)
    rng = np.random.default_rng(21)
    customers = [
        Customer(external_id=f"C{c:03d}", name=f"客户{c:03d}", phone=f"1380000{c:04d}")
        for c in range(400)
    ]
    Customer.objects.bulk_create(customers)
    customers = list(Customer.objects.order_by("external_id"))
    orders = []
    end = (LAST - START).days
    for c, customer in enumerate(customers):
        rate, drop = rng.gamma(0.9, 1 / 2.5) / 7, rng.beta(0.7, 3.0)
        day = float(rng.integers(0, 200))
        days = [day]
        while True:
            day += rng.exponential(1 / rate)
            if day > end or rng.random() < drop:
                break
            days.append(day)
        for k, d in enumerate(days):
            date = START + dt.timedelta(days=int(d))
            orders.append(
                Order(
                    customer=customer,
                    external_id=f"O{c}-{k}",
                    ordered_on=date,
                    ordered_at=dt.datetime(date.year, date.month, date.day, 9, tzinfo=dt.UTC),
                    amount=Decimal(str(round(float(rng.gamma(4, 15)), 2))),
                    status="completed",
                )
            )
    orders[-1].ordered_on = LAST  # the default date is the day after
    Order.objects.bulk_create(orders)
    run, _ = analysis_run_create()
    warning_list_refresh()
    return {"run": run}


def _sign_in(page: Any, base: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", "ada")
    page.fill("#id_password", PASSWORD)
    page.click("button.primary")


def _fits(page: Any, selector: str, width: int) -> None:
    """The element is inside the viewport's width (tables scroll inside their box)."""
    box = page.locator(selector).first.bounding_box()
    assert box is not None and box["x"] >= -1 and box["x"] + box["width"] <= width + 1, box


def test_insights_pages_in_both_languages_and_sizes(
    shop: dict[str, Any], live_server: Any, page: Any, screenshot_dir: Path
) -> None:
    from playwright.sync_api import expect

    base = live_server.url
    run = shop["run"]
    choice = run.figures["predictive"]["model_choice"]
    _sign_in(page, base)

    for lang, words in (
        ("en", {"model": "Purchase model of this run", "var": "Value at risk"}),
        ("zh-hans", {"model": "本次分析的购买模型", "var": "风险价值"}),
    ):
        page.set_extra_http_headers({"Accept-Language": lang})
        for size, width in WIDTHS.items():
            page.set_viewport_size({"width": width, "height": 900})

            def shot(name: str, size: str = size, lang: str = lang) -> None:
                path = screenshot_dir / f"insights-{name}-{lang}-{size}.png"
                page.screenshot(path=str(path), full_page=True)

            # predictions: the model chosen on the holdout and each candidate's error
            page.goto(f"{base}/reports/predictions/")
            expect(page.locator("#model-choice")).to_contain_text(words["model"])
            chosen = page.locator("#model-scores tr.chosen")
            expect(chosen).to_have_attribute("data-model", choice["chosen"])
            expect(chosen).to_contain_text(f"{choice['scores'][0]['rmse']:.4f}")
            expect(page.locator("#model-scores tbody tr")).to_have_count(2)
            _fits(page, "#model-choice .table-wrap", width)
            shot("predictions")

            # the warning list: largest value at risk first, phone, consent, last contact
            page.goto(f"{base}/warnings/")
            expect(page.locator("#warnings thead")).to_contain_text(words["var"])
            values = [
                float(v)
                for v in page.locator("#warnings td.value-at-risk").evaluate_all(
                    "cells => cells.map(c => c.dataset.value)"
                )
            ]
            assert values and values == sorted(values, reverse=True)
            first = page.locator("#warnings tbody tr").first
            expect(first.locator(".phone")).to_contain_text("1380000")
            expect(first.locator(".last-contact")).to_be_visible()
            _fits(page, "#warnings", width) if size == "desktop" else _fits(
                page, ".table-wrap", width
            )
            shot("warnings")

    # English, desktop: sort by risk and filter by tier through the form
    page.set_extra_http_headers({"Accept-Language": "en"})
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{base}/warnings/")
    tier = ChurnWarning.objects.values_list("value_tier", flat=True).first()
    page.select_option("#id_tier", tier)
    page.select_option("#id_sort", "risk")
    page.click("form[role=search] button.primary")
    tiers = set(page.locator("#warnings .tier").evaluate_all("t => t.map(x => x.dataset.tier)"))
    assert tiers == {tier}

    # in both languages, on a laptop and a phone (one page, resized):
    # "Bring up to date" is a background job whose page reports what it did, and a
    # default-date run that would repeat the latest says so and offers the choices
    for lang, words in (
        ("en", ("Warning list brought up to date", f"Run {run.pk} is already as of")),
        ("zh-hans", ("预警列表已按截至", f"分析 {run.pk} 的截止日期已是")),
    ):
        page.set_extra_http_headers({"Accept-Language": lang})
        for size, width in WIDTHS.items():
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(f"{base}/warnings/")
            page.click("#refresh")
            expect(page.locator("#outcome")).to_contain_text(words[0])
            expect(page.locator("#job-number")).to_be_visible()
            _fits(page, "#outcome", width)
            path = screenshot_dir / f"insights-refresh-job-{lang}-{size}.png"
            page.screenshot(path=str(path), full_page=True)
            page.goto(f"{base}/analysis/")
            page.click("#run-analysis button[type=submit]")
            expect(page.locator("#run-repeats")).to_contain_text(words[1])
            expect(page.locator("#run-again")).to_be_visible()
            _fits(page, "#run-repeats", width)
            _fits(page, "#run-again", width)
            path = screenshot_dir / f"insights-run-repeats-{lang}-{size}.png"
            page.screenshot(path=str(path), full_page=True)

    # the customer page: run figures labelled with the run's date; a purchase since is named
    warned = ChurnWarning.objects.select_related("customer").first()
    assert warned is not None
    customer = warned.customer
    Order.objects.create(
        customer=customer,
        external_id="NEW-1",
        ordered_on=run.as_of + dt.timedelta(days=2),
        ordered_at=dt.datetime.combine(run.as_of + dt.timedelta(days=2), dt.time(9), dt.UTC),
        amount=Decimal("50.00"),
        status="completed",
    )
    for lang, text in (("en", "Bought again on"), ("zh-hans", "再次购买")):
        page.set_extra_http_headers({"Accept-Language": lang})
        for size, width in WIDTHS.items():
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(f"{base}/customers/{customer.external_id}/")
            value_run = page.locator("#value-run")
            expect(value_run).to_have_attribute("data-as-of", run.as_of.isoformat())
            expect(page.locator("#bought-since")).to_contain_text(text)
            _fits(page, "#bought-since", width)
            _fits(page, "#value-run", width)
            path = screenshot_dir / f"insights-customer-{lang}-{size}.png"
            page.screenshot(path=str(path), full_page=True)
    # and the warning of a customer who bought again closes on the next refresh
    warning_list_refresh(today=run.as_of + dt.timedelta(days=3))
    warned.refresh_from_db()
    assert not warned.is_open and warned.closed_automatically
