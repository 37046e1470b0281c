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


_ERROR_RESPONSES = {
    400: "Bad request: a value the API cannot read.",
    401: "No valid token.",
    403: "The token's role does not allow this.",
    404: "Not found.",
    409: "Conflicts with what the store holds (already done, balance short, used code).",
    422: "A field is invalid.",
}


def schema_with_error_responses(schema: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document with the error answers every operation can give, in the one error
    body, wherever an operation does not declare them itself: 400, 401, 403 and 422 on every
    operation, 404 where the path names something, 409 on writes. Apps declare their own
    where they answer otherwise (``ERRORS``)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("ErrorOut", ErrorOut.model_json_schema())
    body = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}}
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            codes = [400, 401, 403, 422]
            writes = method.lower() in ("post", "put", "patch", "delete")
            if "{" in path or writes:  # a write names things in its body too
                codes.append(404)
            if writes:
                codes.append(409)
            responses = operation["responses"]
            declared = {str(code) for code in responses}  # ninja keys them as numbers
            for code in codes:
                if str(code) not in declared:
                    responses[str(code)] = {"description": _ERROR_RESPONSES[code], **body}
    return schema
