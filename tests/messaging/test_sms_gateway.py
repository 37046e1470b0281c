"""SMS through a real HTTP gateway (a local server): accepted, refused for good, temporarily
unavailable (retried with back-off), and nothing sent without consent."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from django.utils import timezone

from patron.customers.models import Consent, Customer
from patron.messaging.dispatch import outbox_dispatch
from patron.messaging.models import OutboxMessage
from patron.messaging.policy import contact_policy_get
from patron.messaging.services import message_enqueue

pytestmark = pytest.mark.django_db


@pytest.fixture
def gateway(settings: Any) -> Any:
    received: list[dict[str, Any]] = []
    answers = {"13800000002": 400, "13800000003": 503}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            status = answers.get(body["to"], 200)
            if status == 200:
                received.append({**body, "auth": self.headers.get("Authorization")})
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: Any) -> None:
            return None

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.PATRON_SMS_URL = f"http://127.0.0.1:{server.server_port}/send"
    settings.PATRON_SMS_TOKEN = "secret"
    try:
        yield received
    finally:
        server.shutdown()


def test_sms_gateway_answers_are_handled(gateway: list[dict[str, Any]]) -> None:
    # given four customers, one without SMS consent
    policy = contact_policy_get()
    policy.quiet_start = policy.quiet_end = 0
    policy.save()
    for i, consent in ((1, True), (2, True), (3, True), (4, False)):
        customer = Customer.objects.create(external_id=f"P{i}", phone=f"1380000000{i}")
        Consent.objects.create(customer=customer, channel="sms", granted=consent,
                               recorded_at=timezone.now())  # fmt: skip
        message_enqueue(key=f"sms-{i}", channel="sms", recipient=customer.phone, subject="",
                        body_text="您的专属优惠 回TD退订", customer_id=customer.pk,
                        purpose="marketing", topic="offers", language="zh-hans")  # fmt: skip
    # when dispatched
    result = outbox_dispatch()
    # then the gateway got one message with its key and token; the others end as they should
    assert [(m["to"], m["id"], m["auth"]) for m in gateway] == [
        ("13800000001", "sms-1", "Bearer secret")
    ]
    status = dict(OutboxMessage.objects.values_list("key", "status"))
    assert status == {"sms-1": "sent", "sms-2": "failed", "sms-3": "queued", "sms-4": "skipped"}
    assert result.retried == 1 and OutboxMessage.objects.get(key="sms-3").attempts == 1
