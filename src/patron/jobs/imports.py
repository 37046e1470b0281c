"""Import in the browser: keep an uploaded file, check its rows, import it, in background jobs.

The steps are those of ``patron import``, through the same importer
(:func:`patron.ingest.importer.import_file`): the upload is previewed (preset, mapping, first
rows), a person corrects the mapping, a dry run reports every bad row by its line, and the
import proper runs with the checked mapping, all-or-nothing or skipping the bad rows.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from patron.ingest.errors import IngestError, IngestErrorCode
from patron.ingest.importer import ImportOptions, import_file
from patron.ingest.mapping import EntityKind
from patron.ingest.reading import PARQUET_SUFFIXES, TEXT_SUFFIXES, XLSX_SUFFIXES
from patron.jobs.errors import JobError, JobErrorCode
from patron.jobs.fields import field_label
from patron.jobs.models import ImportMode, Job, JobKind, JobStatus, Upload
from patron.jobs.progress import JobProgress
from patron.jobs.services import job_create, job_language

UPLOAD_SUFFIXES = frozenset(TEXT_SUFFIXES | XLSX_SUFFIXES | PARQUET_SUFFIXES)
CHECK_REJECTS = "check-rejects.csv"
IMPORT_REJECTS = "rejects.csv"
# Progress messages: stored as these English msgids, translated when shown.
READING = gettext_noop("Reading and checking the rows")
IMPORTING = gettext_noop("Importing the rows")
SAVING = gettext_noop("Saving to the database")


def upload_dir(upload: Upload) -> Path:
    return Path(settings.PATRON_UPLOAD_DIR) / Path(upload.stored_path).parent


def upload_path(upload: Upload) -> Path:
    return Path(settings.PATRON_UPLOAD_DIR) / upload.stored_path


def upload_create(
    *,
    user: Any,
    file: UploadedFile,
    kind: EntityKind,
    encoding: str = "",
    sheet: str = "",
    preset: str = "",
) -> Upload:
    """Keep an uploaded file under PATRON_UPLOAD_DIR and preview it (preset, mapping, rows).

    ``preset``: an export format's name, or "generic" for none; empty to recognise it.

    Raises
    ------
    JobError
        The file is larger than PATRON_UPLOAD_MAX_MB or of a kind Patron cannot read.
    IngestError
        The file cannot be read (empty, undecodable, no such sheet); nothing is kept.
    """
    from patron.jobs.preview_child import upload_preview

    name = Path(file.name or "upload").name
    suffix = Path(name).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise JobError(
            _("%(name)s: Patron reads %(kinds)s files.")
            % {"name": name, "kinds": ", ".join(sorted(UPLOAD_SUFFIXES))},
            code=JobErrorCode.UPLOAD_UNSUPPORTED,
        )
    limit = settings.PATRON_UPLOAD_MAX_MB * 1024 * 1024
    if file.size is None or file.size > limit:
        raise JobError(
            _("%(name)s is larger than the limit of %(limit)s MB (PATRON_UPLOAD_MAX_MB).")
            % {"name": name, "limit": settings.PATRON_UPLOAD_MAX_MB},
            code=JobErrorCode.UPLOAD_TOO_LARGE,
        )
    stored = Path(uuid.uuid4().hex) / f"data{suffix}"
    target = Path(settings.PATRON_UPLOAD_DIR) / stored
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as out:
        for chunk in file.chunks():
            out.write(chunk)
    try:  # in a child process with a memory limit: never parse a stranger's file in here
        preview = upload_preview(target, kind=kind, encoding=encoding, sheet=sheet, preset=preset)
    except IngestError as error:
        _remove(target)
        message = _("%(name)s: %(problem)s") % {"name": name, "problem": error.message}
        raise IngestError(message, code=error.code, extra=error.extra) from None
    upload = Upload(
        kind=str(kind),
        original_name=name[:255],
        stored_path=stored.as_posix(),
        size=file.size,
        encoding=encoding,
        sheet=sheet,
        preview=preview,
        mapping=dict(preview["mapping"]),
        uploaded_by=user if user.is_authenticated else None,
    )
    try:
        upload.full_clean()
        upload.save()
    except BaseException:
        _remove(target)
        raise
    return upload


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        path.parent.rmdir()


def upload_check_start(
    *, upload: Upload, user: Any, mapping: dict[str, str], date_format: str = ""
) -> Job:
    """Save the mapping a person chose and start the dry run that reports the bad rows.

    Raises
    ------
    JobError
        The file was imported already, the mapping names a column the file lacks, or a
        required field has no column.
    """
    _refuse_if_imported(upload)
    columns = set(upload.preview.get("columns", []))
    unknown = sorted(c for c in mapping.values() if c not in columns)
    if unknown:
        raise JobError(
            _("The file has no column %(columns)s.") % {"columns": ", ".join(unknown)},
            code=JobErrorCode.MAPPING_INVALID,
        )
    _mapping_check(upload, mapping, date_format)
    with transaction.atomic():
        upload.mapping = dict(mapping)
        upload.date_format = date_format
        upload.check_job = job_create(
            kind=JobKind.IMPORT_CHECK,
            params={"upload_id": upload.pk, **job_language()},
            user=user,
        )
        upload.full_clean()
        upload.save(update_fields=["mapping", "date_format", "check_job"])
    return upload.check_job


def _mapping_check(upload: Upload, mapping: dict[str, str], date_format: str) -> None:
    """Open the file with this mapping as the import will, so a missing required field is
    refused now, by the importer's own rule, rather than by the check job."""
    from patron.ingest.importer import import_plan

    options = upload_import_options(upload, dry_run=True, skip_bad=True, rejects=None)
    options = replace(options, mapping=dict(mapping), date_format=date_format or None)
    try:
        import_plan(upload_path(upload), kind=EntityKind(upload.kind), options=options)
    except IngestError as error:
        if error.code not in (IngestErrorCode.MISSING_COLUMN, IngestErrorCode.BAD_MAPPING):
            raise
        missing = (error.extra or {}).get("missing")
        if not missing:
            raise JobError(error.message, code=JobErrorCode.MAPPING_INVALID) from None
        raise JobError(
            _("Choose a column for every required field: %(fields)s.")
            % {"fields": ", ".join(field_label(name) for name in missing)},
            code=JobErrorCode.MAPPING_INVALID,
            extra={"missing": missing},
        ) from None


