"""Member sign-in: codes expire, work once, refuse after 5 wrong tries, say nothing about
whether an address is a member's; member and staff credentials stay apart."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from patron.core.services import token_create
from patron.members.errors import CODE_INVALID, TOO_MANY_TRIES
from patron.members.models import MemberSession, SignInCode
from patron.members.notify import template_get
from patron.messaging.models import OutboxMessage

pytestmark = pytest.mark.django_db
JSON = "application/json"


def _shape(sql: str) -> str:
    """A statement without its values and savepoint names."""
    sql = re.sub(r"'[^']*'|\b[sx]?\d+\w*|\bNULL\b", "?", sql)
    return sql.replace("IS ?", "= ?")


def _code(client: Client, email: str) -> Any:
    return client.post("/api/v1/member/code", {"email": email}, content_type=JSON)


def _session(client: Client, email: str, code: str) -> Any:
    return client.post("/api/v1/member/session", {"email": email, "code": code}, content_type=JSON)


def test_a_code_signs_in_once(bearer: Any, code_of: Any, member_with: Any) -> None:
    # given a member who asked for a code
    member_with("A1")
    client = Client()
    assert _code(client, "a1@example.com").status_code == 202
    code = code_of("a1@example.com")
    # when the code is used, then used again
    first = _session(client, "a1@example.com", code)
    again = _session(client, "a1@example.com", code)
    # then the first gives a token that opens /me and the replay is refused
    assert first.status_code == 200
    body = first.json()
    assert set(body) == {"token", "expires_at"} and body["token"].startswith("pm_")
    me = client.get("/api/v1/member/me", headers=bearer(body["token"]))
    assert me.status_code == 200
    assert set(me.json()) == {
        "card_number", "tier", "points_balance", "points_pending", "expiring", "next_tier"
    }  # fmt: skip
    assert again.status_code == 401 and again.json()["message"] == str(CODE_INVALID)
    # and neither the code nor the token is stored in clear
    row = SignInCode.objects.get()
    assert code not in row.code_hash and row.used_at is not None
    assert not MemberSession.objects.filter(token_hash=body["token"]).exists()


def test_an_expired_code_is_refused(code_of: Any, member_with: Any) -> None:
    member_with("A2")
    client = Client()
    _code(client, "a2@example.com")
    code = code_of("a2@example.com")
    # when 10 minutes have passed
    SignInCode.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    answer = _session(client, "a2@example.com", code)
    # then the code no longer works
    assert answer.status_code == 401 and answer.json()["code"] == "members.code_invalid"
    assert not MemberSession.objects.exists()


def test_five_wrong_tries_then_429_even_for_the_right_code(code_of: Any, member_with: Any) -> None:
    member_with("A3")
    client = Client()
    _code(client, "a3@example.com")
    code = code_of("a3@example.com")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    # when 5 wrong codes are tried
    answers = [_session(client, "a3@example.com", wrong).status_code for _ in range(5)]
    # then each is 401, and after them even the right code gets 429
    assert answers == [401] * 5
    last = _session(client, "a3@example.com", code)
    assert last.status_code == 429 and last.json()["message"] == str(TOO_MANY_TRIES)
    assert not MemberSession.objects.exists()


def test_codes_per_address_per_hour_are_limited(member_with: Any) -> None:
    member_with("A4")
    client = Client()
    answers = [_code(client, "a4@example.com").status_code for _ in range(8)]
    # every answer is 202, but only 5 codes were written and mailed
    assert answers == [202] * 8
    assert SignInCode.objects.count() == 5
    assert OutboxMessage.objects.filter(key__startswith="member.code:").count() == 5


def test_no_enumeration_members_and_strangers_get_the_same_answer(member_with: Any) -> None:
    # given a member and a stranger (and the code template in place, as after the first use)
    member_with("A5")
    template_get("code")
    client = Client()
    # when both ask for a code (and the database work is counted)
    with CaptureQueriesContext(connection) as member_queries:
        for_member = _code(client, "a5@example.com")
    with CaptureQueriesContext(connection) as stranger_queries:
        for_stranger = _code(client, "nobody@example.com")
    # then status, body and headers are the same
    assert for_member.status_code == for_stranger.status_code == 202
    assert for_member.content == for_stranger.content
    assert sorted(for_member.headers) == sorted(for_stranger.headers)
    # and the work is the same: one code row each, the same reads and the same message
    # rendering; the member's only extra work is queuing the message in the outbox (sent
    # later by the worker, outside the request)
    assert SignInCode.objects.count() == 2
    member_sql = Counter(_shape(q["sql"]) for q in member_queries.captured_queries)
    stranger_sql = Counter(_shape(q["sql"]) for q in stranger_queries.captured_queries)
    assert not stranger_sql - member_sql  # every statement of the stranger's, the member's too
    extra = member_sql - stranger_sql
    assert any(q.startswith('INSERT INTO "messaging_outboxmessage"') for q in extra)
    assert all(
        "outboxmessage" in q or "_check" in q or "SAVEPOINT" in q or '"customers_customer"' in q
        for q in extra
    ), extra
    # and a session for the stranger fails exactly like a wrong code for a member
    stranger = _session(client, "nobody@example.com", "123456")
    assert stranger.status_code == 401 and stranger.json()["message"] == str(CODE_INVALID)
    unknown = _session(client, "never-asked@example.com", "123456")
    assert unknown.content == stranger.content


def test_member_and_staff_credentials_are_kept_apart(
    bearer: Any, member_with: Any, sign_in: Any, make_user: Any
) -> None:
    # given a member token and a staff admin's API token and session
    member_with("A6")
    member_token = sign_in("a6@example.com")
    make_user("boss", "admin")
    _, staff_token = token_create(username="boss")
    # then the member token opens no staff endpoint
    client = Client()
    for url in (
        "/api/v1/customers",
        "/api/v1/loyalty/members/8600000000000001",
        "/api/v1/loyalty/codes/NOCODE",
    ):
        answer = client.get(url, headers=bearer(member_token))
        assert answer.status_code == 401, (url, answer.status_code)
    # and no staff page (the member is not a Django user)
    client.cookies["patron_member"] = member_token
    assert client.get("/").status_code == 302 and "/login/" in client.get("/")["Location"]
    # and staff credentials open no member endpoint, nor the portal
    assert client.get("/api/v1/member/me", headers=bearer(staff_token)).status_code == 401
    staff = Client()
    staff.force_login(make_user("mia", "marketing"))
    assert staff.get("/api/v1/member/me").status_code == 401
    portal = staff.get("/member/")
    assert portal.status_code == 302 and portal["Location"].startswith("/member/login/")
    # and a signed-out member token stops working
    assert (
        client.delete("/api/v1/member/me/session", headers=bearer(member_token)).status_code == 204
    )
    assert client.get("/api/v1/member/me", headers=bearer(member_token)).status_code == 401
