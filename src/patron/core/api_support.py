"""What every API operation shares: the one error body, the responses each may give, and
bounded pagination (no endpoint returns every customer at once)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination

MAX_OFFSET = 1_000_000_000


class ErrorOut(Schema):
    """Every 4xx answer: a stable ``code``, a sentence, and details (fields, row errors)."""

    code: str
    message: str
    extra: Any = None


# Declared on every operation, so the schema says what the API does.
ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut}
ERRORS_404: dict[int, Any] = {**ERRORS, 404: ErrorOut}


class BoundedPagination(LimitOffsetPagination):
    """``limit`` from 1 to PATRON_API_MAX_PAGE (200), ``offset`` up to a billion: a page
    too large, or a number past what the database holds (2**63), is a 422, never a 500."""

    class Input(Schema):
        limit: int = Field(settings.PATRON_API_PAGE, ge=1, le=settings.PATRON_API_MAX_PAGE)
        offset: int = Field(0, ge=0, le=MAX_OFFSET)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_limit=settings.PATRON_API_MAX_PAGE, **kwargs)
