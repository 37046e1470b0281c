"""The shop's rules as forms (admin and marketing)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from patron.recommend.models import ProductRuleKind


class RecommendSettingsForm(forms.Form):
    excluded_categories = forms.CharField(
        label=_("Categories never recommended"),
        required=False,
        help_text=_("Separated by commas, e.g. gift card, services"),
    )
    margin_floor = forms.DecimalField(
        label=_("Lowest margin (share of the price)"),
        required=False,
        min_value=-1,
        max_value=1,
        decimal_places=3,
        help_text=_("0.10 leaves out items earning less than 10% of their price"),
    )
    max_per_category = forms.IntegerField(
        label=_("At most this many items of one category per list"), required=False, min_value=1
    )

    def categories(self) -> list[str]:
        text: str = self.cleaned_data.get("excluded_categories") or ""
        return [c.strip() for c in text.replace("，", ",").split(",") if c.strip()]


class ProductRuleForm(forms.Form):
    sku = forms.CharField(label=_("SKU"), max_length=64)
    kind = forms.ChoiceField(label=_("Rule"), choices=ProductRuleKind.choices)
    starts_on = forms.DateField(label=_("From"), required=False)
    ends_on = forms.DateField(label=_("Until"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("starts_on"), data.get("ends_on")
        if start and end and end < start:
            raise forms.ValidationError(_("The end date is before the start date."))
        return data


class RunForm(forms.Form):
    """Start a recommendation run from the browser."""

    as_of = forms.DateField(
        label=_("As of"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_(
            "Lines before this date are used; the last 30 days before it measure the lists."
        ),
    )
    per_list = forms.IntegerField(label=_("Items per list"), min_value=1, max_value=50, initial=10)
