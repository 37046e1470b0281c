"""In a real browser (Debian's Chromium), at a phone's 390 px in English and at 1280 px in
Chinese: a member asks for a code, which arrives through a real SMTP server (aiosmtpd), signs
in, sees balance and tier, redeems a reward with confirmation, sees the statement change, and
unsubscribes from the link in the notification that followed, without signing in."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from patron.customers.models import Customer
from patron.loyalty import services as loyalty
from patron.loyalty.models import Reward, Tier
from patron.messaging.dispatch import outbox_dispatch
from patron.messaging.models import Unsubscribe

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

TEXT = {
    "en": {"send": "Send me a code", "sign_in": "Sign in", "tier": "Gold", "redeem": "Redeem",
           "yes": "Yes, redeem", "done": "Redeemed", "unsubscribe": "Unsubscribe",
           "stopped": "no more messages of this kind"},
    "zh-hans": {"send": "发送验证码", "sign_in": "登录", "tier": "金卡", "redeem": "兑换",
                "yes": "确认兑换", "done": "兑换成功", "unsubscribe": "退订",
                "stopped": "不再收到此类消息"},
}  # fmt: skip


@pytest.fixture
def member() -> Any:
    programme = loyalty.programme_get()
    programme.tiers_enabled = True
    programme.save()
    gold = Tier.objects.create(programme=programme, code="gold", name_en="Gold", name_zh="金卡",
                               rank=0, threshold=0)  # fmt: skip
    Customer.objects.create(external_id="P1", name="王芳", email="fang@example.com")
    m = loyalty.member_enrol(customer_id="P1", enrolled_at=timezone.now() - dt.timedelta(days=30))
    m.tier = gold
    m.save()
    loyalty.points_grant(customer_id=m.customer_id, points=350, reason="gift", source="gift:P1")
    Reward.objects.create(code="mug", name_en="Mug", name_zh="马克杯", points_cost=100)
    return m


@pytest.mark.parametrize(("width", "language"), [(390, "en"), (1280, "zh-hans")])
def test_member_signs_in_redeems_and_unsubscribes(
    member: Any, smtp_server: Any, live_server: Any, page: Any, screenshot_dir: Path,
    width: int, language: str,
) -> None:  # fmt: skip
    from playwright.sync_api import expect

    words = TEXT[language]
    base = live_server.url
    page.set_extra_http_headers({"Accept-Language": language})
    page.set_viewport_size({"width": width, "height": 900})

    def shot(name: str) -> None:
        path = screenshot_dir / f"member-portal-{width}-{language}-{name}.png"
        page.screenshot(path=str(path), full_page=True)

    # the code goes out through the outbox to the SMTP server
    page.goto(f"{base}/member/")
    page.fill("input[name=email]", "fang@example.com")
    page.click(f"text={words['send']}")
    outbox_dispatch()
    mail = smtp_server.messages[-1]["message"]
    assert smtp_server.messages[-1]["to"] == ["fang@example.com"]
    code = re.search(r"\b(\d{6})\b", mail.get_body(("plain",)).get_content()).group(1)  # type: ignore[union-attr]
    page.fill("input[name=code]", code)
    page.click(f"button:has-text('{words['sign_in']}')")
    # balance and tier, and no page wider than the screen
    expect(page.locator("[data-balance]")).to_have_text("350")
    expect(page.locator("[data-tier]")).to_have_text(words["tier"])
    expect(page.locator(".p-qr svg")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot("1-card")
    # redeem with confirmation
    page.goto(f"{base}/member/rewards/")
    page.click(f".p-rewards a:has-text('{words['redeem']}')")
    shot("2-confirm")
    page.click(f"button:has-text('{words['yes']}')")
    expect(page.locator(".p-msg")).to_contain_text(words["done"])
    expect(page.locator("[data-code]")).to_have_count(1)
    # the statement changed
    page.goto(f"{base}/member/statement/")
    expect(page.locator("[data-balance]")).to_have_text("250")
    expect(page.locator("[data-entry]").first).to_contain_text("-100")
    shot("3-statement")
    # the redemption notification arrives, in the member's language, with its link
    outbox_dispatch()
    notice = [m for m in smtp_server.messages if "member.redeemed" in m["key"]]
    assert len(notice) == 1
    body = notice[0]["message"].get_body(("plain",)).get_content()
    link = re.search(r"https?://\S+/m/u/\S+/", body).group(0)  # type: ignore[union-attr]
    # unsubscribe without signing in (a fresh browser context: no cookies)
    context = page.context.browser.new_context(
        viewport={"width": width, "height": 900}, extra_http_headers={"Accept-Language": language}
    )
    other = context.new_page()
    other.goto(base + link[link.index("/m/u/") :])
    other.click(f"button:has-text('{words['unsubscribe']}')")
    expect(other.locator("#unsubscribed")).to_contain_text(words["stopped"])
    other.screenshot(path=str(screenshot_dir / f"member-portal-{width}-{language}-4-unsub.png"))
    context.close()
    assert list(Unsubscribe.objects.values_list("customer_id", "topic")) == [
        (member.customer_id, "member.redeemed")
    ]
