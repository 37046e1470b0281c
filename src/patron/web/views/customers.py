"""Customer list (search, filters, keyset pages, exports) and the customer 360 page."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from patron.accounts.permissions import require_permission
from patron.accounts.privacy import FULL_PHONE_PERMISSION, phone_for
from patron.customers import selectors, services
from patron.customers.forms import CustomerFilterForm, CustomerProfileForm, InteractionForm
from patron.customers.models import Customer
from patron.web import exports
from patron.web.panels import PanelContext, customer_panels_for
from patron.web.views.methods import post_only

logger = logging.getLogger("patron.audit")
PAGE_SIZE = 25
EXPORT_FORMATS = ("csv", "xlsx")


def _filter_form(request: HttpRequest) -> CustomerFilterForm:
    choices = selectors.customer_filter_choices()
    return CustomerFilterForm(
        request.GET or None, regions=choices["regions"], channels=choices["channels"]
    )


def _customer_or_404(external_id: str) -> Customer:
    customer = Customer.objects.filter(external_id=external_id).first()
    if customer is None:
        raise Http404(_("No customer with id %(id)s.") % {"id": external_id})
    return customer


@require_permission("customers.view_customer")
def customer_list(request: HttpRequest) -> HttpResponse:
    form = _filter_form(request)
    queryset = (
        selectors.customer_filter(**form.filters())
        if form.is_bound
        else selectors.customer_filter()
    )
    page = selectors.customer_page(
        queryset=queryset,
        sort=form.sort_key() if form.is_bound else "id",
        after=request.GET.get("after", ""),
        before=request.GET.get("before", ""),
        size=PAGE_SIZE,
    )
    from patron.customers.values import customer_values
    from patron.insights.selectors import analysis_run_latest

    run = analysis_run_latest()
    values = customer_values(customers=page.customers, run=run)
    rows = [
        (c, phone_for(user=request.user, phone=c.phone), values.get(c.pk)) for c in page.customers
    ]
    query = request.GET.copy()
    for key in ("after", "before"):
        query.pop(key, None)
    unsorted = query.copy()
    unsorted.pop("sort", None)
    return render(
        request,
        "web/customers/list.html",
        {
            "section": "customers",
            "form": form,
            "page": page,
            "rows": rows,
            "query": query.urlencode(),
            "unsorted_query": unsorted.urlencode(),
            "sort": form.sort_key() if form.is_bound else "id",
            "run": run,
            "saved_views": selectors.saved_view_list(owner=request.user),
            "can_export": request.user.has_perm("accounts.export_customers"),
        },
    )


@require_permission("customers.view_customer")
@post_only("web:customer_list")
def saved_view_save(request: HttpRequest) -> HttpResponse:
    """Save the list's current filters and sort under a name (the same name replaces it)."""
    query = request.POST.get("query", "")
    try:
        view = services.saved_view_save(
            owner=request.user, name=request.POST.get("name", ""), query=query
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(reverse("web:customer_list") + (f"?{query}" if query else ""))
    messages.success(request, _("Saved the view “%(name)s”.") % {"name": view.name})
    return redirect(view.url())


@require_permission("customers.view_customer")
def saved_view_delete(request: HttpRequest, view_id: int) -> HttpResponse:
    if request.method != "POST":
        return redirect("web:customer_list")
    services.saved_view_delete(owner=request.user, view_id=view_id)
    messages.success(request, _("Removed the saved view."))
    return redirect("web:customer_list")


@require_permission("customers.view_customer", "accounts.export_customers")
def customer_export(request: HttpRequest, fmt: str) -> HttpResponse:
    if fmt not in EXPORT_FORMATS:
        raise Http404(_("Unknown export format."))
    form = _filter_form(request)
    filters = form.filters() if form.is_bound else {}
    queryset = selectors.customer_filter(**filters)
    full_phone = request.user.has_perm(FULL_PHONE_PERMISSION)
    logger.info("customer export (%s) by %s, filters %s", fmt, request.user, filters)
    if fmt == "csv":
        return exports.customers_csv(queryset=queryset, full_phone=full_phone)
    return exports.customers_xlsx(queryset=queryset, full_phone=full_phone)


def _render_360(
    request: HttpRequest, customer: Customer, forms: dict | None = None, status: int = 200
) -> HttpResponse:
    panels = customer_panels_for(
        PanelContext(request=request, customer=customer, forms=forms or {})
    )
    return render(
        request,
        "web/customers/detail.html",
        {
            "section": "customers",
            "customer": customer,
            "main_panels": [p for p in panels if p["column"] == "main"],
            "side_panels": [p for p in panels if p["column"] == "side"],
        },
        status=status,
    )


@require_permission("customers.view_customer")
def customer_detail(request: HttpRequest, external_id: str) -> HttpResponse:
    return _render_360(request, _customer_or_404(external_id))


@require_permission("customers.view_customer", "customers.add_interaction")
@post_only("web:customer_detail")
def interaction_add(request: HttpRequest, external_id: str) -> HttpResponse:
    customer = _customer_or_404(external_id)
    form = InteractionForm(request.POST)
    if form.is_valid():
        try:
            services.interaction_create(
                customer=customer, created_by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
    if not form.is_valid() or form.errors:
        return _render_360(request, customer, {"timeline": form}, status=400)
    messages.success(request, _("Added to the timeline."))
    return redirect(reverse("web:customer_detail", args=[customer.external_id]) + "#timeline")


@require_permission("customers.view_customer", "customers.change_customer")
def customer_edit(request: HttpRequest, external_id: str) -> HttpResponse:
    customer = _customer_or_404(external_id)
    form = CustomerProfileForm.for_customer(customer, request.POST or None)
    if request.method == "POST" and form.is_valid():
        changes = form.changes(customer)
        try:
            if changes:
                services.customer_update(customer=customer, **changes)
        except ValidationError as error:
            customer.refresh_from_db()
            form.add_error(None, error)
        else:
            messages.success(request, _("Profile saved.") if changes else _("Nothing changed."))
            return redirect("web:customer_detail", customer.external_id)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "web/customers/edit.html",
        {"section": "customers", "customer": customer, "form": form},
        status=status,
    )
