"""Jobs and uploads in the Django admin, read-only: they are written by the app."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from patron.jobs.models import Job, Upload


class _ReadOnly(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Job)
class JobAdmin(_ReadOnly):
    list_display = ("id", "kind", "status", "created_by", "created_at", "finished_at")
    list_filter = ("kind", "status")


@admin.register(Upload)
class UploadAdmin(_ReadOnly):
    list_display = ("id", "original_name", "kind", "size", "uploaded_by", "created_at")
    list_filter = ("kind",)
    search_fields = ("original_name",)
