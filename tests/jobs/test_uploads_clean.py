"""`patron uploads clean`: old uploads lose their files and records; their jobs stay, and
uploads still being checked or imported are kept."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from typer.testing import CliRunner

from patron.cli import app
from patron.ingest.mapping import EntityKind
from patron.jobs.imports import upload_create, upload_dir, upload_path
from patron.jobs.models import Job, JobKind, JobStatus, Upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def upload_folder(settings: Any, tmp_path: Path) -> Path:
    settings.PATRON_UPLOAD_DIR = tmp_path / "uploads"
    return settings.PATRON_UPLOAD_DIR


def _upload(name: str, days_old: int, *, job_status: str | None = None) -> Upload:
    user = get_user_model().objects.get_or_create(username="carol")[0]
    csv = b"customer_id,date,amount\nC1,2024-01-05,10.00\nC2,2024-01-06,12.50\n"
    upload = upload_create(
        user=user, file=SimpleUploadedFile(name, csv), kind=EntityKind.TRANSACTIONS
    )
    (upload_dir(upload) / "import-rejects.csv").write_text("line,reason\n", encoding="utf-8")
    if job_status is not None:
        job = Job.objects.create(kind=JobKind.IMPORT, params={}, status=job_status)
        Upload.objects.filter(pk=upload.pk).update(import_job=job)
    Upload.objects.filter(pk=upload.pk).update(
        created_at=timezone.now() - dt.timedelta(days=days_old)
    )
    return Upload.objects.get(pk=upload.pk)


def test_old_uploads_are_removed_and_busy_or_recent_ones_kept() -> None:
    # given uploads of 40 days (imported), 40 days (import running), 40 days (never
    # checked) and 2 days
    imported = _upload("imported.csv", 40, job_status=JobStatus.DONE)
    running = _upload("running.csv", 40, job_status=JobStatus.RUNNING)
    never = _upload("never.csv", 40)
    recent = _upload("recent.csv", 2)
    folders = {u.original_name: upload_dir(u) for u in (imported, running, never, recent)}
    size = sum(f.stat().st_size for name in ("imported.csv", "never.csv")
               for f in folders[name].iterdir())  # fmt: skip

    # when old uploads are cleaned
    result = CliRunner().invoke(app, ["uploads", "clean", "--older-than", "30", "--json"])

    # then the two finished old ones are gone, files and records; their job stays
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"removed": 2, "bytes": size, "kept_busy": 1}
    assert not folders["imported.csv"].exists() and not folders["never.csv"].exists()
    assert set(Upload.objects.values_list("original_name", flat=True)) == {
        "running.csv",
        "recent.csv",
    }
    assert Job.objects.filter(status=JobStatus.DONE).count() == 1
    assert upload_path(running).is_file() and upload_path(recent).is_file()

    # and a second run removes nothing more
    again = CliRunner().invoke(app, ["uploads", "clean", "--older-than", "30", "--json"])
    assert json.loads(again.stdout) == {"removed": 0, "bytes": 0, "kept_busy": 1}
