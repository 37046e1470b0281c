"""Five failed sign-ins for one user name from one address: the sixth try is refused."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from patron.accounts.throttle import signin_failure_record, signin_is_throttled

pytestmark = pytest.mark.django_db

PASSWORD = "Patron-Test-Pass-2024"


def _sign_in(client: Client, username: str, password: str, ip: str = "10.0.0.1") -> Any:
    return client.post(
        "/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def test_five_failures_lock_the_user_name_even_with_the_right_password(make_user: Any) -> None:
    # given
    make_user("alice", "admin", password=PASSWORD)
    client = Client()
    # when
    for _ in range(5):
        assert _sign_in(client, "alice", "wrong").status_code == 200
    refused = _sign_in(client, "alice", PASSWORD)
    # then
    assert refused.status_code == 429
    assert "Too many failed sign-ins" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    # another address, or another user name, is not affected
    assert _sign_in(Client(), "alice", PASSWORD, ip="10.0.0.2").status_code == 302


def test_the_refusal_is_in_chinese_for_a_chinese_browser(make_user: Any) -> None:
    make_user("alice", "admin", password=PASSWORD)
    client = Client(headers={"accept-language": "zh-hans"})
    for _ in range(5):
        _sign_in(client, "alice", "wrong")
    page = _sign_in(client, "alice", PASSWORD).content.decode()
    assert "登录失败次数过多" in page


def test_a_success_clears_the_count(make_user: Any) -> None:
    make_user("alice", "admin", password=PASSWORD)
    for _ in range(4):
        _sign_in(Client(), "alice", "wrong")
    assert _sign_in(Client(), "alice", PASSWORD).status_code == 302
    for _ in range(4):
        _sign_in(Client(), "alice", "wrong")
    assert _sign_in(Client(), "alice", PASSWORD).status_code == 302


def test_counts_ignore_case_of_the_user_name() -> None:
    for _ in range(5):
        signin_failure_record(username="Alice", ip="1.2.3.4")
    assert signin_is_throttled(username="alice ", ip="1.2.3.4")
    assert not signin_is_throttled(username="alice", ip="1.2.3.5")
