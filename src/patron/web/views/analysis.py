"""Start an analysis run of the store from the browser; it runs as a background job."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from patron.accounts.permissions import require_permission
from patron.core.errors import PatronError
from patron.insights.selectors import analysis_run_list
from patron.jobs.analysis import analysis_start as analysis_job_start
from patron.jobs.forms import AnalysisForm
from patron.jobs.models import JobKind
from patron.jobs.selectors import job_active, job_list_for_user, job_state

RUN_ANALYSIS = "jobs.run_analysis"


@require_permission(RUN_ANALYSIS)
def analysis_start(request: HttpRequest) -> HttpResponse:
    form = AnalysisForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            job = analysis_job_start(user=request.user, as_of=form.cleaned_data["as_of"])
        except PatronError as error:
            messages.error(request, error.message)
        else:
            return redirect("web:job_detail", job_id=job.pk)
    active = job_active(kind=JobKind.ANALYSIS)
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
        },
        status=400 if form.is_bound and form.errors else 200,
    )
