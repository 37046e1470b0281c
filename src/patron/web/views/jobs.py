"""A background job's page (progress, then its outcome) and the JSON the page polls."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from patron.accounts.permissions import require_permission
from patron.jobs.models import Job, JobKind, JobStatus
from patron.jobs.selectors import job_get_for_user, job_state, upload_for_job
from patron.jobs.services import job_stale_fail

# The counts of an import's outcome, in the order the page lists them.
IMPORT_COUNTS = (
    ("read", gettext_lazy("Rows read")),
    ("inserted", gettext_lazy("Inserted")),
    ("updated", gettext_lazy("Updated")),
    ("unchanged", gettext_lazy("Unchanged")),
    ("skipped", gettext_lazy("Skipped (blank or summary lines)")),
    ("rejected", gettext_lazy("Rejected")),
    ("customers_created", gettext_lazy("New customers")),
    ("products_created", gettext_lazy("New products")),
)


def _job_or_404(request: HttpRequest, job_id: int) -> Job:
    job = job_get_for_user(user=request.user, job_id=job_id)
    if job is None:
        raise Http404(_("No such job."))
    return job


def _next_url(job: Job) -> str:
    """Where a finished job's work is seen: the import's file, the dashboard."""
    if job.kind == JobKind.IMPORT_CHECK and job.params.get("upload_id"):
        return reverse("web:import_review", kwargs={"upload_id": job.params["upload_id"]})
    if job.kind == JobKind.ANALYSIS:
        return reverse("web:home")
    if job.kind == JobKind.WARNING_REFRESH:
        return reverse("retention:warning_list")
    if job.kind == JobKind.RECOMMEND:
        return reverse("recommend:runs")
    return reverse("web:job_detail", kwargs={"job_id": job.pk})


@require_permission()
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _job_or_404(request, job_id)
    if job.status == JobStatus.RUNNING and job_stale_fail():  # its worker died
        job.refresh_from_db()
    state = job_state(job=job)
    upload = upload_for_job(job=job)
    counts = []
    if job.kind == JobKind.IMPORT and job.result:
        counts = [(key, label, job.result.get(key, 0)) for key, label in IMPORT_COUNTS]
    return render(
        request,
        "web/jobs/detail.html",
        {
            "section": "imports" if upload is not None else "dashboard",
            "job": job,
            "state": state,
            "upload": upload,
            "counts": counts,
            "refresh": not state.finished,
            "next_url": _next_url(job),
            "can_import": request.user.has_perm("jobs.import_data"),
        },
    )


@require_permission()
def job_status(request: HttpRequest, job_id: int) -> JsonResponse:
    job = _job_or_404(request, job_id)
    if job.status == JobStatus.RUNNING and job_stale_fail():  # its worker died
        job.refresh_from_db()
    data = job_state(job=job).as_dict()
    data["url"] = _next_url(job) if job.finished else None
    response = JsonResponse(data)
    response["Cache-Control"] = "no-store"
    return response
