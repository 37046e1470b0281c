"""Import in the browser: upload a file, correct the mapping, check the rows, import.

Each step is a page that works without JavaScript; the check and the import run as
background jobs (:mod:`patron.jobs.imports`), whose progress the page polls, or reloads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from patron.accounts.permissions import require_permission
from patron.core.errors import PatronError
from patron.ingest.mapping import EntityKind
from patron.jobs.fields import field_label
from patron.jobs.forms import ConfirmForm, MappingForm, UploadForm
from patron.jobs.imports import (
    upload_check_start,
    upload_create,
    upload_import_start,
    upload_rejects_path,
)
from patron.jobs.models import ImportMode, JobStatus, Upload
from patron.jobs.selectors import job_state, upload_get_for_user, upload_list_for_user
from patron.web.views.methods import post_only

IMPORT_PERMISSION = "jobs.import_data"
ERRORS_SHOWN = 200
EXAMPLES_SHOWN = 3


def _upload_or_404(request: HttpRequest, upload_id: int) -> Upload:
    upload = upload_get_for_user(user=request.user, upload_id=upload_id)
    if upload is None:
        raise Http404(_("No such upload."))
    return upload


@require_permission(IMPORT_PERMISSION)
def import_start(request: HttpRequest) -> HttpResponse:
    posted = request.method == "POST"
    form = UploadForm(request.POST if posted else None, request.FILES if posted else None)
    if posted and form.is_valid():
        try:
            upload = upload_create(
                user=request.user,
                file=form.cleaned_data["file"],
                kind=EntityKind(form.cleaned_data["kind"]),
                encoding=form.cleaned_data["encoding"],
                sheet=form.cleaned_data["sheet"],
                preset=form.cleaned_data["preset"],
            )
        except PatronError as error:
            form.add_error("file", error.message)
        else:
            return redirect("web:import_review", upload_id=upload.pk)
    uploads = upload_list_for_user(user=request.user)[:10]
    return render(
        request,
        "web/imports/start.html",
        {
            "section": "imports",
            "form": form,
            "uploads": uploads,
            "max_mb": settings.PATRON_UPLOAD_MAX_MB,
        },
        status=400 if form.is_bound and form.errors else 200,
    )


def _mapping_form(upload: Upload, data: Any = None) -> MappingForm:
    return MappingForm(
        data,
        kind=EntityKind(upload.kind),
        columns=upload.preview.get("columns", []),
        mapping=upload.mapping,
        initial={"date_format": upload.date_format},
    )


def _review(
    request: HttpRequest,
    upload: Upload,
    *,
    form: MappingForm | None = None,
    confirm: ConfirmForm | None = None,
    status: int = 200,
) -> HttpResponse:
    preview = upload.preview
    form = form or _mapping_form(upload)
    sample = preview.get("sample", [])
    rows = []
    for i, (column, field) in enumerate(form.column_fields()):
        examples = [row[i + 1] for row in sample[:EXAMPLES_SHOWN] if row[i + 1] is not None]
        rows.append({"column": column, "field": field, "examples": examples})
    check, imported = upload.check_job, upload.import_job
    check_state = job_state(job=check) if check is not None else None
    result = check.result if check is not None and check.status == JobStatus.DONE else None
    errors = result.get("errors", [])[:ERRORS_SHOWN] if result else []
    label = preview.get("preset_label") or {}
    language = "zh-hans" if (get_language() or "").lower().startswith("zh") else "en"
    running = check_state is not None and not check_state.finished
    context = {
        "section": "imports",
        "upload": upload,
        "preview": preview,
        "preset_label": label.get(language) or label.get("en", ""),
        "missing": [field_label(name) for name in preview.get("missing", [])],
        "rows": rows,
        "sample": sample,
        "form": form,
        "check": check,
        "check_state": check_state,
        "result": result,
        "errors": errors,
        "more_errors": max(0, int(result.get("rejected", 0)) - len(errors)) if result else 0,
        "confirm": confirm or ConfirmForm(initial={"mode": upload.mode}),
        "bad_rows": bool(result and result.get("rejected")),
        "import_job": imported,
        "can_import": result is not None
        and (imported is None or imported.status == JobStatus.FAILED),
        "rejects": upload_rejects_path(upload) is not None,
        "refresh": running,
    }
    return render(request, "web/imports/review.html", context, status=status)


@require_permission(IMPORT_PERMISSION)
def import_review(request: HttpRequest, upload_id: int) -> HttpResponse:
    return _review(request, _upload_or_404(request, upload_id))


@require_permission(IMPORT_PERMISSION)
@post_only("web:import_review")
def import_check(request: HttpRequest, upload_id: int) -> HttpResponse:
    upload = _upload_or_404(request, upload_id)
    form = _mapping_form(upload, request.POST)
    if not form.is_valid():
        return _review(request, upload, form=form, status=400)
    try:
        upload_check_start(
            upload=upload,
            user=request.user,
            mapping=form.cleaned_data["mapping"],
            date_format=form.cleaned_data["date_format"],
        )
    except PatronError as error:
        form.add_error(None, error.message)
        return _review(request, upload, form=form, status=400)
    return redirect(f"{_review_url(upload)}#check")


def _review_url(upload: Upload) -> str:
    from django.urls import reverse

    return reverse("web:import_review", kwargs={"upload_id": upload.pk})


@require_permission(IMPORT_PERMISSION)
@post_only("web:import_review")
def import_confirm(request: HttpRequest, upload_id: int) -> HttpResponse:
    upload = _upload_or_404(request, upload_id)
    confirm = ConfirmForm(request.POST)
    if not confirm.is_valid():
        return _review(request, upload, confirm=confirm, status=400)
    try:
        job = upload_import_start(
            upload=upload, user=request.user, mode=ImportMode(confirm.cleaned_data["mode"])
        )
    except PatronError as error:
        messages.error(request, error.message)
        return _review(request, upload, confirm=confirm, status=400)
    return redirect("web:job_detail", job_id=job.pk)


@require_permission(IMPORT_PERMISSION)
def import_rejects(request: HttpRequest, upload_id: int) -> FileResponse:
    upload = _upload_or_404(request, upload_id)
    path = upload_rejects_path(upload)
    if path is None:
        raise Http404(_("This file has no rejected rows."))
    filename = f"{Path(upload.original_name).stem}-rejects.csv"
    return FileResponse(path.open("rb"), as_attachment=True, filename=filename,
                        content_type="text/csv; charset=utf-8")  # fmt: skip
