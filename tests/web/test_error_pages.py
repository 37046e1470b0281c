"""Error pages a user can meet: an expired form (CSRF) and a server error, in their language,
in Patron's own layout instead of Django's bare English and "DEBUG=True" pages."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "heading", "link"),
    [("en", "The form has expired", "Sign in"), ("zh-hans", "表单已过期", "登录")],
)
def test_an_expired_sign_in_form_explains_itself(language: str, heading: str, link: str) -> None:
    # given a sign-in form sent without its token (another tab signed in, an old page)
    client = Client(enforce_csrf_checks=True, headers={"accept-language": language})
    # when it is posted
    response = client.post("/accounts/login/", {"username": "ada", "password": "x"})
    # then the page says what happened in the user's language, with a way back
    page = response.content.decode()
    assert response.status_code == 403
    assert heading in page and link in page and 'id="csrf-failure"' in page
    assert "DEBUG" not in page and "CSRF" not in page


def test_an_expired_form_of_a_signed_in_user_leads_back_to_the_dashboard(make_user: Any) -> None:
    client = Client(enforce_csrf_checks=True, headers={"accept-language": "en"})
    client.force_login(make_user("sam", "service"))
    response = client.post("/customers/C1/interactions/", {"kind": "note", "text": "x"})
    page = response.content.decode()
    assert response.status_code == 403
    assert "The form has expired" in page and "Back to the dashboard" in page


@pytest.mark.parametrize(
    ("language", "heading"), [("en", "Something went wrong"), ("zh-hans", "出错了")]
)
def test_a_server_error_is_a_page_in_the_users_language(
    make_user: Any, monkeypatch: pytest.MonkeyPatch, language: str, heading: str
) -> None:
    # given a dashboard that fails (the store cannot be read)
    def broken() -> None:
        raise RuntimeError("the store is unreadable")

    monkeypatch.setattr("patron.web.views.dashboard.store_stats", broken)
    client = Client(raise_request_exception=False, headers={"accept-language": language})
    client.force_login(make_user("ada", "admin"))
    # when it is opened
    response = client.get("/")
    # then the user gets Patron's error page, not Django's "Server Error (500)"
    page = response.content.decode()
    assert response.status_code == 500
    assert heading in page and 'id="server-error"' in page and "Server Error (500)" not in page
