"""The portal's forms (sign-in, preferences, consents)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class EmailForm(forms.Form):
    email = forms.EmailField(label=_("Your e-mail address"), max_length=254)


class CodeForm(forms.Form):
    email = forms.EmailField(widget=forms.HiddenInput, max_length=254)
    code = forms.CharField(
        label=_("The 6-digit code we sent you"),
        max_length=6,
        min_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


def topic_label(topic: str) -> Any:
    labels = {
        "member.welcome": _("Welcome message"),
        "member.tier": _("Tier changes"),
        "member.expiring": _("Points about to expire"),
        "member.redeemed": _("Rewards redeemed"),
        "member.order": _("Order status"),
        "offers": _("Offers"),
        "news": _("News"),
    }
    return labels.get(topic, topic)
