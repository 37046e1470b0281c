"""Background jobs and the files uploaded for them.

A :class:`Job` is one piece of background work (an import, its check, an analysis run):
what it is, where it stands, how far it got, what came out. An :class:`Upload` is a file
sent through the browser for import, with the mapping a person chose for it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class JobKind(models.TextChoices):
    IMPORT_CHECK = "import_check", _("Import check")
    IMPORT = "import", _("Import")
    ANALYSIS = "analysis", _("Analysis run")
    WARNING_REFRESH = "warning_refresh", _("Churn warning refresh")
    RECOMMEND = "recommend", _("Recommendation run")


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


FINISHED = frozenset({JobStatus.DONE, JobStatus.FAILED})


class Job(models.Model):
    kind = models.CharField(_("kind"), max_length=32, choices=JobKind.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED
    )
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    progress_done = models.BigIntegerField(_("done"), default=0)
    progress_total = models.BigIntegerField(_("total"), null=True, blank=True)
    message = models.CharField(_("message"), max_length=200, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    worker = models.CharField(
        _("worker"), max_length=100, blank=True, help_text="host:pid of the process running it."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="jobs",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("import_data", "Can import files in the browser"),
            ("run_analysis", "Can start an analysis run"),
        ]
        indexes = [
            models.Index(fields=["created_by", "-created_at"], name="job_user_created_idx"),
            models.Index(fields=["kind", "status"], name="job_kind_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in JobStatus]), name="job_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in JobKind]), name="job_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(progress_done__gte=0)
                & (Q(progress_total__isnull=True) | Q(progress_total__gte=0)),
                name="job_progress_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"job {self.pk} {self.kind} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


class ImportMode(models.TextChoices):
    ALL_OR_NOTHING = "all", _("All or nothing: import only if every row is valid")
    SKIP_BAD = "skip_bad", _("Skip bad rows: import the valid rows, download the rejected ones")


class UploadKind(models.TextChoices):
    """What an uploaded file holds: the values of patron.ingest.mapping.EntityKind."""

    TRANSACTIONS = "transactions", _("Transactions (orders or order lines)")
    CUSTOMERS = "customers", _("Customers")
    PRODUCTS = "products", _("Products")


class Upload(models.Model):
    kind = models.CharField(_("what the file holds"), max_length=16, choices=UploadKind.choices)
    original_name = models.CharField(_("file name"), max_length=255)
    stored_path = models.CharField(max_length=500, help_text="Relative to PATRON_UPLOAD_DIR.")
    size = models.BigIntegerField(_("size (bytes)"))
    encoding = models.CharField(_("encoding"), max_length=32, blank=True)
    sheet = models.CharField(_("sheet"), max_length=100, blank=True)
    # What the reader found: columns, sample rows, preset, the detected mapping.
    preview = models.JSONField(_("preview"), default=dict, blank=True)
    mapping = models.JSONField(_("mapping"), default=dict, blank=True)  # field -> column
    date_format = models.CharField(_("date format"), max_length=40, blank=True)
    mode = models.CharField(
        _("mode"), max_length=16, choices=ImportMode.choices, default=ImportMode.ALL_OR_NOTHING
    )
    check_job = models.ForeignKey(
        Job, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    import_job = models.ForeignKey(
        Job, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="uploads",
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("uploaded file")
        verbose_name_plural = _("uploaded files")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["uploaded_by", "-created_at"], name="upload_user_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(size__gte=0), name="upload_size_not_negative"),
            models.CheckConstraint(
                condition=Q(mode__in=[m.value for m in ImportMode]), name="upload_mode_valid"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in UploadKind]), name="upload_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.kind})"
