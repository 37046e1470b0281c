"""The warning list (filters, pages, lost-customer analysis) and one warning's page.

Service and marketing act (assign, respond, refresh), analysts read, admins do everything.
Every change is a POST with its CSRF token and goes through :mod:`patron.retention.services`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from patron.accounts.permissions import require_permission
from patron.accounts.privacy import phone_for
from patron.analytics.tiers import TIERS
from patron.core.errors import PatronError
from patron.insights.prediction_charts import hbars_svg
from patron.retention import selectors, services
from patron.retention.forms import (
    WarningAssignForm,
    WarningFilterForm,
    WarningResponseForm,
    WarningThresholdForm,
)
from patron.retention.models import ChurnWarning
from patron.web.templatetags.patron import money
from patron.web.views.methods import post_only

VIEW = "retention.view_churnwarning"
CHANGE = "retention.change_churnwarning"
ADD = "retention.add_churnwarning"
SETTINGS = "accounts.manage_settings"
PAGE_SIZE = 25


def _language() -> str:
    from patron.insights.presenters import chart_language

    return chart_language()


def _reasons(warning: ChurnWarning, language: str) -> list[str]:
    text = warning.reasons_zh if language == "zh-hans" else warning.reasons_en
    return [part for part in text.split("; ") if part]


def _warning_or_404(pk: int) -> ChurnWarning:
    warning = selectors.warning_get(pk=pk)
    if warning is None:
        raise Http404(_("No warning with number %(id)s.") % {"id": pk})
    return warning


def _back(request: HttpRequest, default: str) -> str:
    """Where to go after a POST: the page it came from (this site only), else ``default``."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def lost_chart(analysis: selectors.LostAnalysis) -> str:
    rows = [
        (row.label, float(row.customers), f"{row.customers:,} · {money(row.clv)}")
        for row in analysis.reasons
    ]
    return hbars_svg(rows, title=_("Why customers were lost"))


@require_permission(VIEW)
def warning_list(request: HttpRequest) -> HttpResponse:
    owners = list(selectors.warning_owner_choices())
    form = WarningFilterForm(request.GET or None, owners=owners)
    today = timezone.localdate()
    owner_value = form.value("owner")
    owner: Any = None
    if owner_value == selectors.OWNER_ME:
        owner = request.user
    elif owner_value and owner_value != selectors.OWNER_NOBODY:
        owner = next((u for u in owners if str(u.pk) == owner_value), None)
    warnings = selectors.warning_filter(
        level=form.value("level") or "",
        status=form.value("status") or selectors.STATUS_OPEN,
        owner=owner,
        unassigned=owner_value == selectors.OWNER_NOBODY,
        due_by=today if form.value("due") else None,
        tier=form.value("tier") or "",
        sort=form.value("sort") or "",
    )
    page = Paginator(warnings, PAGE_SIZE).get_page(request.GET.get("page"))
    language = _language()
    shown = list(page.object_list)
    facts = selectors.warning_caller_facts(warnings=shown)
    tiers = {t.code: t.label[language] for t in TIERS}
    rows = [
        {
            "warning": w,
            "reasons": _reasons(w, language),
            "phone": phone_for(user=request.user, phone=w.customer.phone),
            "facts": facts.get(w.customer_id),
            "tier": tiers.get(w.value_tier, ""),
        }
        for w in shown
    ]
    threshold = selectors.warning_threshold_get()
    period = form.value("period")
    since = today - dt.timedelta(days=int(period)) if period else None
    analysis = selectors.lost_analysis(since=since)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "retention/warning_list.html",
        {
            "section": "warnings",
            "form": form,
            "page": page,
            "rows": rows,
            "query": query.urlencode(),
            "today": today,
            "counts": selectors.warning_counts(user=request.user, today=today),
            "analysis": analysis,
            "win_back_rate": (
                "—" if analysis.win_back_rate is None else f"{100 * analysis.win_back_rate:.1f}%"
            ),
            "lost_svg": lost_chart(analysis),
            "can_act": services.user_can_act(request.user),
            "can_refresh": request.user.has_perm(ADD) and request.user.has_perm(CHANGE),
            "here": request.get_full_path(),
            "threshold": threshold,
            "threshold_share": round(threshold.share * 100),
            "threshold_form": (
                WarningThresholdForm(
                    initial={
                        "share": round(threshold.share * 100),
                        "min_value": threshold.min_value,
                        "max_open": threshold.max_open,
                    }
                )
                if request.user.has_perm(SETTINGS)
                else None
            ),
        },
    )


