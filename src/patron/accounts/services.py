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


# --- Users and roles in Settings (day1-web) -----------------------------------------------

LAST_ADMIN = _("%(user)s is the last active administrator: make someone else one first.")
NOT_YOURSELF = _("You cannot deactivate your own account.")
USERNAME_TAKEN = _("The user name %(user)s is taken.")


def _last_active_admin(user: AbstractBaseUser) -> bool:
    from django.contrib.auth import get_user_model

    admins = get_user_model().objects.filter(is_active=True, groups__name=ROLE_ADMIN)
    return admins.filter(pk=user.pk).exists() and not admins.exclude(pk=user.pk).exists()


@transaction.atomic
def user_create(
    *, username: str, email: str, role: str, password: str, actor: AbstractBaseUser | None = None
) -> AbstractBaseUser:
    """Add a user who signs in with ``password`` and holds ``role``.

    Raises
    ------
    django.core.exceptions.ValidationError
        The user name is taken or invalid, the email is invalid, or the password is too weak.
    PatronError
        Unknown role.
    """
    from django.contrib.auth import get_user_model
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    model = get_user_model()
    username = username.strip()
    if model.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": USERNAME_TAKEN % {"user": username}})
    user = model(username=username, email=email.strip())
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise ValidationError({"password": error.messages}) from None
    user.set_password(password)
    user.full_clean()
    user.save()
    return user_role_set(user=user, role=role)


@transaction.atomic
def user_role_change(*, user: AbstractBaseUser, role: str) -> AbstractBaseUser:
    """Give ``user`` another role; the last active administrator keeps theirs.

    Raises
    ------
    PatronError
        Unknown role, or ``user`` is the last active administrator.
    """
    if role != ROLE_ADMIN and _last_active_admin(user):
        message = LAST_ADMIN % {"user": user.get_username()}
        raise PatronError(str(message), code="last_admin")
    return user_role_set(user=user, role=role)


@transaction.atomic
def user_password_set(*, user: AbstractBaseUser, password: str) -> AbstractBaseUser:
    """Set a new password (an admin resetting it); the user's other sessions end.

    Raises
    ------
    django.core.exceptions.ValidationError
        The password is too weak.
    """
    from django.contrib.auth.password_validation import validate_password

    validate_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    return user


@transaction.atomic
def user_active_set(
    *, user: AbstractBaseUser, active: bool, actor: AbstractBaseUser
) -> AbstractBaseUser:
    """Deactivate (the user can no longer sign in; records they made stay) or activate again.

    Raises
    ------
    PatronError
        Deactivating oneself or the last active administrator.
    """
    if not active and user.pk == actor.pk:
        raise PatronError(str(NOT_YOURSELF), code="deactivate_self")
    if not active and _last_active_admin(user):
        message = LAST_ADMIN % {"user": user.get_username()}
        raise PatronError(str(message), code="last_admin")
    user.is_active = active  # type: ignore[attr-defined]
    user.save(update_fields=["is_active"])
    return user
