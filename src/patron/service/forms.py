"""Forms of the service pages: queue filter, new ticket, reply, resolution, survey settings."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from patron.service.models import Compensation, Priority, TicketChannel, TicketKind
from patron.service.surveys import DRIVER_LABELS


class TicketForm(forms.Form):
    customer = forms.CharField(label=_("Customer id"), max_length=64)
    kind = forms.ChoiceField(label=_("Kind"), choices=TicketKind.choices)
    category = forms.ChoiceField(label=_("Category"))
    channel = forms.ChoiceField(label=_("Channel"), choices=TicketChannel.choices)
    priority = forms.ChoiceField(
        label=_("Priority"),
        required=False,
        choices=[("", _("From the customer's value and risk")), *Priority.choices],
    )
    subject = forms.CharField(label=_("Subject"), max_length=200)
    text = forms.CharField(label=_("What the customer said"), widget=forms.Textarea, required=False)
    order = forms.CharField(label=_("Order id (optional)"), max_length=64, required=False)

    def __init__(self, *args: Any, categories: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = categories


class ReplyForm(forms.Form):
    text = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 3}))
    wait = forms.BooleanField(label=_("Wait for the customer's answer"), required=False)


class ResolveForm(forms.Form):
    resolution = forms.CharField(
        label=_("How it was resolved"), widget=forms.Textarea(attrs={"rows": 3})
    )
    compensation = forms.ChoiceField(
        label=_("Compensation"), choices=Compensation.choices, required=False
    )
    compensation_reference = forms.CharField(
        label=_("Coupon code or refund reference"), max_length=100, required=False
    )
    compensation_points = forms.IntegerField(label=_("Points"), min_value=1, required=False)


class SurveySettingsForm(forms.Form):
    active = forms.BooleanField(label=_("Send this survey"), required=False)
    every_days = forms.IntegerField(label=_("Ask a customer at most every (days)"), min_value=1)
    after_order_days = forms.IntegerField(
        label=_("Days after an order (0: on a schedule instead)"), min_value=0
    )
    link_valid_days = forms.IntegerField(label=_("Link valid for (days)"), min_value=1)
    drivers = forms.MultipleChoiceField(
        label=_("Ratings asked"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(key, labels[0]) for key, labels in DRIVER_LABELS.items()],
    )
    ask_comment = forms.BooleanField(label=_("Ask for a comment"), required=False)


def form_add_errors(form: Any, error: ValidationError) -> None:
    """Put a service's ValidationError on the form: on its fields where they exist."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def category_choices() -> list[tuple[str, str]]:
    """(code, label in the page's language) of the active categories."""
    from patron.service.selectors import category_list
    from patron.web.views.dashboard import chart_language

    language = chart_language()
    return [(c.code, c.label(language)) for c in category_list()]
