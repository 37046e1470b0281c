"""In a real browser (Debian's Chromium through Playwright): the ticket queue, a ticket page
and the survey answer page, in English and Chinese, at 390 and 1280 px. Screenshots go to
test-artifacts/."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from patron.customers.models import Customer
from patron.insights.models import AnalysisRun, CustomerScore, RunStatus
from patron.service.models import SurveyResponse
from patron.service.services import ticket_create
from patron.service.surveys import survey_invite, survey_link_token

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PASSWORD = "Patron-Test-Pass-2024"
TEXTS = {
    "en": {"queue": "Ticket queue", "breached": "SLA breached", "nps": "recommend us",
           "thanks": "Thank you", "status_open": "Open"},
    "zh-hans": {"queue": "工单队列", "breached": "已超时", "nps": "推荐我们",
                "thanks": "谢谢", "status_open": "处理中"},
}  # fmt: skip


@pytest.fixture
def desk(make_user: Any) -> dict[str, Any]:
    from patron.service.services import categories_ensure

    categories_ensure()  # the default categories (a flush after another test removed them)
    make_user("sam", "service", password=PASSWORD)
    run = AnalysisRun.objects.create(
        as_of=dt.date(2024, 6, 30), code_version="test", status=RunStatus.COMPLETED
    )
    vip = Customer.objects.create(external_id="C1", name="张三")
    CustomerScore.objects.create(
        run=run, customer=vip, recency_days=20, frequency=9, monetary=Decimal("5000"),
        r_score=5, f_score=5, m_score=5, segment="champions", value_tier="very_high",
        revenue=Decimal("5000"), cost_to_serve=Decimal("0"),
    )  # fmt: skip
    other = Customer.objects.create(external_id="C2", name="李四")
    fresh = ticket_create(customer=vip, kind="complaint", category="delivery", channel="wechat",
                          subject="快递一周没到", text="订单还没到，请尽快处理。")  # fmt: skip
    late = ticket_create(customer=other, kind="question", category="other", channel="web",
                         subject="How do points work?",
                         opened_at=timezone.now() - dt.timedelta(days=20))  # fmt: skip
    tokens = {
        lang: survey_link_token(
            survey_invite(kind="nps", customer=other, key=f"nps:{lang}", language=lang)
        )
        for lang in TEXTS
    }
    return {"fresh": fresh, "late": late, "tokens": tokens}


def _fits(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


def test_queue_ticket_and_answer_pages_in_both_languages_and_widths(
    desk: dict[str, Any], live_server: Any, page: Any, screenshot_dir: Path
) -> None:
    from playwright.sync_api import expect

    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", "sam")
    page.fill("#id_password", PASSWORD)
    page.click("button.primary")
    replied = False
    for lang, width in (("en", 1280), ("zh-hans", 390), ("en", 390), ("zh-hans", 1280)):
        text = TEXTS[lang]
        page.set_viewport_size({"width": width, "height": 900})
        page.context.add_cookies([{"name": "django_language", "value": lang, "url": base}])

        def shot(name: str, lang: str = lang, width: int = width) -> None:
            path = screenshot_dir / f"service-{name}-{lang}-{width}.png"
            page.screenshot(path=str(path), full_page=True)

        # the queue: the ticket past its SLA first, then the urgent complaint
        page.goto(f"{base}/service/")
        expect(page.locator("h1")).to_have_text(text["queue"])
        rows = page.locator("table#tickets tbody tr")
        expect(rows).to_have_count(2)
        expect(rows.first).to_have_attribute("data-ticket", str(desk["late"].pk))
        expect(rows.first).to_contain_text(text["breached"])
        expect(rows.nth(1)).to_have_class("")
        assert _fits(page), f"queue overflows at {width}px"
        shot("queue")
        # the ticket page
        rows.nth(1).locator("a").first.click()
        expect(page.locator("#ticket-subject")).to_contain_text("快递一周没到")
        expect(page.locator("#conversation")).to_contain_text("订单还没到")
        assert _fits(page), f"ticket page overflows at {width}px"
        if not replied:
            page.fill("#reply-form textarea", "您好，已联系快递，明天送达。")
            page.click("#send-reply")
            expect(page.locator("#ticket-status")).to_have_text(text["status_open"])
            expect(page.locator("#ticket-owner")).to_have_text("sam")
            replied = True
        shot("ticket")
        # the survey answer page: no sign-in, in the invitation's language
        token = desk["tokens"][lang]
        page.goto(f"{base}/service/s/{token}/?score=4")
        expect(page.locator("h1")).to_contain_text(text["nps"])
        expect(page.locator("#thanks")).to_contain_text(text["thanks"])
        assert _fits(page), f"answer page overflows at {width}px"
        page.locator("label.score", has_text="9").first.click()
        page.select_option("#d-delivery", "5")
        page.click("#send-answer")
        expect(page.locator("#thanks")).to_contain_text(text["thanks"])
        shot("answer")
    answers = SurveyResponse.objects.order_by("pk")
    assert [a.nps for a in answers] == [9, 9]  # one per link, the last answer kept
    assert all(a.drivers == {"delivery": 5} for a in answers)
