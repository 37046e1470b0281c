"""Template helpers: money and numbers as users in China expect them, the navigation."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

register = template.Library()

CURRENCY_SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "HKD": "HK$", "JPY": "¥"}


@register.filter
def money(value: Any) -> str:
    """¥1,234.50 (grouped by thousands in both languages, two decimals, minus before ¥)."""
    if value is None or value == "":
        return "—"
    amount = Decimal(str(value)).quantize(Decimal("0.01"))
    symbol = CURRENCY_SYMBOLS.get(settings.PATRON_CURRENCY, settings.PATRON_CURRENCY + " ")
    sign = "-" if amount < 0 else ""
    return f"{sign}{symbol}{abs(amount):,.2f}"


@register.filter
def num(value: Any, places: int = 0) -> str:
    """1,234 or 1,234.5: thousands grouped with commas."""
    if value is None or value == "":
        return "—"
    return f"{Decimal(str(value)):,.{int(places)}f}"


NAVIGATION = (
    ("dashboard", "web:home", _("Dashboard"), "accounts.view_reports"),
    ("customers", "web:customer_list", _("Customers"), "customers.view_customer"),
    ("imports", "web:import_start", _("Import"), "jobs.import_data"),
    ("segments", "web:segments", _("Segments"), "accounts.view_segments"),
    ("loyalty", "loyalty:member_list", _("Loyalty"), "accounts.view_loyalty"),
    ("campaigns", "campaigns:campaign_list", _("Campaigns"), "accounts.view_campaigns"),
    ("service", "service:ticket_list", _("Service"), "accounts.view_tickets"),
    ("warnings", "retention:warning_list", _("Churn warnings"), "retention.view_churnwarning"),
    ("reports", "web:reports", _("Reports"), "accounts.view_reports"),
    ("predictions", "web:predictions", _("Predictions"), "accounts.view_reports"),
    ("settings", "web:settings", _("Settings"), "accounts.manage_settings"),
)


@register.simple_tag(takes_context=True)
def navigation(context: template.Context) -> list[dict[str, Any]]:
    """The sections the signed-in user may open, the current one marked."""
    user = context["request"].user
    current = context.get("section", "")
    return [
        {"url": reverse(name), "label": label, "active": key == current}
        for key, name, label, permission in NAVIGATION
        if permission is None or user.has_perm(permission)
    ]


@register.simple_tag(takes_context=True)
def user_role_names(context: template.Context) -> str:
    from django.utils.translation import gettext

    from patron.accounts.selectors import user_roles

    labels = {
        "admin": _("Administrator"),
        "marketing": _("Marketing"),
        "service": _("Customer service"),
        "analyst": _("Analyst"),
    }
    roles = user_roles(user=context["request"].user)
    return gettext(", ").join(str(labels.get(r, r)) for r in roles)


@register.simple_tag(takes_context=True)
def sort_header(context: template.Context, key: str, label: str, css: str = "") -> str:
    """A column header of the customer list that sorts by ``key`` (its natural direction
    first; a second click turns it round)."""
    from django.utils.html import format_html

    current = context.get("sort", "")
    other = key[1:] if key.startswith("-") else f"-{key}"
    active = current in (key, other)
    target = other if current == key else key
    query = context.get("unsorted_query", "")
    href = "?" + (f"{query}&" if query else "") + f"sort={target}"
    arrow = ("▼" if current == key else "▲") if active else ""
    sort_state = ("descending" if current == key else "ascending") if active else "none"
    return format_html(
        '<th class="{}" aria-sort="{}"><a class="sort" href="{}">{} {}</a></th>',
        f"{css} nowrap".strip(),
        sort_state,
        href,
        label,
        arrow,
    )


@register.filter
def date_example(date_format: str) -> str:
    """A date format as a shop owner reads it: an example date, not its %-codes."""
    from patron.ingest.messages import date_example as example

    return example(date_format) if date_format else ""
