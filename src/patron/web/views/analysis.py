"""Start an analysis run of the store from the browser (a background job); its settings."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from patron.accounts.permissions import require_permission
from patron.analytics.report import AnalysisSettings
from patron.core.errors import PatronError
from patron.insights.forms import AnalysisSettingsForm
from patron.insights.selectors import (
    AnalysisSettingsError,
    analysis_run_list,
    analysis_run_repeating,
    analysis_settings_get,
)
from patron.insights.services import analysis_settings_save, run_stale_fail
from patron.jobs.analysis import analysis_start as analysis_job_start
from patron.jobs.forms import AnalysisForm
from patron.jobs.models import JobKind
from patron.jobs.selectors import job_active, job_list_for_user, job_state

RUN_ANALYSIS = "jobs.run_analysis"
MANAGE_SETTINGS = "accounts.manage_settings"
SETTINGS_GROUPS = (
    (
        gettext_lazy("RFM"),
        (
            "rfm_method",
            "rfm_variant",
            "b2b_half_years",
            "recency_cuts",
            "frequency_cuts",
            "monetary_cuts",
        ),
    ),
    (gettext_lazy("Value pyramid"), ("tier_by", "tier_shares", "tier_thresholds")),
    (
        gettext_lazy("Profit after cost to serve"),
        (
            "default_margin_rate",
            "per_order",
            "per_service_contact",
            "per_message",
            "per_account_per_year",
            "acquisition",
        ),
    ),
    (gettext_lazy("Monthly KPIs"), ("lost_after_days",)),
)


@require_permission(RUN_ANALYSIS)
def analysis_start(request: HttpRequest) -> HttpResponse:
    form = AnalysisForm(request.POST if request.method == "POST" else None)
    repeating = None
    if request.method == "POST" and form.is_valid() and not form.cleaned_data["again"]:
        repeating = analysis_run_repeating(as_of=form.cleaned_data["as_of"])
    if request.method == "POST" and form.is_valid() and repeating is None:
        try:
            job = analysis_job_start(user=request.user, as_of=form.cleaned_data["as_of"])
        except PatronError as error:
            messages.error(request, error.message)
        else:
            return redirect("web:job_detail", job_id=job.pk)
    active = job_active(kind=JobKind.ANALYSIS)
    run_stale_fail()  # a run left "running" by a killed `patron analyze` shows as failed
    return render(
        request,
        "web/analysis/start.html",
        {
            "section": "dashboard",
            "form": form,
            "active": active,
            "active_state": job_state(job=active) if active is not None else None,
            "jobs": job_list_for_user(user=request.user, kind=JobKind.ANALYSIS)[:10],
            "runs": analysis_run_list(status=None)[:10],
            "repeating": repeating,
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@require_permission(MANAGE_SETTINGS)
def analysis_settings(request: HttpRequest) -> HttpResponse:
    """How every later run scores, tiers and costs customers (runs made keep their own)."""
    try:
        current = analysis_settings_get()
    except AnalysisSettingsError as error:  # the form starts from the defaults
        messages.error(request, error.message)
        current = AnalysisSettings()
    if request.method == "POST":
        form = AnalysisSettingsForm(request.POST)
        if form.is_valid():
            analysis_settings_save(settings=form.cleaned_data["settings"])
            messages.success(request, _("Saved. The next analysis run uses these settings."))
            return redirect("web:analysis_settings")
    else:
        form = AnalysisSettingsForm(initial=AnalysisSettingsForm.initial_from(current))
    return render(
        request,
        "web/analysis/settings.html",
        {"section": "settings", "form": form, "groups": SETTINGS_GROUPS},
        status=400 if form.is_bound and form.errors else 200,
    )