def upload_import_start(*, upload: Upload, user: Any, mode: ImportMode) -> Job:
    """Start the import of a checked upload.

    Raises
    ------
    JobError
        The rows were not checked with this mapping, the check found bad rows and ``mode`` is
        all-or-nothing, or the file was imported already.
    """
    _refuse_if_imported(upload)
    check = upload.check_job
    if check is None or check.status != JobStatus.DONE:
        raise JobError(_("Check the rows before importing them."), code=JobErrorCode.NOT_CHECKED)
    rejected = int(check.result.get("rejected", 0))
    if rejected and mode == ImportMode.ALL_OR_NOTHING:
        raise JobError(
            _(
                "%(count)s rows have errors, so an all-or-nothing import would import nothing. "
                "Fix the file and upload it again, or choose to skip the bad rows."
            )
            % {"count": rejected},
            code=JobErrorCode.CHECK_FOUND_ERRORS,
            extra={"rejected": rejected},
        )
    with transaction.atomic():
        upload.mode = mode
        upload.import_job = job_create(
            kind=JobKind.IMPORT,
            params={"upload_id": upload.pk, "check_job_id": check.pk, **job_language()},
            user=user,
        )
        upload.full_clean()
        upload.save(update_fields=["mode", "import_job"])
    return upload.import_job


def _refuse_if_imported(upload: Upload) -> None:
    job = upload.import_job
    if job is not None and job.status != JobStatus.FAILED:
        raise JobError(
            _("This file is imported already (or its import is under way)."),
            code=JobErrorCode.ALREADY_IMPORTED,
        )


def upload_import_options(
    upload: Upload, *, dry_run: bool, skip_bad: bool, rejects: Path | None
) -> ImportOptions:
    """The importer's options for an upload: its checked mapping, complete as it stands."""
    preset = upload.preview.get("preset") or None
    return ImportOptions(
        mapping=dict(upload.mapping),
        mapping_complete=True,
        date_format=upload.date_format or None,
        encoding=upload.encoding or None,
        sheet=upload.sheet or None,
        skip_bad=skip_bad,
        rejects=rejects,
        preset=preset,
        dry_run=dry_run,
    )


