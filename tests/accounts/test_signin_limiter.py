"""One sign-in limiter for every form (issue 25): the admin's failures count toward the app's
limit and the other way round, one password against many user names is stopped by address,
one user name from many addresses by name, and a lock-out holds against the right password
until the window ends."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

pytestmark = pytest.mark.django_db

PASSWORD = "Patron-Test-Pass-2024"
APP, ADMIN = "/accounts/login/", "/admin/login/"


def _sign_in(form: str, username: str, password: str, ip: str = "10.0.0.1") -> Any:
    client = Client()
    response = client.post(
        form, {"username": username, "password": password, "next": "/admin/"}, REMOTE_ADDR=ip
    )
    response.signed_in = "_auth_user_id" in client.session
    return response


def _assert_refused(response: Any) -> None:
    assert not response.signed_in
    assert "Too many failed sign-ins" in response.content.decode()


def test_the_admin_form_is_throttled_and_counts_toward_the_app(make_user: Any) -> None:
    # given an admin, and 3 wrong passwords on the admin's form and 2 on the app's
    make_user("root", "admin", password=PASSWORD)
    for _ in range(3):
        assert not _sign_in(ADMIN, "root", "wrong").signed_in
    for _ in range(2):
        assert not _sign_in(APP, "root", "wrong").signed_in
    # then both forms refuse the right password
    _assert_refused(_sign_in(ADMIN, "root", PASSWORD))
    refused = _sign_in(APP, "root", PASSWORD)
    _assert_refused(refused)
    assert refused.status_code == 429
    # when the window ends, the right password works again on both
    cache.clear()
    assert _sign_in(ADMIN, "root", PASSWORD).signed_in
    assert _sign_in(APP, "root", PASSWORD).signed_in


def test_thirty_wrong_passwords_on_the_admin_then_the_right_one_is_refused(
    make_user: Any,
) -> None:
    make_user("root", "admin", password=PASSWORD)
    for _ in range(30):
        _sign_in(ADMIN, "root", "wrong")
    _assert_refused(_sign_in(ADMIN, "root", PASSWORD))


def test_one_password_against_many_user_names_is_stopped_by_address(make_user: Any) -> None:
    # given 20 accounts tried with one password from one address
    make_user("victim", "marketing", password=PASSWORD)
    for i in range(20):
        assert not _sign_in(APP, f"user{i}", PASSWORD, ip="10.9.9.9").signed_in
    # then that address is refused even for an account whose password it now guesses
    _assert_refused(_sign_in(APP, "victim", PASSWORD, ip="10.9.9.9"))
    _assert_refused(_sign_in(ADMIN, "victim", PASSWORD, ip="10.9.9.9"))
    # other addresses are not affected
    assert _sign_in(APP, "victim", PASSWORD, ip="10.0.0.2").signed_in


def test_one_user_name_from_many_addresses_is_stopped_by_name(make_user: Any) -> None:
    make_user("alice", "marketing", password=PASSWORD)
    for i in range(20):
        _sign_in(APP if i % 2 else ADMIN, "alice", "wrong", ip=f"10.1.0.{i}")
    _assert_refused(_sign_in(APP, "alice", PASSWORD, ip="10.2.0.1"))


def test_behind_the_proxy_the_forwarded_address_is_counted(make_user: Any, settings: Any) -> None:
    settings.PATRON_TLS_PROXY = True
    make_user("alice", "marketing", password=PASSWORD)
    client = Client()
    for _ in range(5):  # all through the proxy at 127.0.0.1, from one client
        client.post(APP, {"username": "alice", "password": "x"}, HTTP_X_FORWARDED_FOR="203.0.113.9")
    # the client is locked; another client behind the same proxy is not
    locked = client.post(
        APP, {"username": "alice", "password": PASSWORD}, HTTP_X_FORWARDED_FOR="203.0.113.9"
    )
    assert locked.status_code == 429
    other = Client().post(
        APP, {"username": "alice", "password": PASSWORD}, HTTP_X_FORWARDED_FOR="198.51.100.7"
    )
    assert other.status_code == 302
