"""The service pages: ticket queue, a ticket, a new ticket, the service report, survey
results and settings, and the public survey answer page (a signed link, no sign-in).

Every change is a POST through :mod:`patron.service.services` or :mod:`.surveys`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from patron.accounts.permissions import public, require_permission
from patron.core.errors import PatronError
from patron.customers.models import Customer
from patron.insights.prediction_charts import hbars_svg
from patron.sales.models import Order
from patron.service import selectors, services, surveys
from patron.service.charts import interval_svg
from patron.service.forms import ReplyForm, ResolveForm, SurveySettingsForm, TicketForm
from patron.service.models import SurveyKind, Ticket
from patron.service.sla import business_hours_from_settings
from patron.web.views.methods import post_only

VIEW = "accounts.view_tickets"
MANAGE = "accounts.manage_tickets"
PAGE_SIZE = 25


def _language() -> str:
    from patron.web.views.dashboard import chart_language

    return chart_language()


def _ticket_or_404(pk: int) -> Ticket:
    ticket = selectors.ticket_get(pk=pk)
    if ticket is None:
        raise Http404(_("No ticket with number %(id)s.") % {"id": pk})
    return ticket


def _due_text(due: dt.datetime, now: dt.datetime) -> str:
    hours = business_hours_from_settings()
    if due < now:
        return _("%(h).1f business hours late") % {"h": hours.between(due, now)}
    return _("%(h).1f business hours left") % {"h": hours.between(now, due)}


@require_permission(VIEW)
def ticket_list(request: HttpRequest) -> HttpResponse:
    view = request.GET.get("view") or selectors.VIEW_TEAM
    if view not in selectors.VIEWS:
        view = selectors.VIEW_TEAM
    now = timezone.now()
    tickets = selectors.ticket_queue(user=request.user, view=view, now=now)
    page = Paginator(tickets, PAGE_SIZE).get_page(request.GET.get("page"))
    language = _language()
    rows = [
        {
            "ticket": t,
            "category": t.category.label(language),
            "breaching": getattr(t, "breaching", False),
            "due": _due_text(t.due_at, now) if t.is_active else "",
        }
        for t in page.object_list
    ]
    return render(
        request,
        "service/ticket_list.html",
        {
            "section": "service",
            "view": view,
            "views": [
                (selectors.VIEW_MINE, _("Mine")),
                (selectors.VIEW_TEAM, _("Team")),
                (selectors.VIEW_UNASSIGNED, _("Nobody owns yet")),
                (selectors.VIEW_BREACHING, _("Breaching the SLA")),
                (selectors.VIEW_DONE, _("Resolved and closed")),
            ],
            "counts": selectors.ticket_counts(user=request.user, now=now),
            "page": page,
            "rows": rows,
            "can_act": services.user_can_act(request.user),
            "here": request.get_full_path(),
        },
    )


def _render_detail(
    request: HttpRequest,
    ticket: Ticket,
    *,
    reply_form: ReplyForm | None = None,
    resolve_form: ResolveForm | None = None,
    status: int = 200,
) -> HttpResponse:
    now = timezone.now()
    can_act = services.user_can_act(request.user)
    first_late = ticket.first_responded_at is None and ticket.first_response_due_at < now
    first_met = (
        ticket.first_responded_at is not None
        and ticket.first_responded_at <= ticket.first_response_due_at
    )
    resolution_late = (ticket.resolved_at or now) > ticket.due_at
    return render(
        request,
        "service/ticket_detail.html",
        {
            "section": "service",
            "ticket": ticket,
            "category": ticket.category.label(_language()),
            "conversation": list(ticket.messages.all()),
            "first_late": first_late,
            "first_met": first_met,
            "resolution_late": resolution_late,
            "due": _due_text(ticket.due_at, now) if ticket.is_active else "",
            "can_act": can_act,
            "reply_form": (reply_form or ReplyForm()) if can_act and ticket.is_active else None,
            "resolve_form": (resolve_form or ResolveForm())
            if can_act and ticket.is_active
            else None,
            "responses": list(ticket.responses.all()),
        },
        status=status,
    )


@require_permission(VIEW)
def ticket_detail(request: HttpRequest, id: int) -> HttpResponse:
    return _render_detail(request, _ticket_or_404(id))


def _form_errors(form: Any, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


@require_permission(VIEW, MANAGE)
@post_only("service:ticket_detail")
def ticket_act(request: HttpRequest, id: int) -> HttpResponse:
    ticket = _ticket_or_404(id)
    # The note button of the reply form says so in its formaction (?do=note): a button's own
    # name and value are not sent once patron.js disables it against double posts.
    action = request.GET.get("do") or request.POST.get("action", "")
    user = request.user
    try:
        if action in ("reply", "note"):
            form = ReplyForm(request.POST)
            if not form.is_valid():
                return _render_detail(request, ticket, reply_form=form, status=400)
            try:
                if action == "reply":
                    services.ticket_reply(
                        ticket=ticket, text=form.cleaned_data["text"], by=user,
                        wait_for_customer=form.cleaned_data["wait"],
                    )  # fmt: skip
                else:
                    services.ticket_note(ticket=ticket, text=form.cleaned_data["text"], by=user)
            except ValidationError as error:
                _form_errors(form, error)
                return _render_detail(request, ticket, reply_form=form, status=400)
            messages.success(request, _("Reply sent.") if action == "reply" else _("Note added."))
        elif action == "resolve":
            resolve = ResolveForm(request.POST)
            if not resolve.is_valid():
                return _render_detail(request, ticket, resolve_form=resolve, status=400)
            try:
                services.ticket_resolve(ticket=ticket, by=user, **{
                    **resolve.cleaned_data,
                    "compensation": resolve.cleaned_data["compensation"] or "",
                })  # fmt: skip
            except ValidationError as error:
                _form_errors(resolve, error)
                return _render_detail(request, ticket, resolve_form=resolve, status=400)
            messages.success(request, _("Ticket resolved."))
        elif action == "take":
            services.ticket_assign(ticket=ticket, owner=user)
            messages.success(request, _("The ticket is yours now."))
        elif action == "close":
            services.ticket_close(ticket=ticket, by=user)
            messages.success(request, _("Ticket closed."))
        elif action == "reopen":
            services.ticket_reopen(ticket=ticket, by=user, text=request.POST.get("text", ""))
            messages.success(request, _("Ticket reopened."))
        else:
            messages.error(request, _("Unknown action."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("service:ticket_detail", ticket.pk)


def _category_choices() -> list[tuple[str, str]]:
    language = _language()
    return [(c.code, c.label(language)) for c in selectors.category_list()]


@require_permission(VIEW, MANAGE)
def ticket_new(request: HttpRequest) -> HttpResponse:
    services.categories_ensure()
    initial = {"customer": request.GET.get("customer", ""), "kind": "complaint"}
    form = TicketForm(request.POST or None, initial=initial, categories=_category_choices())
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        customer = Customer.objects.filter(external_id=data["customer"].strip()).first()
        order = None
        if customer is None:
            form.add_error("customer", _("No customer with this id."))
        elif data["order"]:
            order = Order.objects.filter(customer=customer, external_id=data["order"]).first()
            if order is None:
                form.add_error("order", _("No order with this id for this customer."))
        if form.is_valid() and customer is not None:
            try:
                ticket = services.ticket_create(
                    customer=customer, kind=data["kind"], category=data["category"],
                    channel=data["channel"], subject=data["subject"], text=data["text"],
                    order=order, priority=data["priority"] or None, by=request.user,
                )  # fmt: skip
            except ValidationError as error:
                _form_errors(form, error)
            else:
                messages.success(request, _("Ticket %(id)s opened.") % {"id": ticket.pk})
                return redirect("service:ticket_detail", ticket.pk)
    return render(
        request,
        "service/ticket_new.html",
        {"section": "service", "form": form},
        status=400 if form.errors else 200,
    )


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def _hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


@require_permission(VIEW)
def service_report(request: HttpRequest) -> HttpResponse:
    report = selectors.ticket_report()
    labels = dict(_category_choices())
    volume = hbars_svg(
        [(m["month"], float(m["opened"]), f"{m['opened']} · {m['complaints']}")
         for m in report.by_month],
        title=_("Tickets by month (all · complaints)"),
    )  # fmt: skip
    return render(
        request,
        "service/report.html",
        {
            "section": "service",
            "report": report,
            "by_category": [
                {**row, "label": labels.get(row["category"], row["category"])}
                for row in report.by_category
            ],
            "volume_svg": volume,
            "figures": {
                "first_response_hours": _hours(report.first_response_hours),
                "resolution_hours": _hours(report.resolution_hours),
                "first_response_in_sla": _percent(report.first_response_in_sla),
                "resolution_in_sla": _percent(report.resolution_in_sla),
                "reopen_rate": _percent(report.reopen_rate),
                "recovery_rate": _percent(report.recovery_rate),
                "complaints_per_1000": _hours(report.complaints_per_1000_orders),
            },
        },
    )


def _interval_rows(groups: dict[str, Any], key: str, labels: dict[str, str]) -> list[Any]:
    """Rows of an interval chart; groups named in ``labels`` come in its order (tiers, top
    first), the others (months) in their own."""
    order = list(labels)
    if order:
        groups = dict(
            sorted(groups.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99)
        )
    return [
        (labels.get(name, name), r[key], r["ci_low"], r["ci_high"],
         f"{r[key]:.1f} [{r['ci_low']:.1f}, {r['ci_high']:.1f}] n={r['responses']}")
        for name, r in groups.items()
        if r.get(key) is not None
    ]  # fmt: skip


def _group_rows(nps_by: dict[str, Any], tiers: dict[str, str]) -> list[dict[str, Any]]:
    from patron.analytics.segments import SEGMENTS

    language = _language()
    segments = {s.code: s.label.get(language, s.label["en"]) for s in SEGMENTS}
    kinds = (("tier", _("Value tier"), tiers), ("segment", _("Segment"), segments),
             ("store", _("Store"), {}))  # fmt: skip
    rows = []
    for kind, kind_label, labels in kinds:
        groups = nps_by.get(kind, {})
        order = list(labels) or sorted(groups)
        for key in sorted(groups, key=lambda k: order.index(k) if k in order else len(order)):
            r = groups[key]
            rows.append({"kind": kind, "kind_label": kind_label, "key": key,
                         "label": labels.get(key, key), **r})  # fmt: skip
    return rows


@require_permission(VIEW)
def survey_results(request: HttpRequest) -> HttpResponse:
    from patron.analytics.tiers import TIERS
    from patron.service.reports import survey_report

    language = _language()
    tiers = {t.code: t.label.get(language, t.label["en"]) for t in TIERS}
    report = survey_report()
    nps_by, csat_by = report["nps_by"], report["csat_by"]
    group_labels = {
        "promoter": _("Promoters"), "passive": _("Passives"), "detractor": _("Detractors")
    }  # fmt: skip
    retention_rows = [
        (group_labels[g], 100 * r["rate"], f"{100 * r['rate']:.1f}% (n={r['respondents']})")
        for g, r in report["retention"]["groups"].items()
        if r["rate"] is not None
    ]
    return render(
        request,
        "service/survey_results.html",
        {
            "section": "service",
            "report": report,
            "nps_month_svg": interval_svg(
                _interval_rows(nps_by["month"], "score", {}), title=_("NPS by month"),
                low=-100, high=100,
            ),
            "nps_tier_svg": interval_svg(
                _interval_rows(nps_by["tier"], "score", tiers), title=_("NPS by value tier"),
                low=-100, high=100,
            ),
            "csat_month_svg": interval_svg(
                _interval_rows(csat_by["month"], "mean", {}), title=_("CSAT by month"),
                low=1, high=5,
            ),
            "drivers_svg": hbars_svg(
                [(surveys.driver_label(d["driver"]), d["share"], f"{100 * d['share']:.0f}%")
                 for d in report["drivers"]["items"]],
                title=_("What drives NPS"),
            ),
            "drivers_top_svg": hbars_svg(
                [(surveys.driver_label(d["driver"]), d["share"], f"{100 * d['share']:.0f}%")
                 for d in report["drivers_top_tiers"]["items"]],
                title=_("What drives NPS in the high and very high tiers"),
            ),
            "retention_svg": hbars_svg(retention_rows, title=_("Bought again within 180 days")),
            "tiers": tiers,
            "group_labels": group_labels,
            "group_rows": _group_rows(nps_by, tiers),
        },
    )  # fmt: skip


@require_permission(VIEW, MANAGE)
def survey_settings(request: HttpRequest) -> HttpResponse:
    forms_by_kind = {}
    for kind in (SurveyKind.NPS, SurveyKind.CSAT):
        current = surveys.survey_settings_get(kind=kind)
        initial = {
            "active": current.active, "every_days": current.every_days,
            "after_order_days": current.after_order_days,
            "link_valid_days": current.link_valid_days, "drivers": current.drivers,
            "ask_comment": current.ask_comment,
        }  # fmt: skip
        bound = request.method == "POST" and request.POST.get("kind") == kind
        form = SurveySettingsForm(request.POST if bound else None, initial=initial, prefix=kind)
        if bound and form.is_valid():
            try:
                surveys.survey_settings_update(kind=kind, **form.cleaned_data)
            except ValidationError as error:
                _form_errors(form, error)
            else:
                messages.success(request, _("Survey settings saved."))
                return redirect("service:survey_settings")
        forms_by_kind[kind] = form
    return render(
        request,
        "service/survey_settings.html",
        {
            "section": "service",
            "forms": [(kind, SurveyKind(kind).label, f) for kind, f in forms_by_kind.items()],
        },
    )


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


@public
def survey_answer(request: HttpRequest, token: str) -> HttpResponse:
    """The one-click answer page: a score in the link (``?score=``) is recorded at once; the
    form adds ratings and a comment. Answering again replaces the answer."""
    try:
        invitation = surveys.invitation_from_token(token)
    except PatronError as error:
        status = 410 if error.code == "service.link_expired" else 400
        return render(request, "service/survey_refused.html", {"message": error.message},
                      status=status)  # fmt: skip
    language = request.GET.get("lang") or request.POST.get("lang") or invitation.language
    language = "zh-hans" if language.startswith("zh") else "en"
    with translation.override(language):
        settings = surveys.survey_settings_get(kind=invitation.kind)
        nps = invitation.kind == SurveyKind.NPS
        scores = list(range(0, 11)) if nps else list(range(1, 6))
        errors: list[str] = []
        saved = None
        score = _int(request.POST.get("score") if request.method == "POST" else
                     request.GET.get("score"))  # fmt: skip
        if request.method == "POST" or score is not None:
            drivers = {
                key: value
                for key in settings.drivers
                if (value := _int(request.POST.get(f"driver_{key}"))) is not None
            }
            try:
                saved = surveys.survey_answer(
                    token=token, score=score, drivers=drivers,
                    comment=request.POST.get("comment", ""),
                )  # fmt: skip
            except ValidationError as error:
                errors = error.messages
            except PatronError as error:
                errors = [error.message]
        current = saved or getattr(invitation, "response", None)
        context = {
            "invitation": invitation,
            "token": token,
            "language": language,
            "nps": nps,
            "scores": scores,
            "chosen": current.nps if current and nps else (current.csat if current else None),
            "drivers": [
                (
                    key,
                    surveys.driver_label(key),
                    (current.drivers or {}).get(key) if current else None,
                )
                for key in settings.drivers
            ],
            "ask_comment": settings.ask_comment,
            "comment": current.comment if current else "",
            "saved": saved is not None and request.method == "POST",
            "recorded": saved is not None,
            "errors": errors,
        }
        return render(request, "service/survey_answer.html", context,
                      status=400 if errors else 200)  # fmt: skip
