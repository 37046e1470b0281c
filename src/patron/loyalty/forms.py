"""Forms of the staff pages: member filters, enrolment, adjustment, rewards, settings."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from patron.loyalty.models import Programme, Reward, Tier


class MemberFilterForm(forms.Form):
    q = forms.CharField(label=_("Card, customer id or name"), required=False)
    tier = forms.ChoiceField(label=_("Tier"), required=False)
    referred = forms.ChoiceField(
        label=_("Referred"),
        required=False,
        choices=[("", _("All")), ("yes", _("Referred by a member")), ("no", _("Not referred"))],
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        tiers = [(t.code, t.name_en) for t in Tier.objects.order_by("-rank")]
        self.fields["tier"].choices = [("", _("All")), *tiers, ("-", _("No tier"))]  # type: ignore[attr-defined]


class EnrolForm(forms.Form):
    customer_id = forms.CharField(label=_("Customer id"), required=False, max_length=64)
    segment = forms.CharField(
        label=_("Or a segment of the latest analysis"),
        required=False,
        max_length=200,
        help_text=_("e.g. tier:very_high,high or segment:champions"),
    )
    referral_code = forms.CharField(label=_("Referral code"), required=False, max_length=12)
    id_document_type = forms.CharField(label=_("ID document"), required=False, max_length=32)
    id_document_number = forms.CharField(
        label=_("ID number"),
        required=False,
        max_length=40,
        help_text=_("Only the last 4 are kept."),
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        """Adds the admin's questionnaire (active questions) as ``answer_<key>`` fields."""
        from django.utils.translation import get_language

        from patron.loyalty.models import Question, QuestionKind

        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        chinese = (get_language() or "").startswith("zh")
        for q in Question.objects.filter(active=True):
            label = q.text_zh if chinese else q.text_en
            choices = [(c, c) for c in q.choices]
            if q.kind == QuestionKind.SINGLE:
                field: forms.Field = forms.ChoiceField(choices=[("", "—"), *choices])
            elif q.kind == QuestionKind.MULTIPLE:
                field = forms.MultipleChoiceField(
                    choices=choices, widget=forms.CheckboxSelectMultiple
                )
            elif q.kind == QuestionKind.NUMBER:
                field = forms.DecimalField()
            else:
                field = forms.CharField(max_length=200)
            field.label, field.required = label, False
            self.fields[f"answer_{q.key}"] = field

    def answers(self) -> dict[str, object]:
        """The questionnaire's answers given, by question key."""
        return {
            name.removeprefix("answer_"): (float(v) if hasattr(v, "as_tuple") else v)
            for name, v in self.cleaned_data.items()
            if name.startswith("answer_") and v not in (None, "", [])
        }

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if bool(data.get("customer_id")) == bool(data.get("segment")):
            raise forms.ValidationError(_("Give a customer id or a segment (one of them)."))
        return data


class AdjustForm(forms.Form):
    points = forms.IntegerField(label=_("Points (negative to deduct)"))
    reason = forms.CharField(label=_("Reason"), max_length=200)

    def clean_points(self) -> int:
        value = self.cleaned_data["points"]
        if value == 0:
            raise forms.ValidationError(_("Points must be other than zero."))
        return int(value)


class RewardForm(forms.ModelForm):
    class Meta:
        model = Reward
        fields = [
            "code",
            "name_en",
            "name_zh",
            "points_cost",
            "stock",
            "per_member_limit",
            "min_tier",
            "valid_from",
            "valid_until",
            "active",
        ]
        widgets = {
            "valid_from": forms.DateInput(attrs={"type": "date"}),
            "valid_until": forms.DateInput(attrs={"type": "date"}),
        }


class ProgrammeForm(forms.ModelForm):
    class Meta:
        model = Programme
        fields = [
            "name_en",
            "name_zh",
            "points_per_unit",
            "rounding",
            "day_multipliers",
            "category_multipliers",
            "bonus_min_amount",
            "bonus_points",
            "cap_points",
            "cap_period",
            "pending_days",
            "expiry_mode",
            "expiry_days",
            "cost_per_point",
            "tiers_enabled",
            "tier_basis",
            "tier_window_months",
            "downgrade_grace_days",
            "hold_minutes",
            "referral_bonus_points",
            "backfill_on_enrol",
        ]


class MigrationForm(forms.Form):
    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
