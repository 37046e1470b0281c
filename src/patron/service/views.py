"""The ticket pages: the queue, a ticket (conversation, resolution), a new ticket. The
reports and survey pages are in :mod:`patron.service.survey_views`.

Every change is a POST through :mod:`patron.service.services` or :mod:`.surveys`.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from patron.accounts.permissions import require_permission
from patron.customers.models import Customer
from patron.sales.models import Order
from patron.service import selectors, services
from patron.service.forms import (
    ReplyForm,
    ResolveForm,
    TicketForm,
    category_choices,
    form_add_errors,
)
from patron.service.models import Ticket
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
                form_add_errors(form, error)
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
                form_add_errors(resolve, error)
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


@require_permission(VIEW, MANAGE)
def ticket_new(request: HttpRequest) -> HttpResponse:
    services.categories_ensure()
    initial = {"customer": request.GET.get("customer", ""), "kind": "complaint"}
    form = TicketForm(request.POST or None, initial=initial, categories=category_choices())
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
                form_add_errors(form, error)
            else:
                messages.success(request, _("Ticket %(id)s opened.") % {"id": ticket.pk})
                return redirect("service:ticket_detail", ticket.pk)
    return render(
        request,
        "service/ticket_new.html",
        {"section": "service", "form": form},
        status=400 if form.errors else 200,
    )
