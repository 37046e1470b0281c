"""The analysis settings form: how runs score, tier and cost customers (Settings page)."""

from __future__ import annotations

import itertools
import math
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from patron.analytics.profitability import COST_SETTINGS, ProfitSettings
from patron.analytics.report import AnalysisSettings
from patron.analytics.rfm import RFMThresholds

NOT_NUMBERS = _("Enter %(count)s numbers separated by commas, e.g. %(example)s.")
NOT_ASCENDING = _("The numbers must go up from left to right.")
NOT_DESCENDING = _("The numbers must go down from left to right (very high first).")
NOT_HUNDRED = _("The five shares must add up to 100 (they add up to %(total)s).")
NOT_POSITIVE = _("Every share must be more than 0.")
NEEDED = _("Needed when scores use fixed thresholds.")
NEEDED_TIERS = _("Needed when the pyramid is cut by value.")

METHOD_CHOICES = [
    ("quintile", _("Quintiles: five equal groups of customers")),
    ("thresholds", _("Fixed thresholds (below)")),
]
VARIANT_CHOICES = [
    ("standard", _("Standard: days since the last order, orders, revenue")),
    ("b2b", _("B2B by periods: quarter of the half-year of the last order, per half-year")),
]
TIER_BY_CHOICES = [
    ("shares", _("Shares of customers, by rank")),
    ("thresholds", _("Value thresholds")),
]
_EXAMPLES = {3: "30, 90, 180", 4: "30, 90, 180, 365", 5: "1, 4, 15, 30, 50"}


def _numbers(text: str, count: int) -> list[float]:
    parts = [p for p in text.replace("，", ",").replace("、", ",").split(",") if p.strip()]
    try:
        values = [float(p.strip()) for p in parts]
    except ValueError:
        values = []
    if len(values) != count or not all(math.isfinite(v) for v in values):
        raise ValidationError(
            NOT_NUMBERS, code="numbers", params={"count": count, "example": _EXAMPLES[count]}
        )
    return values


def _text(values: Any) -> str:
    return ", ".join(f"{float(v):g}" for v in values) if values else ""


def _money(label: Any, help_text: Any = "") -> forms.DecimalField:
    return forms.DecimalField(
        label=label, min_value=Decimal(0), max_digits=12, decimal_places=2, help_text=help_text
    )


