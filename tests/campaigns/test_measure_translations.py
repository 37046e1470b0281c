"""Every text of the measurement pages reads in Chinese: each {% translate %} of their templates
and each gettext of their views, found in the sources, renders differently under zh-hans
(from the campaigns app's committed .mo, or the project's)."""

from __future__ import annotations

import re
from pathlib import Path

from django.template import Context, Template
from django.utils import translation

import patron.campaigns

APP = Path(patron.campaigns.__file__).parent
TEMPLATES = ["_report.html", "_report_breakdown.html", "holdout.html", "cadence.html",
             "cycle.html", "report_export.html", "_nav.html"]  # fmt: skip


def test_every_measurement_text_is_translated() -> None:
    in_templates: set[str] = set()
    for name in TEMPLATES:
        text = (APP / "templates" / "campaigns" / name).read_text(encoding="utf-8")
        in_templates |= set(re.findall(r'{% translate "([^"]+)" %}', text))
    views = (APP / "measure_views.py").read_text(encoding="utf-8")
    in_views = {m for m in re.findall(r'_\("([^"]+)"\)', views) if "%(" not in m}
    assert len(in_templates) > 40 and len(in_views) > 30
    missing = []
    with translation.override("zh-hans"):
        for message in sorted(in_templates):
            tag = Template('{% load i18n %}{% translate "' + message + '" %}')
            if tag.render(Context()) == message:
                missing.append(message)
        missing += [m for m in sorted(in_views) if translation.gettext(m) == m]
    assert not missing, missing
