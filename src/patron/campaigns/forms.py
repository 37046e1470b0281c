"""Forms of the segment builder, the campaign wizard and the test send."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from patron.campaigns.models import Campaign


class SegmentForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    rules = forms.CharField(label=_("Rules (JSON)"), widget=forms.Textarea(attrs={"rows": 8}))

    def clean_rules(self) -> Any:
        try:
            return json.loads(self.cleaned_data["rules"])
        except ValueError as error:
            raise forms.ValidationError(
                _("The rules are not valid JSON: %(error)s"), params={"error": error}
            ) from None


class CampaignForm(forms.ModelForm):
    link_url = forms.URLField(label=_("Link"), required=False, assume_scheme="https")

    class Meta:
        model = Campaign
        fields = [
            "name",
            "goal",
            "segment",
            "channel",
            "topic",
            "offer",
            "offer_points",
            "offer_text",
            "link_url",
            "subject_en",
            "body_text_en",
            "body_html_en",
            "subject_zh",
            "body_text_zh",
            "body_html_zh",
            "default_language",
            "schedule",
            "scheduled_at",
            "every_days",
            "valid_days",
            "control_share",
            "attribution_days",
            "cost_per_message",
            "cost_per_redemption",
        ]
        widgets = {
            "body_text_en": forms.Textarea(attrs={"rows": 4}),
            "body_text_zh": forms.Textarea(attrs={"rows": 4}),
            "body_html_en": forms.Textarea(attrs={"rows": 3}),
            "body_html_zh": forms.Textarea(attrs={"rows": 3}),
            "scheduled_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
            "default_language": forms.Select(choices=[("zh-hans", "简体中文"), ("en", "English")]),
        }


class TestSendForm(forms.Form):
    address = forms.CharField(label=_("Send a test to"), max_length=254)