@require_permission(VIEW, SETTINGS)
@post_only("retention:warning_list")
def warning_threshold(request: HttpRequest) -> HttpResponse:
    form = WarningThresholdForm(request.POST)
    if form.is_valid():
        try:
            services.warning_threshold_save(
                threshold=selectors.WarningThreshold(
                    share=form.cleaned_data["share"] / 100,
                    min_value=form.cleaned_data["min_value"],
                    max_open=form.cleaned_data["max_open"],
                )
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("New warnings need a value at risk in the top %(share)s%% from the next refresh.")
                % {"share": form.cleaned_data["share"]},
            )
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect("retention:warning_list")


def _render_detail(
    request: HttpRequest,
    warning: ChurnWarning,
    *,
    response_form: WarningResponseForm | None = None,
    assign_form: WarningAssignForm | None = None,
    status: int = 200,
) -> HttpResponse:
    owners = list(selectors.warning_owner_choices())
    can_act = services.user_can_act(request.user) and warning.is_open
    if can_act and assign_form is None:
        initial = {"owner": str(warning.owner_id) if warning.owner_id else ""}
        assign_form = WarningAssignForm(initial=initial, owners=owners)
    return render(
        request,
        "retention/warning_detail.html",
        {
            "section": "warnings",
            "warning": warning,
            "reasons": _reasons(warning, _language()),
            "notes": [line for line in warning.notes.splitlines() if line.strip()],
            "can_act": can_act,
            "assign_form": assign_form if can_act else None,
            "response_form": (response_form or WarningResponseForm()) if can_act else None,
        },
        status=status,
    )


@require_permission(VIEW)
def warning_detail(request: HttpRequest, id: int) -> HttpResponse:
    return _render_detail(request, _warning_or_404(id))


@require_permission(VIEW, CHANGE)
@post_only("retention:warning_detail")
def warning_assign(request: HttpRequest, id: int) -> HttpResponse:
    warning = _warning_or_404(id)
    owners = list(selectors.warning_owner_choices())
    if request.POST.get("to") == "me":
        owner: Any = request.user
    else:
        form = WarningAssignForm(request.POST, owners=owners)
        if not form.is_valid():
            return _render_detail(request, warning, assign_form=form, status=400)
        chosen = form.cleaned_data["owner"]
        owner = next((u for u in owners if str(u.pk) == chosen), None) if chosen else None
    try:
        warning = services.warning_assign(warning=warning, owner=owner)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(_back(request, reverse("retention:warning_detail", args=[warning.pk])))
    if owner is None:
        messages.success(request, _("Warning %(id)s has no owner now.") % {"id": warning.pk})
    else:
        messages.success(
            request,
            _("Warning %(id)s is now owned by %(user)s.")
            % {"id": warning.pk, "user": owner.get_username()},
        )
    return redirect(_back(request, reverse("retention:warning_detail", args=[warning.pk])))


@require_permission(VIEW, CHANGE)
@post_only("retention:warning_detail")
def warning_respond(request: HttpRequest, id: int) -> HttpResponse:
    warning = _warning_or_404(id)
    form = WarningResponseForm(request.POST)
    if form.is_valid():
        try:
            services.warning_respond(warning=warning, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for field, errors in error.error_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, error)
    if not form.is_valid():
        warning.refresh_from_db()
        return _render_detail(request, warning, response_form=form, status=400)
    messages.success(request, _("Response recorded."))
    return redirect("retention:warning_detail", warning.pk)


@require_permission(VIEW, ADD, CHANGE)
@post_only("retention:warning_list")
def warning_refresh(request: HttpRequest) -> HttpResponse:
    """Start bringing the list up to date as a background job; its page shows the progress
    and comes back to the list when it is done."""
    from patron.insights.selectors import analysis_run_latest
    from patron.retention.tasks import warning_refresh_start

    if analysis_run_latest() is None:
        messages.error(request, services.NO_RUN)
        return redirect("retention:warning_list")
    try:
        job = warning_refresh_start(user=request.user)
    except PatronError as error:
        messages.error(request, error.message)
        job_id = (error.extra or {}).get("job")
        if job_id:
            return redirect("web:job_detail", job_id=job_id)
        return redirect("retention:warning_list")
    return redirect("web:job_detail", job_id=job.pk)
