"""Reads: the jobs and uploads a user may see, a job's progress as the browser shows it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext

from patron.jobs.models import FINISHED, Job, JobKind, JobStatus, Upload
from patron.jobs.progress import progress_read

VIEW_ALL_JOBS = "jobs.view_job"
VIEW_ALL_UPLOADS = "jobs.view_upload"


def job_list_for_user(*, user: Any, kind: JobKind | None = None) -> QuerySet[Job]:
    """The jobs ``user`` started; every job for those who may view all jobs (admin, analyst)."""
    jobs = (
        Job.objects.all() if user.has_perm(VIEW_ALL_JOBS) else Job.objects.filter(created_by=user)
    )
    return jobs.filter(kind=kind) if kind is not None else jobs


def job_get_for_user(*, user: Any, job_id: int) -> Job | None:
    return job_list_for_user(user=user).filter(pk=job_id).first()


def job_active(*, kind: JobKind) -> Job | None:
    """The queued or running job of ``kind``, if any (oldest first)."""
    return (
        Job.objects.filter(kind=kind, status__in=[JobStatus.QUEUED, JobStatus.RUNNING])
        .order_by("created_at", "id")
        .first()
    )


@dataclass(frozen=True)
class JobState:
    """Where a job stands, as a page and the JSON endpoint show it."""

    id: int
    kind: str
    status: str
    status_label: str
    done: int
    total: int | None
    percent: int | None  # None: the total is not known (an indeterminate bar)
    message: str  # translated
    detail: str  # "1,200 of 5,000", or "1,200 rows read" when the total is unknown
    error: str  # translated when it is one of Patron's own messages
    finished: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "status_label": self.status_label,
            "done": self.done,
            "total": self.total,
            "percent": self.percent,
            "message": self.message,
            "detail": self.detail,
            "error": self.error,
            "finished": self.finished,
        }


def job_state(*, job: Job) -> JobState:
    """The job's row, with the live figures of a running job from the cache."""
    done, total, message = job.progress_done, job.progress_total, job.message
    if job.status == JobStatus.RUNNING:
        live = progress_read(job.pk)
        if live is not None:
            done, total, message = live.get("done", 0), live.get("total"), live.get("message", "")
    finished = job.status in FINISHED
    if job.status == JobStatus.DONE:
        percent: int | None = 100
        message = ""  # the step it ended on says nothing once it is done
    elif total:
        percent = max(0, min(100, int(100 * done / total)))
    else:
        percent = 0 if job.status == JobStatus.QUEUED else None
    done, total = int(done or 0), int(total) if total is not None else None
    if total is not None:
        detail = gettext("%(done)s of %(total)s") % {"done": f"{done:,}", "total": f"{total:,}"}
    elif done:
        detail = gettext("%(done)s rows read") % {"done": f"{done:,}"}
    else:
        detail = ""
    return JobState(
        id=job.pk,
        kind=job.kind,
        status=job.status,
        status_label=str(JobStatus(job.status).label),
        done=done,
        total=total,
        percent=percent,
        message=gettext(message) if message else "",
        detail=detail,
        error=gettext(job.error) if job.error else "",
        finished=finished,
    )


def upload_list_for_user(*, user: Any) -> QuerySet[Upload]:
    """The files ``user`` uploaded; every upload for those who may view all of them."""
    uploads = Upload.objects.select_related("check_job", "import_job")
    if user.has_perm(VIEW_ALL_UPLOADS):
        return uploads
    return uploads.filter(Q(uploaded_by=user))


def upload_get_for_user(*, user: Any, upload_id: int) -> Upload | None:
    return upload_list_for_user(user=user).filter(pk=upload_id).first()


def upload_for_job(*, job: Job) -> Upload | None:
    """The uploaded file an import job or check works on (None for other jobs)."""
    if job.kind not in (JobKind.IMPORT, JobKind.IMPORT_CHECK):
        return None
    return Upload.objects.filter(pk=job.params.get("upload_id")).first()
