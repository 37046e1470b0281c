"""With an SMS gateway configured (a real local HTTP server), the sign-in code and the
notifications also go to the member's mobile, once each, in the member's language."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from django.test import Client

from patron.members.models import Profile
from patron.members.notify import KINDS, notifications_scan, template_get
from patron.messaging.dispatch import outbox_dispatch

pytestmark = pytest.mark.django_db


@pytest.fixture
def sms_gateway(settings: Any) -> Any:
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: Any) -> None:
            return None

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.PATRON_SMS_URL = f"http://127.0.0.1:{server.server_port}/send"
    try:
        yield received
    finally:
        server.shutdown()


def test_code_and_notification_by_sms(sms_gateway: list[dict[str, Any]], member_with: Any) -> None:
    # given a member with a mobile number who reads Chinese (notifications on since before)
    for kind in KINDS:
        template_get(kind)
    member = member_with("T1", points=100)
    member.customer.phone = "13800000009"
    member.customer.save()
    Profile.objects.create(member=member, language="zh-hans")
    # when they ask for a code, the outbox is dispatched twice
    client = Client()
    client.post("/api/v1/member/code", {"email": "t1@example.com"}, content_type="application/json")
    outbox_dispatch()
    outbox_dispatch()
    # then the code came by SMS too, once, in Chinese, and it signs in
    assert [m["to"] for m in sms_gateway] == ["13800000009"]
    assert "验证码" in sms_gateway[0]["text"]
    code = re.search(r"\d{6}", sms_gateway[0]["text"]).group(0)  # type: ignore[union-attr]
    answer = client.post(
        "/api/v1/member/session",
        {"email": "t1@example.com", "code": code},
        content_type="application/json",
    )
    assert answer.status_code == 200
    # and a redemption's notification goes by SMS as well, once
    from patron.loyalty.models import Reward

    reward = Reward.objects.create(code="tea", name_en="Tea", name_zh="茶", points_cost=30)
    client.post(
        "/api/v1/member/me/redemptions",
        {"reward_id": reward.pk, "idempotency_key": "k"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {answer.json()['token']}"},
    )
    notifications_scan()
    outbox_dispatch()
    texts = [m["text"] for m in sms_gateway]
    assert len(texts) == 2 and "兑换" in texts[1]
