"""Roles are groups with permissions, created by a migration and kept in step with the code."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from typer.testing import CliRunner

from patron.accounts.roles import ROLE_NAMES
from patron.accounts.services import user_role_set
from patron.core.errors import PatronError

pytestmark = pytest.mark.django_db


def _codes(role: str) -> set[str]:
    group = Group.objects.get(name=role)
    return {
        f"{p.content_type.app_label}.{p.codename}"
        for p in group.permissions.select_related("content_type")
    }


def test_the_four_roles_exist_with_their_permissions() -> None:
    # given the migrated database
    # then
    assert set(Group.objects.values_list("name", flat=True)) >= set(ROLE_NAMES)
    assert len(_codes("admin")) == Permission.objects.count()
    marketing, service, analyst = _codes("marketing"), _codes("service"), _codes("analyst")
    assert {
        "accounts.manage_campaigns",
        "accounts.manage_segments",
        "accounts.manage_loyalty",
        "customers.change_customer",
        "accounts.export_customers",
    } <= marketing
    assert "accounts.manage_tickets" not in marketing and "auth.change_user" not in marketing
    assert {
        "customers.add_interaction",
        "accounts.manage_tickets",
        "accounts.see_full_phone",
    } <= service
    assert "accounts.export_customers" not in service
    assert "accounts.export_customers" in analyst and "accounts.see_full_phone" not in analyst
    writes = {c for c in analyst if not c.split(".")[1].startswith("view_")}
    assert writes == {"accounts.export_customers"}
    assert not any(c.startswith(("auth.", "core.")) for c in analyst)


def test_a_user_has_one_role_and_only_admins_reach_the_admin_site(make_user: Any) -> None:
    user = make_user("mia", "marketing")
    user_role_set(user=user, role="admin")
    assert list(user.groups.values_list("name", flat=True)) == ["admin"] and user.is_staff
    user_role_set(user=user, role="analyst")
    assert list(user.groups.values_list("name", flat=True)) == ["analyst"]
    assert not user.is_staff
    with pytest.raises(PatronError) as refused:
        user_role_set(user=user, role="boss")
    assert refused.value.code == "unknown_role"


def test_createuser_with_a_role(django_user_model: Any) -> None:
    from patron.cli.app import app

    result = CliRunner().invoke(
        app, ["createuser", "sam", "--role", "service", "--password", "Patron-Test-Pass-2024"]
    )
    assert result.exit_code == 0, result.output
    user = django_user_model.objects.get(username="sam")
    assert user.has_perm("customers.add_interaction")
    assert not user.has_perm("accounts.export_customers")
    refused = CliRunner().invoke(
        app, ["createuser", "bob", "--role", "boss", "--password", "Patron-Test-Pass-2024"]
    )
    assert refused.exit_code == 1 and "Unknown role" in refused.output
    assert not django_user_model.objects.filter(username="bob").exists()


def test_createuser_refuses_an_unknown_role_before_asking_for_a_password(
    django_user_model: Any,
) -> None:
    from patron.cli.app import app

    # when no password is given, so one would be asked for
    result = CliRunner().invoke(app, ["createuser", "bob", "--role", "boss"], input="")

    # then the role is refused first, and nothing is asked
    assert result.exit_code == 1
    assert "Password" not in result.output
    assert "Error: Unknown role 'boss'; choose one of: admin, marketing, service, analyst." in (
        result.output
    )
    assert not django_user_model.objects.filter(username="bob").exists()


def test_createuser_lists_every_reason_a_password_is_refused(django_user_model: Any) -> None:
    from patron.cli.app import app

    result = CliRunner().invoke(app, ["createuser", "bob", "--password", "123"])

    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert "Invalid: This password is too short. It must contain at least 8 characters. " in text
    assert ".;" not in text
    assert not django_user_model.objects.filter(username="bob").exists()


def test_the_demo_user_is_an_admin() -> None:
    from django.contrib.auth import get_user_model

    from patron.demo.loader import DEMO_USER, _demo_user

    _demo_user()
    user = get_user_model().objects.get(username=DEMO_USER)
    assert list(user.groups.values_list("name", flat=True)) == ["admin"]
    assert user.has_perm("accounts.manage_settings") and user.is_staff
