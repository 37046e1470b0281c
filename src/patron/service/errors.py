"""Errors of the service app (tickets, surveys, imports), each with a stable code."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from patron.core.errors import PatronError


class ServiceErrorCode(StrEnum):
    CUSTOMER_NOT_FOUND = "customer_not_found"  # the API answers 404 for it (patron.api)
    BAD_LINK = "service.bad_link"  # a survey link forged or damaged
    LINK_EXPIRED = "service.link_expired"
    SURVEY_OFF = "service.survey_off"
    IMPORT_ROWS_REJECTED = "service.import_rows_rejected"
    IMPORT_MISSING_COLUMN = "service.import_missing_column"
    NOTHING_TO_REPORT = "service.nothing_to_report"


class ServiceError(PatronError):
    """A service request that cannot go ahead; ``message`` says why and what to do."""

    default_code = "service.error"

    def __init__(self, message: str, *, code: ServiceErrorCode, extra: Any = None) -> None:
        super().__init__(message, code=code, extra=extra)
        self.code: ServiceErrorCode = code
