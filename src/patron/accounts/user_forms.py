"""Forms of Settings > Users: add a user, change a role, set a new password."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from patron.accounts.roles import ROLE_NAMES

ROLE_LABELS = {
    "admin": _("Administrator"),
    "marketing": _("Marketing"),
    "service": _("Customer service"),
    "analyst": _("Analyst"),
}
ROLE_CHOICES = [(name, ROLE_LABELS[name]) for name in ROLE_NAMES]


class UserCreateForm(forms.Form):
    username = forms.CharField(label=_("User name"), max_length=150)
    email = forms.EmailField(label=_("Email"), required=False)
    role = forms.ChoiceField(label=_("Role"), choices=ROLE_CHOICES, initial="service")
    password = forms.CharField(
        label=_("Password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 8 characters, not only digits, not a common password."),
    )


class UserRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=ROLE_CHOICES)


class UserPasswordForm(forms.Form):
    password = forms.CharField(
        label=_("New password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Tell the user; they can change it after signing in."),
    )
