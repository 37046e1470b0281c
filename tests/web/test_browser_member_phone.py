"""Every member portal page on a phone (390 x 844) in a real browser, in English and in
Chinese: none is wider than the screen (no sideways scrolling of the whole page) and none
logs a console error. One browser context walks all pages, signed out and signed in, with
long names, reasons and answers to stretch them. (The sign-in journey itself is in
test_browser_member_portal.py; staff pages are in test_browser_phone.py.)"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from patron.customers.models import Customer
from patron.loyalty import services as loyalty
from patron.loyalty.models import Question, Reward, Tier
from patron.members.services import member_redeem
from patron.messaging.models import OutboxMessage
from patron.messaging.policy import unsubscribe_url
from patron.sales.models import Order

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

WIDTH = 390
SIGNED_OUT = ("/member/login/",)
SIGNED_IN = (
    "/member/",
    "/member/statement/",
    "/member/rewards/",
    "/member/rewards/{reward}/",
    "/member/friends/",
    "/member/orders/",
    "/member/preferences/",
    "/member/consents/",
    "/member/data/",
)
LONG = "Wochenend-Frühstücksgutschein für zwei Personen im Stammhaus am Marktplatz"


@pytest.fixture
def busy_member() -> Any:
    """A member with something on every page: tiers and the next one, points expiring, a
    long statement, rewards (one redeemed, with its code), a friend, orders and a return,
    questionnaire questions."""
    programme = loyalty.programme_get()
    programme.tiers_enabled = True
    programme.save()
    Tier.objects.create(programme=programme, code="silver", name_en="Silver", name_zh="银卡",
                        rank=0, threshold=0)  # fmt: skip
    Tier.objects.create(programme=programme, code="platinum", name_en="Platinum Plus Elite",
                        name_zh="白金尊享", rank=1, threshold=50000)  # fmt: skip
    Customer.objects.create(external_id="W1", name="Maximiliane Oberhauser-Königsberg",
                            email="maximiliane.oberhauser-koenigsberg@example.com")  # fmt: skip
    enrolled = timezone.now() - dt.timedelta(days=90)
    member = loyalty.member_enrol(customer_id="W1", enrolled_at=enrolled)
    Customer.objects.create(external_id="W2", name="张伟", email="w2@example.com")
    loyalty.member_enrol(customer_id="W2", referral_code=member.referral_code)
    for k in range(12):
        loyalty.points_grant(customer_id=member.customer_id, points=1000 + k,
                             reason=f"{LONG} {k}", source=f"w:{k}")  # fmt: skip
    reward = Reward.objects.create(code="brunch", name_en=LONG, points_cost=100,
                                   name_zh="周末双人早午餐券（市场广场总店）")  # fmt: skip
    Reward.objects.create(code="tv", name_en="Television 65 inch", name_zh="电视",
                          points_cost=900000)  # fmt: skip
    member_redeem(member=member, reward_id=reward.pk, idempotency_key="w-r1")
    today = timezone.localdate()
    for k, status in enumerate(("completed", "open", "refunded", "returned")):
        Order.objects.create(customer=member.customer, external_id=f"ORDER-2026-{k:012d}",
                             ordered_at=timezone.now(), ordered_on=today,
                             amount=Decimal("-129.90" if status == "returned" else "12999.90"),
                             status=status)  # fmt: skip
    Question.objects.create(key="favourite_store", text_en=f"Which store do you visit most? {LONG}",
                            text_zh="您最常去哪家门店？", kind="single",
                            choices=[LONG, "Bahnhofstraße"])  # fmt: skip
    Question.objects.create(key="interests", text_en="Interests", text_zh="兴趣", kind="multiple",
                            choices=["coffee", "baking", "wine"])  # fmt: skip
    return member, reward


def _code(email: str) -> str:
    import re

    message = OutboxMessage.objects.filter(recipient=email, key__startswith="member.code:")
    body = message.order_by("-pk").values_list("body_text", flat=True).first()
    found = re.search(r"\b(\d{6})\b", body or "")
    assert found, f"no code to {email}"
    return found.group(1)


def test_every_portal_page_fits_a_phone_without_console_errors(
    busy_member: Any, live_server: Any, browser: Any, screenshot_dir: Path
) -> None:
    member, reward = busy_member
    email = member.customer.email
    base = live_server.url
    unsubscribe = unsubscribe_url(customer_id=member.customer_id, channel="", topic="member.tier")
    unsubscribe = unsubscribe[unsubscribe.index("/m/u/") :]
    context = browser.new_context(viewport={"width": WIDTH, "height": 844})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(f"{page.url}: {m.text}"))
    page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))
    too_wide: dict[str, int] = {}
    seen: dict[str, str] = {}

    def check(language: str, label: str) -> None:
        scroll, client = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        seen[f"{language} {label}"] = page.evaluate("document.documentElement.lang")
        if scroll > client:
            too_wide[f"{language} {label}"] = scroll
            name = f"member-phone-{language}-{label.strip('/').replace('/', '-') or 'home'}"
            page.screenshot(path=str(screenshot_dir / f"{name}.png"), full_page=True)

    # when each page opens, signed out and signed in, in English and in Chinese
    for language in ("en", "zh-hans"):
        context.clear_cookies()
        context.add_cookies([{"name": "django_language", "value": language, "url": base}])
        page.set_extra_http_headers({"Accept-Language": language})
        for path in (*SIGNED_OUT, unsubscribe):
            page.goto(base + path)
            check(language, "unsubscribe" if path == unsubscribe else path)
        page.goto(f"{base}/member/login/")
        page.fill("input[name=email]", email)
        page.click("form.p-form button.p-primary")
        page.wait_for_selector("input[name=code]")
        check(language, "code")
        page.fill("input[name=code]", _code(email))
        page.click("form.p-form button.p-primary")
        page.wait_for_url(f"{base}/member/")
        for path in SIGNED_IN:
            page.goto(base + path.format(reward=reward.pk))
            assert page.url.startswith(base + "/member/") and "/login/" not in page.url, page.url
            check(language, path)

    # then every page was in its language, none wider than the phone, no console error
    context.close()
    assert {k: v for k, v in seen.items() if not v.startswith(k.split()[0][:2])} == {}
    assert len(seen) == 2 * (len(SIGNED_OUT) + 2 + len(SIGNED_IN))
    assert too_wide == {}, f"wider than {WIDTH}px: {too_wide}"
    assert errors == []
