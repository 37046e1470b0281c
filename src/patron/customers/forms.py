"""Forms of the web pages: list filters, profile edit, a new interaction or note."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from patron.core.quick_forms import QUICK_RENDERER
from patron.customers.models import Channel, Customer, Gender, InteractionKind

PHONE_INVALID = _("Enter a mobile number (11 digits starting with 1) or +country code.")
TAGS_HELP = _("Separate tags with commas.")

SORT_CHOICES = [
    ("id", _("Customer id")),
    ("-id", _("Customer id, descending")),
    ("name", _("Name")),
    ("-name", _("Name, descending")),
    ("newest", _("Newest first")),
    # by a figure of the latest analysis run (customers/values.py)
    ("tier", _("Value tier, highest first")),
    ("-tier", _("Value tier, lowest first")),
    ("segment", _("Segment, most valuable first")),
    ("revenue", _("Revenue, highest first")),
    ("-revenue", _("Revenue, lowest first")),
    ("profit", _("Profit, highest first")),
    ("-profit", _("Profit, lowest first")),
    ("last_purchase", _("Last purchase, most recent first")),
    ("-last_purchase", _("Last purchase, longest ago first")),
    ("orders", _("Orders, most first")),
    ("clv", _("CLV, highest first")),
    ("-clv", _("CLV, lowest first")),
    ("-p_alive", _("P(alive), lowest first")),
    ("p_alive", _("P(alive), highest first")),
    ("risk", _("Churn risk, highest first")),
]


class CustomerFilterForm(forms.Form):
    # twenty widgets and labels on every list page: written in Python, not through templates
    default_renderer = QUICK_RENDERER

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={"placeholder": _("Name, phone, email or id"), "type": "search"}
        ),
    )
    region = forms.ChoiceField(label=_("Region"), required=False)
    acquisition_channel = forms.ChoiceField(label=_("Acquisition channel"), required=False)
    tag = forms.CharField(label=_("Tag"), required=False, max_length=100)
    consent = forms.ChoiceField(
        label=_("Consent"),
        required=False,
        choices=[("", _("Any")), *[(c.value, c.label) for c in Channel]],
    )
    value_tier = forms.ChoiceField(label=_("Value tier"), required=False)
    segment = forms.ChoiceField(label=_("Segment"), required=False)
    risk_level = forms.ChoiceField(label=_("Churn risk"), required=False)
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=SORT_CHOICES)
    # A saved segment of the campaigns app ("open in the customer list").
    saved_segment = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    revenue_min = forms.DecimalField(label=_("Revenue from"), required=False, decimal_places=2)
    revenue_max = forms.DecimalField(label=_("Revenue to"), required=False, decimal_places=2)
    profit_min = forms.DecimalField(label=_("Profit from"), required=False, decimal_places=2)
    profit_max = forms.DecimalField(label=_("Profit to"), required=False, decimal_places=2)
    clv_min = forms.DecimalField(label=_("CLV from"), required=False, decimal_places=2)
    clv_max = forms.DecimalField(label=_("CLV to"), required=False, decimal_places=2)
    orders_min = forms.IntegerField(label=_("Orders from"), required=False, min_value=0)
    orders_max = forms.IntegerField(label=_("Orders to"), required=False, min_value=0)
    p_alive_min = forms.IntegerField(
        label=_("P(alive) from (%)"), required=False, min_value=0, max_value=100
    )
    p_alive_max = forms.IntegerField(
        label=_("P(alive) to (%)"), required=False, min_value=0, max_value=100
    )
    last_purchase_from = forms.DateField(
        label=_("Last purchase from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    last_purchase_to = forms.DateField(
        label=_("Last purchase to"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    RANGE_FIELDS = (
        "revenue_min",
        "revenue_max",
        "profit_min",
        "profit_max",
        "clv_min",
        "clv_max",
        "orders_min",
        "orders_max",
        "p_alive_min",
        "p_alive_max",
        "last_purchase_from",
        "last_purchase_to",
    )

    def __init__(self, *args: Any, regions: list[str], channels: list[str], **kwargs: Any) -> None:
        from patron.analytics.churn import LEVEL_LABELS
        from patron.analytics.segments import SEGMENTS
        from patron.analytics.tiers import TIERS

        super().__init__(*args, **kwargs)
        language = "zh-hans" if get_language() == "zh-hans" else "en"
        self.fields["region"].choices = [("", _("All")), *[(r, r) for r in regions]]
        self.fields["acquisition_channel"].choices = [("", _("All")), *[(c, c) for c in channels]]
        # Tier, segment and risk come from the latest analysis run.
        self.fields["value_tier"].choices = [
            ("", _("All")),
            *[(t.code, t.label[language]) for t in TIERS],
        ]
        self.fields["segment"].choices = [
            ("", _("All")),
            *[(s.code, s.label[language]) for s in SEGMENTS],
        ]
        self.fields["risk_level"].choices = [
            ("", _("All")),
            *[(code, label[language]) for code, label in LEVEL_LABELS.items()],
        ]

    def range_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.RANGE_FIELDS]

    def filters(self) -> dict[str, Any]:
        """Arguments for ``selectors.customer_filter``: an invalid field (an unknown choice, a
        search too long) is left out and shows its error; the valid ones still apply."""
        self.is_valid()
        data = self.cleaned_data
        return {
            "search": data.get("q", ""),
            "region": data.get("region", ""),
            "acquisition_channel": data.get("acquisition_channel", ""),
            "tag": data.get("tag", ""),
            "consent": data.get("consent", ""),
            "value_tier": data.get("value_tier", ""),
            "segment": data.get("segment", ""),
            "risk_level": data.get("risk_level", ""),
            "saved_segment": data.get("saved_segment"),
            "ranges": {name: data.get(name) for name in self.RANGE_FIELDS},
        }

    def sort_key(self) -> str:
        self.is_valid()
        return self.cleaned_data.get("sort") or "id"


def _split_tags(value: str) -> list[str]:
    parts = value.replace("，", ",").split(",")
    return sorted({part.strip() for part in parts if part.strip()})


class CustomerProfileForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    phone = forms.CharField(label=_("Phone number"), max_length=32, required=False)
    email = forms.EmailField(label=_("Email"), max_length=254, required=False)
    gender = forms.ChoiceField(label=_("Gender"), choices=Gender.choices)
    birth_date = forms.DateField(
        label=_("Birth date"),
        required=False,
        # A date input only takes ISO dates: the locale's format (1989/02/26 in Chinese)
        # would show an empty field, and saving it would erase the birth date.
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    region = forms.CharField(label=_("Region"), max_length=64, required=False)
    city = forms.CharField(label=_("City"), max_length=64, required=False)
    occupation = forms.CharField(label=_("Occupation"), max_length=64, required=False)
    company = forms.CharField(label=_("Company"), max_length=200, required=False)
    acquisition_channel = forms.CharField(
        label=_("Acquisition channel"), max_length=64, required=False
    )
    tags = forms.CharField(label=_("Tags"), required=False, help_text=TAGS_HELP)

    FIELDS = (
        "name",
        "phone",
        "email",
        "gender",
        "birth_date",
        "region",
        "city",
        "occupation",
        "company",
        "acquisition_channel",
    )

    @classmethod
    def for_customer(cls, customer: Customer, data: Any = None) -> CustomerProfileForm:
        initial = {name: getattr(customer, name) for name in cls.FIELDS}
        initial["tags"] = ", ".join(customer.tags or [])
        return cls(data=data, initial=initial)

    def clean_phone(self) -> str:
        from patron.customers.services import phone_normalise_for_form

        try:
            return phone_normalise_for_form(self.cleaned_data["phone"])
        except ValidationError:
            raise ValidationError(PHONE_INVALID, code="invalid_phone") from None

    def clean_tags(self) -> list[str]:
        return _split_tags(self.cleaned_data["tags"])

    def changes(self, customer: Customer) -> dict[str, Any]:
        """The cleaned fields whose value differs from the record."""
        wanted = {name: self.cleaned_data[name] for name in (*self.FIELDS, "tags")}
        return {k: v for k, v in wanted.items() if getattr(customer, k) != v}


class InteractionForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"), choices=InteractionKind.choices, initial=InteractionKind.NOTE
    )
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=[("", "—"), *Channel.choices]
    )
    text = forms.CharField(
        label=_("Text"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    occurred_at = forms.DateTimeField(
        label=_("When"),
        required=False,
        help_text=_("Leave empty for now."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
