"""The customer 360 page is a list of panels. A panel is a template plus a context provider;
later apps add theirs (value, risk, points, campaigns, tickets) with ``customer_panel_register``
from their ``AppConfig.ready``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from patron.accounts.privacy import phone_for
from patron.customers.models import Customer

MAIN = "main"
SIDE = "side"


@dataclass(frozen=True)
class PanelContext:
    request: HttpRequest
    customer: Customer
    forms: dict[str, Any] = field(default_factory=dict)  # bound forms with errors, by panel key


@dataclass(frozen=True)
class Panel:
    key: str
    title: Promise | str
    template: str
    provide: Callable[[PanelContext], dict[str, Any]]
    permission: str | None = None  # panels the user may not see are left out
    column: str = MAIN
    order: int = 100


_PANELS: dict[str, Panel] = {}


def customer_panel_register(panel: Panel) -> None:
    _PANELS[panel.key] = panel


def customer_panels_for(context: PanelContext) -> list[dict[str, Any]]:
    """The visible panels, in order, each with its rendered context."""
    user = context.request.user
    visible = [p for p in _PANELS.values() if p.permission is None or user.has_perm(p.permission)]
    visible.sort(key=lambda p: (p.order, p.key))
    return [{"panel": p, "column": p.column, "data": p.provide(context)} for p in visible]


# --- Patron's own panels --------------------------------------------------------------------


def _profile(context: PanelContext) -> dict[str, Any]:
    customer = context.customer
    user = context.request.user
    return {
        "phone": phone_for(user=user, phone=customer.phone),
        "can_edit": user.has_perm("customers.change_customer"),
    }


def _consent(context: PanelContext) -> dict[str, Any]:
    return {"consents": list(context.customer.consents.order_by("channel"))}


def _attributes(context: PanelContext) -> dict[str, Any]:
    attributes = context.customer.attributes or {}
    return {"tags": context.customer.tags or [], "answers": sorted(attributes.items())}


def _key_figures(context: PanelContext) -> dict[str, Any]:
    from patron.customers.selectors import customer_key_figures

    return {"figures": customer_key_figures(customer=context.customer)}


VALUE_HISTORY_RUNS = 8  # P(alive) across this many of the customer's latest runs


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f}%"


def _value(context: PanelContext) -> dict[str, Any]:
    """The customer's scores in the latest analysis run, their tier in the run before, the
    predictive value of the latest run and P(alive) across runs (two queries), and the first
    purchase after the run's date, read live (one more): the run's figures are labelled with
    its date, and a purchase since says they are from before it."""
    from patron.analytics.churn import LEVEL_LABELS
    from patron.analytics.segments import SEGMENTS
    from patron.analytics.tiers import TIERS
    from patron.insights.models import CustomerScore, RunStatus
    from patron.insights.presenters import chart_language
    from patron.insights.selectors import analysis_run_list, customer_purchase_after

    # The latest two completed runs in one query (their figures are not needed here).
    latest_two = list(analysis_run_list().defer("figures", "settings")[:2])
    if not latest_two:
        return {"run": None}
    run = latest_two[0]
    previous = latest_two[1] if len(latest_two) > 1 else None
    # The customer's scores in their latest completed runs, newest first, in one query: the
    # latest two runs are the newest of all, so their scores are among these.
    history = list(
        CustomerScore.objects.filter(customer=context.customer, run__status=RunStatus.COMPLETED)
        .select_related("run")
        .defer("run__figures", "run__settings")
        .order_by("-run__created_at", "-run_id")[:VALUE_HISTORY_RUNS]
    )
    scores = {s.run_id: s for s in history}
    lang = chart_language()
    tiers = {t.code: t.label.get(lang, t.label["en"]) for t in TIERS}
    segments = {s.code: s for s in SEGMENTS}
    score = scores.get(run.pk)
    before = scores.get(previous.pk) if previous is not None else None
    data: dict[str, Any] = {"run": run, "previous": previous, "score": score, "before": before}
    data["bought_since"] = customer_purchase_after(customer=context.customer, day=run.as_of)
    if score is not None:
        segment = segments.get(score.segment)
        data["segment"] = segment.label.get(lang, segment.label["en"]) if segment else score.segment
        data["action"] = segment.action.get(lang, segment.action["en"]) if segment else ""
        data["tier"] = tiers.get(score.value_tier, score.value_tier)
        if score.p_alive is not None:
            level = LEVEL_LABELS.get(score.risk_level or "", {})
            reasons = score.risk_reasons_en if lang == "en" else score.risk_reasons_zh
            data["p_alive"] = _percent(score.p_alive)
            data["risk_label"] = level.get(lang, level.get("en", score.risk_level))
            data["risk_reasons"] = [r for r in (reasons or "").split("; ") if r]
            data["p_alive_history"] = [
                {"as_of": s.run.as_of, "p_alive": _percent(s.p_alive)}
                for s in history
                if s.p_alive is not None
            ]
    if before is not None:
        data["tier_before"] = tiers.get(before.value_tier, before.value_tier)
        if score is not None and before.value_tier != score.value_tier:
            order = list(tiers)
            up = order.index(score.value_tier) < order.index(before.value_tier)
            data["move"] = "up" if up else "down"
    return data


ORDERS_PER_PAGE = 10


def _orders(context: PanelContext) -> dict[str, Any]:
    from patron.sales.models import Order

    orders = (
        Order.objects.filter(customer=context.customer)
        .order_by("-ordered_on", "-ordered_at", "-pk")
        .prefetch_related("lines__product")
    )
    page = Paginator(orders, ORDERS_PER_PAGE).get_page(context.request.GET.get("orders_page"))
    return {"page": page}


TIMELINE_PER_PAGE = 20


def _timeline(context: PanelContext) -> dict[str, Any]:
    from patron.customers.forms import InteractionForm

    interactions = context.customer.interactions.select_related("created_by").order_by(
        "-occurred_at", "-pk"
    )
    page = Paginator(interactions, TIMELINE_PER_PAGE).get_page(
        context.request.GET.get("timeline_page")
    )
    can_add = context.request.user.has_perm("customers.add_interaction")
    form = context.forms.get("timeline") or (InteractionForm() if can_add else None)
    return {"page": page, "form": form, "can_add": can_add}


AUDIT_MASKED_FIELDS = {"phone"}
AUDIT_HIDDEN_FIELDS = {"id", "customer"}  # internal keys: the page already says whose record


def _audit(context: PanelContext) -> dict[str, Any]:
    from auditlog.models import LogEntry

    from patron.accounts.privacy import FULL_PHONE_PERMISSION, phone_mask
    from patron.accounts.selectors import audit_entries_for_customer

    full_phone = context.request.user.has_perm(FULL_PHONE_PERMISSION)
    entries = []
    for entry in audit_entries_for_customer(customer=context.customer):
        model = entry.content_type.model_class()
        changes = []
        for name, values in (entry.changes_dict or {}).items():
            field = _field(model, name)
            if field is None or name in AUDIT_HIDDEN_FIELDS:
                continue
            old, new = (_shown(field, v) for v in values[:2])
            if entry.action == LogEntry.Action.CREATE and (not new or values[1] == "False"):
                continue  # a new record: only the values it was given
            if name in AUDIT_MASKED_FIELDS and not full_phone:
                old, new = phone_mask(old), phone_mask(new)
            changes.append({"field": str(field.verbose_name), "old": old, "new": new})
        label = str(model._meta.verbose_name) if model else entry.content_type.model
        entries.append({"entry": entry, "changes": changes, "model": label})
    return {"entries": entries}


def _field(model: Any, name: str) -> Any:
    try:
        return model._meta.get_field(name) if model else None
    except Exception:  # a field removed since the change
        return None


def _shown(field: Any, value: Any) -> str:
    """A logged value as people read it: choices by label, booleans as yes/no, nothing as ''."""
    from django.utils.translation import gettext

    if value in (None, "None", "", "[]", "{}"):
        return ""
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if field.get_internal_type() == "BooleanField":
        return gettext("Yes") if value == "True" else (gettext("No") if value == "False" else "")
    if field.get_internal_type() == "JSONField":
        return _json_shown(value)
    return str(value)


def _json_shown(value: Any) -> str:
    """Tags as 'VIP测试, 老客户', not the log's JSON text ["VIP\\u6d4b\\u8bd5"]."""
    import json

    try:
        data = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return str(value)
    if isinstance(data, list):
        from django.utils.translation import gettext

        return gettext(", ").join(str(item) for item in data)
    if isinstance(data, dict):
        return "; ".join(f"{k}: {v}" for k, v in data.items())
    return str(data)