def _result(report: Any, rejects: Path) -> dict[str, Any]:
    result = report.as_dict()
    result.pop("path", None)  # where the server keeps the file is nobody's business
    result.pop("examples", None)  # the upload's page previews the file itself
    result["rejects_file"] = bool(report.rejected) and rejects.exists()
    return result


def upload_check_work(*, job: Job, progress: JobProgress) -> dict[str, Any]:
    """The dry run: every row read and validated as the import would, nothing written."""
    upload = Upload.objects.get(pk=job.params["upload_id"])
    rejects = upload_dir(upload) / CHECK_REJECTS
    progress.update(0, message=READING)
    report = import_file(
        upload_path(upload),
        kind=EntityKind(upload.kind),
        options=upload_import_options(upload, dry_run=True, skip_bad=True, rejects=rejects),
        progress=lambda rows: progress.update(rows),
    )
    progress.update(report.read, total=report.read)
    return _result(report, rejects)


def upload_import_work(*, job: Job, progress: JobProgress) -> dict[str, Any]:
    """The import proper, with the checked mapping; its total is the rows the check read.

    Raises
    ------
    JobError
        All-or-nothing and a row was rejected after all: nothing was imported.
    """
    upload = Upload.objects.select_related("check_job").get(pk=job.params["upload_id"])
    check = Job.objects.get(pk=job.params["check_job_id"])
    total = int(check.result.get("read", 0)) or None
    skip_bad = upload.mode == ImportMode.SKIP_BAD
    rejects = upload_dir(upload) / IMPORT_REJECTS

    def rows_read(rows: int) -> None:
        done = total is not None and rows >= total
        progress.update(rows, message=SAVING if done else IMPORTING)

    progress.update(0, total=total, message=IMPORTING)
    report = import_file(
        upload_path(upload),
        kind=EntityKind(upload.kind),
        options=upload_import_options(upload, dry_run=False, skip_bad=skip_bad, rejects=rejects),
        progress=rows_read,
    )
    result = _result(report, rejects)
    if not report.committed:
        raise JobError(
            gettext_noop("Nothing was imported: some rows were rejected."),
            code=JobErrorCode.NOTHING_IMPORTED,
            extra={"result": result},
        )
    return result


def upload_rejects_path(upload: Upload) -> Path | None:
    """The rejected rows of the last import, else of the last check; None when there are none."""
    for job, name in ((upload.import_job, IMPORT_REJECTS), (upload.check_job, CHECK_REJECTS)):
        if job is not None and job.finished and job.result.get("rejects_file"):
            path = upload_dir(upload) / name
            if path.exists():
                return path
    return None


@dataclass(frozen=True)
class UploadsCleaned:
    removed: int  # uploads whose files and records are gone
    bytes: int  # the size of the files removed
    kept_busy: int  # old uploads kept because a check or an import of theirs is under way

    def as_dict(self) -> dict[str, int]:
        return {"removed": self.removed, "bytes": self.bytes, "kept_busy": self.kept_busy}


def uploads_clean(*, older_than: dt.timedelta, now: dt.datetime | None = None) -> UploadsCleaned:
    """Delete uploads older than ``older_than``: the stored file, its rejects and the record.

    The jobs stay (their results and who ran them); an upload whose check or import is queued
    or running is kept.
    """
    cutoff = (now or timezone.now()) - older_than
    removed = size = busy = 0
    for upload in Upload.objects.filter(created_at__lt=cutoff).select_related(
        "check_job", "import_job"
    ):
        jobs = [job for job in (upload.check_job, upload.import_job) if job is not None]
        if any(not job.finished for job in jobs):
            busy += 1
            continue
        folder = upload_dir(upload)
        if folder.is_dir() and folder != Path(settings.PATRON_UPLOAD_DIR):
            size += sum(f.stat().st_size for f in folder.iterdir() if f.is_file())
            shutil.rmtree(folder, ignore_errors=True)
        upload.delete()
        removed += 1
    return UploadsCleaned(removed=removed, bytes=size, kept_busy=busy)
