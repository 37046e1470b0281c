"""Forms of the warning pages: list filters, assignment, a response."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from patron.analytics.tiers import TIERS
from patron.retention.models import LostReason, Response, RiskLevel, WarningStatus
from patron.retention.selectors import (
    OWNER_ME,
    OWNER_NOBODY,
    STATUS_ANY,
    STATUS_CLOSED,
    STATUS_OPEN,
)

PERIODS = (("", _("All time")), ("30", _("Last 30 days")), ("90", _("Last 90 days")),
           ("365", _("Last 12 months")))  # fmt: skip


class WarningFilterForm(forms.Form):
    level = forms.ChoiceField(
        label=_("Risk level"), required=False, choices=[("", _("All")), *RiskLevel.choices]
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[
            (STATUS_OPEN, _("Open or in progress")),
            *WarningStatus.choices,
            (STATUS_CLOSED, _("All closed")),
            (STATUS_ANY, _("All")),
        ],
    )
    owner = forms.ChoiceField(label=_("Owner"), required=False)
    tier = forms.ChoiceField(label=_("Value tier"), required=False)
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("value", _("Value at risk")),
            ("risk", _("Risk")),
            ("recency", _("Longest silent")),
            ("follow_up", _("Follow-up date")),
        ],
    )
    due = forms.BooleanField(label=_("Follow-up due"), required=False)
    period = forms.ChoiceField(label=_("Lost-customer analysis"), required=False, choices=PERIODS)

    def __init__(self, *args: Any, owners: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [
            ("", _("Anyone")),
            (OWNER_ME, _("Me")),
            (OWNER_NOBODY, _("Nobody yet")),
            *[(str(u.pk), u.get_username()) for u in owners],
        ]
        language = "zh-hans" if (get_language() or "en").lower().startswith("zh") else "en"
        self.fields["tier"].choices = [
            ("", _("All")),
            *[(t.code, t.label[language]) for t in TIERS],
        ]

    def value(self, name: str) -> Any:
        """The cleaned value, or the field's empty value when the form is unbound or invalid."""
        if self.is_bound and self.is_valid():
            return self.cleaned_data.get(name)
        return False if name == "due" else ""


class WarningAssignForm(forms.Form):
    owner = forms.ChoiceField(label=_("Owner"), required=False)

    def __init__(self, *args: Any, owners: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [
            ("", _("Nobody")),
            *[(str(u.pk), u.get_username()) for u in owners],
        ]


class WarningResponseForm(forms.Form):
    response = forms.ChoiceField(label=_("Response"), choices=Response.choices)
    lost_reason = forms.ChoiceField(
        label=_("Reason lost"),
        required=False,
        choices=[("", "—"), *LostReason.choices],
        help_text=_("Only when the customer is lost."),
    )
    lost_reason_text = forms.CharField(
        label=_("Reason lost, in words"), required=False, max_length=500
    )
    follow_up_on = forms.DateField(
        label=_("Follow up on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("When to call again; leave empty for none."),
    )
    note = forms.CharField(
        label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class WarningThresholdForm(forms.Form):
    share = forms.IntegerField(
        label=_(
            "Warn for the customers who make up this top share of the value at risk, in percent"
        ),
        min_value=1,
        max_value=100,
        help_text=_(
            "Largest value at risk first; 100 warns every customer of high or medium risk."
        ),
    )
    min_value = forms.DecimalField(
        label=_("And at least this value at risk each"),
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=2,
    )
    max_open = forms.IntegerField(
        label=_("At most this many open warnings"),
        required=False,
        min_value=1,
        help_text=_("Leave empty for no limit."),
    )
