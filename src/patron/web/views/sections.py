"""Sections whose pages arrive with later releases: each says what it will hold."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from patron.accounts.permissions import require_permission


@dataclass(frozen=True)
class Section:
    key: str
    title: Promise
    permission: str
    summary: Promise
    items: tuple[Promise, ...]
    #: Pages of the section that are here already: (URL name, label, what it holds).
    ready: tuple[tuple[str, Promise, Promise], ...] = ()


# "segments", "loyalty", "campaigns" and "service" have their own pages now (web/views/segments.py,
# patron.loyalty, patron.campaigns, patron.service).
SECTIONS = (
    Section(
        "reports",
        _("Reports"),
        "accounts.view_reports",
        _("What the analysis runs found, over time."),
        (
            _("Revenue concentration (80/20) and the Lorenz curve"),
            _("Lifetime value and churn risk"),
            _("Migration between tiers"),
        ),
    ),
    Section(
        "settings",
        _("Settings"),
        "accounts.manage_settings",
        _("Users, roles and how this installation works."),
        (
            _("Business settings: currency, time zone"),
            _("Import presets and API tokens"),
        ),
        ready=(
            (
                "web:users",
                _("Users and roles"),
                _("Add users, give and change roles, reset passwords, deactivate."),
            ),
            (
                "web:analysis_settings",
                _("Analysis settings"),
                _("RFM method, pyramid cuts, cost to serve."),
            ),
        ),
    ),
)


def _section_view(section: Section) -> Callable[[HttpRequest], HttpResponse]:
    @require_permission(section.permission)
    def view(request: HttpRequest) -> HttpResponse:
        return render(request, "web/section.html", {"page": section, "section": section.key})

    view.__name__ = f"section_{section.key}"
    return view


SECTION_VIEWS = {section.key: _section_view(section) for section in SECTIONS}
