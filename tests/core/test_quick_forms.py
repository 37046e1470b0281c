"""The quick form renderer writes the same HTML as Django's templates (whitespace aside), for
the customer list's filter form in English and Chinese, with values and choices to escape."""

from __future__ import annotations

import re

import pytest
from django.forms.renderers import DjangoTemplates
from django.utils import translation

from patron.core.quick_forms import QUICK_RENDERER
from patron.customers.forms import CustomerFilterForm

REGIONS = ["广东", 'A&B "<north>"', "上海"]
CHANNELS = ["门店", "<script>"]


def _html(form: CustomerFilterForm) -> str:
    names = [n for n in form.fields if n not in form.RANGE_FIELDS]
    parts = [str(form[n].label_tag()) + str(form[n]) for n in names]
    parts += [str(f.label_tag()) + str(f) for f in form.range_fields()]
    return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", "".join(parts))).strip()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize(
    "data",
    [
        None,
        {"q": '"><b>x', "region": 'A&B "<north>"', "sort": "clv", "clv_min": "12.5"},
        {"value_tier": "nonsense", "p_alive_max": "900", "last_purchase_from": "2024-05-01"},
    ],
)
def test_same_html_as_django_templates(language: str, data: dict[str, str] | None) -> None:
    with translation.override(language):
        quick = CustomerFilterForm(data, regions=REGIONS, channels=CHANNELS)
        plain = CustomerFilterForm(
            data, regions=REGIONS, channels=CHANNELS, renderer=DjangoTemplates()
        )
        if data:  # bound forms show their errors too
            assert not quick.is_valid() or data.get("sort") == "clv"
            plain.is_valid()
        assert quick.renderer is QUICK_RENDERER
        html = _html(quick)
        assert html == _html(plain)
        assert "<script>" not in html and "&lt;script&gt;" in html
