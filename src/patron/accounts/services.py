"""Writes over users: give a user a role."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, Group
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from patron.accounts.roles import ROLE_ADMIN, ROLE_NAMES
from patron.core.errors import PatronError

UNKNOWN_ROLE = _("Unknown role %(role)r; choose one of: %(roles)s.")


@transaction.atomic
def user_role_set(*, user: AbstractBaseUser, role: str) -> AbstractBaseUser:
    """Make ``role`` the user's only role; admins may also use the Django admin.

    Raises
    ------
    PatronError
        ``role`` is not one of admin, marketing, service, analyst.
    """
    if role not in ROLE_NAMES:
        message = UNKNOWN_ROLE % {"role": role, "roles": ", ".join(ROLE_NAMES)}
        raise PatronError(str(message), code="unknown_role")
    group = Group.objects.get(name=role)
    user.groups.remove(*user.groups.filter(name__in=ROLE_NAMES))  # type: ignore[attr-defined]
    user.groups.add(group)  # type: ignore[attr-defined]
    user.is_staff = role == ROLE_ADMIN  # type: ignore[attr-defined]
    user.save(update_fields=["is_staff"])
    return user
