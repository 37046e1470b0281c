"""Password reset by email, with Django's views and Patron's templates, in the user's language."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Another-Patron-Pass-77"


def test_reset_mail_link_sets_a_new_password(make_user: Any, settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    user = make_user("alice", "admin", password="Old-Patron-Pass-1")
    client = Client()
    # when
    sent = client.post("/accounts/password-reset/", {"email": user.email})
    # then
    assert sent.status_code == 302 and sent["Location"] == "/accounts/password-reset/sent/"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [user.email] and "reset your password" in message.subject
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", message.body).group(1)
    form = client.get(link, follow=True)
    assert form.status_code == 200 and "new_password1" in form.content.decode()
    weak = client.post(form.redirect_chain[-1][0], {"new_password1": "123", "new_password2": "123"})
    assert weak.status_code == 200 and "too short" in weak.content.decode()
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_reset_mail_in_chinese_and_no_mail_for_unknown_address(
    make_user: Any, settings: Any
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    user = make_user("alice", "admin", password="Old-Patron-Pass-1")
    client = Client(headers={"accept-language": "zh-hans"})
    client.post("/accounts/password-reset/", {"email": user.email})
    assert "重置密码" in mail.outbox[0].subject and "链接" in mail.outbox[0].body
    unknown = client.post("/accounts/password-reset/", {"email": "nobody@example.com"})
    assert unknown.status_code == 302 and len(mail.outbox) == 1  # no hint that it is unknown


def test_email_url_settings() -> None:
    from patron.settings import email_settings

    assert email_settings("")["EMAIL_BACKEND"].endswith("console.EmailBackend")
    smtp = email_settings("smtp://mailer:s%40cret@mail.example.com:587?tls=true")
    assert (
        smtp["EMAIL_HOST"],
        smtp["EMAIL_PORT"],
        smtp["EMAIL_HOST_USER"],
        smtp["EMAIL_HOST_PASSWORD"],
        smtp["EMAIL_USE_TLS"],
    ) == ("mail.example.com", 587, "mailer", "s@cret", True)
    assert email_settings("smtps://mail.example.com")["EMAIL_USE_SSL"] is True
