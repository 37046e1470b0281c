"""Settings > Users: an admin adds a user, changes the role, resets the password and
deactivates the user, in English and Chinese; the last administrator cannot be demoted or
deactivated. The Django admin is branded Patron and in Chinese throughout."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from patron.accounts.selectors import user_roles

pytestmark = pytest.mark.django_db
PASSWORD = "Patron-Test-Pass-2024"


def _can_sign_in(username: str, password: str) -> bool:
    return Client().login(username=username, password=password)


def test_an_admin_manages_users_in_settings(make_user: Any) -> None:
    admin = make_user("ada", "admin", password=PASSWORD)
    client = Client(headers={"accept-language": "zh-hans"})
    client.force_login(admin)
    page = client.get("/settings/users/").content.decode()
    assert "用户和角色" in page and "添加用户" in page
    # add
    response = client.post(
        "/settings/users/",
        {"username": "sam", "email": "sam@example.com", "role": "service", "password": PASSWORD},
    )
    assert response.status_code == 302
    sam = get_user_model().objects.get(username="sam")
    assert user_roles(user=sam) == ["service"] and _can_sign_in("sam", PASSWORD)
    # a weak password and a taken name are refused, with the reason in Chinese
    weak = client.post(
        "/settings/users/", {"username": "Sam", "role": "service", "password": "123"}
    )
    assert weak.status_code == 400
    assert "用户名 Sam 已被使用" in weak.content.decode()
    # change the role
    client.post(f"/settings/users/{sam.pk}/", {"action": "role", "role-role": "marketing"})
    assert user_roles(user=sam) == ["marketing"]
    # reset the password
    client.post(
        f"/settings/users/{sam.pk}/", {"action": "password", "password-password": "New-Pass-9876x"}
    )
    assert _can_sign_in("sam", "New-Pass-9876x") and not _can_sign_in("sam", PASSWORD)
    # deactivate, then activate again
    client.post(f"/settings/users/{sam.pk}/", {"action": "deactivate"})
    assert not _can_sign_in("sam", "New-Pass-9876x")
    client.post(f"/settings/users/{sam.pk}/", {"action": "activate"})
    assert _can_sign_in("sam", "New-Pass-9876x")
    # the last administrator keeps the role and stays active
    client.post(f"/settings/users/{admin.pk}/", {"action": "role", "role-role": "analyst"})
    assert user_roles(user=admin) == ["admin"]
    refused = client.post(f"/settings/users/{admin.pk}/", {"action": "deactivate"}, follow=True)
    assert "不能停用自己的账号" in refused.content.decode()
    assert get_user_model().objects.get(pk=admin.pk).is_active
    # in English too
    english = Client(headers={"accept-language": "en"})
    english.force_login(admin)
    assert "Users and roles" in english.get("/settings/users/").content.decode()
    # other roles may not
    other = Client()
    other.force_login(get_user_model().objects.get(pk=sam.pk))
    assert other.get("/settings/users/").status_code == 403


def test_the_django_admin_is_patron_and_chinese_throughout(make_user: Any) -> None:
    admin = make_user("ada", "admin", password=PASSWORD)
    client = Client(headers={"accept-language": "zh-hans"})
    client.force_login(admin)
    page = client.get("/admin/").content.decode()
    assert "Patron" in page and "Django" not in page
    text = re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)[^>]*>.*?</\1>", "", page, flags=re.S))
    words = {w.strip() for w in re.findall(r"\b[A-Za-z][A-Za-z ]{3,}\b", text)}
    english = sorted(words - {"Patron", "API"})
    assert english == [], english
