"""Errors of background jobs and uploads, each with a stable code."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from patron.core.errors import PatronError


class JobErrorCode(StrEnum):
    UPLOAD_TOO_LARGE = "jobs.upload_too_large"
    UPLOAD_UNSUPPORTED = "jobs.upload_unsupported"
    MAPPING_INVALID = "jobs.mapping_invalid"
    NOT_CHECKED = "jobs.not_checked"
    CHECK_FOUND_ERRORS = "jobs.check_found_errors"
    ALREADY_IMPORTED = "jobs.already_imported"
    ANALYSIS_UNDER_WAY = "jobs.analysis_under_way"
    NOTHING_IMPORTED = "jobs.nothing_imported"


class JobError(PatronError):
    """A job or upload request that cannot go ahead; ``message`` says why and what to do."""

    default_code = "jobs.error"

    def __init__(self, message: str, *, code: JobErrorCode, extra: Any = None) -> None:
        super().__init__(message, code=code, extra=extra)