class AnalysisSettingsForm(forms.Form):
    rfm_method = forms.ChoiceField(label=_("RFM scores"), choices=METHOD_CHOICES)
    rfm_variant = forms.ChoiceField(label=_("RFM variant"), choices=VARIANT_CHOICES)
    b2b_half_years = forms.IntegerField(
        label=_("B2B window (half-years)"),
        min_value=1,
        max_value=8,
        help_text=_("Frequency and monetary of the B2B variant count this many half-years."),
    )
    recency_cuts = forms.CharField(
        label=_("Recency thresholds (days)"),
        required=False,
        help_text=_("Four numbers going up: at or below the first scores 5, above the last 1."),
    )
    frequency_cuts = forms.CharField(
        label=_("Frequency thresholds (orders)"),
        required=False,
        help_text=_("Four numbers going up: below the first scores 1, at or above the last 5."),
    )
    monetary_cuts = forms.CharField(
        label=_("Monetary thresholds (revenue)"),
        required=False,
        help_text=_("Four numbers going up, as for frequency."),
    )
    tier_by = forms.ChoiceField(label=_("Cut the value pyramid by"), choices=TIER_BY_CHOICES)
    tier_shares = forms.CharField(
        label=_("Tier shares (%)"),
        required=False,
        help_text=_("Very high, high, moderate, low, very low; they add up to 100."),
    )
    tier_thresholds = forms.CharField(
        label=_("Tier thresholds (value)"),
        required=False,
        help_text=_("The least value of very high, high, moderate and low, going down."),
    )
    default_margin_rate = forms.DecimalField(
        label=_("Default margin (%)"),
        required=False,
        min_value=Decimal(-100),
        max_value=Decimal(100),
        decimal_places=2,
        help_text=_("Margin as a share of revenue where the cost is unknown; empty: unknown."),
    )
    per_order = _money(_("Cost per order"), _("Picking, packing, payment fees."))
    per_service_contact = _money(
        _("Cost per service contact"), _("Each call, e-mail, complaint or visit recorded.")
    )
    per_message = _money(_("Cost per message"), _("Each message or survey sent."))
    per_account_per_year = _money(_("Cost per account per year"))
    acquisition = _money(_("Acquisition cost per customer"))
    lost_after_days = forms.IntegerField(
        label=_("Lost after (days without a purchase)"), min_value=1, max_value=3650
    )

    @classmethod
    def initial_from(cls, settings: AnalysisSettings) -> dict[str, Any]:
        """The form's initial values for ``settings``."""
        profit = settings.profit
        thresholds = settings.rfm_thresholds
        rate = profit.default_margin_rate
        return {
            "rfm_method": settings.rfm_method,
            "rfm_variant": settings.rfm_variant,
            "b2b_half_years": settings.b2b_half_years,
            "recency_cuts": _text(thresholds.recency if thresholds else None),
            "frequency_cuts": _text(thresholds.frequency if thresholds else None),
            "monetary_cuts": _text(thresholds.monetary if thresholds else None),
            "tier_by": "thresholds" if settings.tier_thresholds is not None else "shares",
            "tier_shares": _text([round(s * 100, 6) for s in settings.tier_shares]),
            "tier_thresholds": _text(settings.tier_thresholds),
            "default_margin_rate": None if rate is None else round(Decimal(str(rate)) * 100, 2),
            **{
                name: Decimal(str(getattr(profit, name))).quantize(Decimal("0.01"))
                for name in COST_SETTINGS
            },
            "lost_after_days": settings.lost_after_days,
        }

    def _cuts(self, name: str, count: int) -> list[float] | None:
        text = (self.cleaned_data.get(name) or "").strip()
        if not text:
            return None
        try:
            return _numbers(text, count)
        except ValidationError as error:
            self.add_error(name, error)
            return None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        cuts = {m: self._cuts(f"{m}_cuts", 4) for m in ("recency", "frequency", "monetary")}
        for measure, values in cuts.items():
            if values is not None and any(b <= a for a, b in itertools.pairwise(values)):
                self.add_error(f"{measure}_cuts", NOT_ASCENDING)
                cuts[measure] = None
        if data.get("rfm_method") == "thresholds":
            for measure, values in cuts.items():
                if values is None and not self.has_error(f"{measure}_cuts"):
                    self.add_error(f"{measure}_cuts", NEEDED)
        shares = self._cuts("tier_shares", 5)
        if shares is not None:
            if any(s <= 0 for s in shares):
                self.add_error("tier_shares", NOT_POSITIVE)
            elif abs(sum(shares) - 100) > 1e-7:
                self.add_error("tier_shares", NOT_HUNDRED % {"total": f"{sum(shares):g}"})
        elif not self.has_error("tier_shares"):
            shares = [s * 100 for s in AnalysisSettings().tier_shares]
        thresholds = self._cuts("tier_thresholds", 4)
        if thresholds is not None and any(b >= a for a, b in itertools.pairwise(thresholds)):
            self.add_error("tier_thresholds", NOT_DESCENDING)
        if (
            data.get("tier_by") == "thresholds"
            and thresholds is None
            and not self.has_error("tier_thresholds")
        ):
            self.add_error("tier_thresholds", NEEDED_TIERS)
        if self.errors:
            return data
        rfm_thresholds = None
        if all(v is not None for v in cuts.values()):
            rfm_thresholds = RFMThresholds(**{k: tuple(v) for k, v in cuts.items()})  # type: ignore[arg-type]
        rate = data.get("default_margin_rate")
        assert shares is not None
        try:
            data["settings"] = AnalysisSettings(
                rfm_method=data["rfm_method"],
                rfm_thresholds=rfm_thresholds,
                rfm_variant=data["rfm_variant"],
                b2b_half_years=data["b2b_half_years"],
                tier_shares=tuple(s / 100 for s in shares),  # type: ignore[arg-type]
                tier_thresholds=(
                    tuple(thresholds)  # type: ignore[arg-type]
                    if data["tier_by"] == "thresholds" and thresholds
                    else None
                ),
                profit=ProfitSettings(
                    default_margin_rate=None if rate is None else float(rate) / 100,
                    **{name: float(data[name]) for name in COST_SETTINGS},
                ),
                lost_after_days=data["lost_after_days"],
            )
        except ValueError as error:  # pragma: no cover - the checks above come first
            raise ValidationError(str(error)) from None
        return data