for _panel in (
    Panel(
        "profile",
        _("Profile and contact"),
        "web/panels/profile.html",
        _profile,
        column=SIDE,
        order=10,
    ),
    Panel(
        "consent",
        _("Consent"),
        "web/panels/consent.html",
        _consent,
        "customers.view_consent",
        column=SIDE,
        order=20,
    ),
    Panel(
        "attributes",
        _("Tags and questionnaire"),
        "web/panels/attributes.html",
        _attributes,
        column=SIDE,
        order=30,
    ),
    Panel(
        "figures",
        _("Key figures"),
        "web/panels/figures.html",
        _key_figures,
        "sales.view_order",
        order=10,
    ),
    Panel(
        "value",
        _("Customer value"),
        "web/panels/value.html",
        _value,
        "sales.view_order",
        order=15,
    ),
    Panel("orders", _("Orders"), "web/panels/orders.html", _orders, "sales.view_order", order=20),
    Panel(
        "timeline",
        _("Timeline"),
        "web/panels/timeline.html",
        _timeline,
        "customers.view_interaction",
        order=30,
    ),
    Panel(
        "audit",
        _("Change history"),
        "web/panels/audit.html",
        _audit,
        "auditlog.view_logentry",
        order=90,
    ),
):
    customer_panel_register(_panel)
