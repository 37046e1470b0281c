"""Settings > Users: admins add users, give and change roles, reset passwords, deactivate."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from patron.accounts import services
from patron.accounts.permissions import require_permission
from patron.accounts.roles import ROLE_NAMES
from patron.accounts.user_forms import (
    ROLE_LABELS,
    UserCreateForm,
    UserPasswordForm,
    UserRoleForm,
)
from patron.core.errors import PatronError

PERMISSION = "accounts.manage_users"


def _rows() -> list[dict[str, Any]]:
    users = get_user_model().objects.order_by("username").prefetch_related("groups")
    rows = []
    for user in users:
        roles = [g.name for g in user.groups.all() if g.name in ROLE_NAMES]
        rows.append(
            {
                "user": user,
                "role": roles[0] if roles else "",
                "role_label": ", ".join(str(ROLE_LABELS[r]) for r in roles) or "—",
            }
        )
    return rows


def _errors_to_form(form: Any, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


@require_permission(PERMISSION)
def user_list(request: HttpRequest) -> HttpResponse:
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            _errors_to_form(form, error)
        else:
            messages.success(request, _("Added %(user)s.") % {"user": user.get_username()})
            return redirect("web:users")
    status = 400 if request.method == "POST" else 200
    context = {"section": "settings", "rows": _rows(), "form": form}
    return render(request, "web/users/list.html", context, status=status)


def _user_or_404(user_id: int) -> Any:
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None:
        raise Http404(_("No such user."))
    return user


@require_permission(PERMISSION)
def user_detail(request: HttpRequest, user_id: int) -> HttpResponse:
    user = _user_or_404(user_id)
    roles = [g for g in user.groups.values_list("name", flat=True) if g in ROLE_NAMES]
    role_form = UserRoleForm(initial={"role": roles[0] if roles else ""}, prefix="role")
    password_form = UserPasswordForm(prefix="password")
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "role":
                role_form = UserRoleForm(request.POST, prefix="role")
                if role_form.is_valid():
                    services.user_role_change(user=user, role=role_form.cleaned_data["role"])
                    messages.success(request, _("Role changed."))
                    return redirect("web:user_detail", user.pk)
            elif action == "password":
                password_form = UserPasswordForm(request.POST, prefix="password")
                if password_form.is_valid():
                    services.user_password_set(
                        user=user, password=password_form.cleaned_data["password"]
                    )
                    messages.success(request, _("New password set."))
                    return redirect("web:user_detail", user.pk)
            elif action in ("deactivate", "activate"):
                services.user_active_set(user=user, active=action == "activate", actor=request.user)
                done = _("Deactivated.") if action == "deactivate" else _("Activated.")
                messages.success(request, done)
                return redirect("web:user_detail", user.pk)
        except ValidationError as error:
            password_form.add_error("password", error)
        except PatronError as error:
            messages.error(request, error.message)
            return redirect("web:user_detail", user.pk)
        status = 400
    context = {
        "section": "settings",
        "person": user,
        "role_label": ", ".join(str(ROLE_LABELS[r]) for r in roles) or "—",
        "role_form": role_form,
        "password_form": password_form,
    }
    return render(request, "web/users/detail.html", context, status=status)
