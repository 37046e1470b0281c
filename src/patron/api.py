"""The REST API under /api/v1: routers mounted here, with auth and one error shape."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja import errors as ninja_errors
from ninja.security import HttpBearer

from patron import __version__
from patron.core.errors import PatronError


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):  # type: ignore[no-untyped-def]
        from patron.core.services import token_authenticate

        user = token_authenticate(token=token)
        if user is not None:
            request.user = user
        return user


def signed_in_or_token(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The OpenAPI schema and the docs page are for signed-in users and API token holders
    (``Authorization: Bearer <token>``): the docs page sends others to sign in, the schema
    answers them 401."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            header = request.headers.get("Authorization", "")
            user = None
            if header[:7].lower() == "bearer ":
                from patron.core.services import token_authenticate

                user = token_authenticate(token=header[7:].strip())
            if user is None:
                if request.path.endswith(".json"):
                    return JsonResponse(
                        {"code": "unauthorized", "message": DOCS_SIGN_IN, "extra": {}},
                        status=401,
                    )
                from django.contrib.auth.views import redirect_to_login

                return redirect_to_login(request.get_full_path())
            request.user = user
        return view(request, *args, **kwargs)

    from patron.accounts.permissions import SIGNED_IN_RULE

    guarded.access_rule = SIGNED_IN_RULE  # type: ignore[attr-defined]
    return guarded


DOCS_SIGN_IN = "Sign in, or send an API token (Authorization: Bearer <token>)."


class PatronAPI(NinjaAPI):
    """The API whose schema also documents the error answers every operation can give."""

    def get_openapi_schema(self, **kwargs: Any) -> Any:
        from patron.core.api_support import schema_with_error_responses

        return schema_with_error_responses(super().get_openapi_schema(**kwargs))


api = PatronAPI(
    title="Patron API",
    version=__version__,
    urls_namespace="api",
    auth=BearerToken(),
    docs_url="/docs",
    docs_decorator=signed_in_or_token,
)

NOT_FOUND_CODES = {"customer_not_found", "campaigns.not_found", "campaigns.coupon_unknown"}
CONFLICT_CODES = {"campaigns.coupon_used"}


@api.exception_handler(PatronError)
def _patron_error(request: HttpRequest, exc: PatronError) -> HttpResponse:
    # An error may carry its own status (loyalty: 404, 409) and the field it concerns.
    status = getattr(exc, "http_status", None) or (
        404 if exc.code in NOT_FOUND_CODES else 409 if exc.code in CONFLICT_CODES else 400
    )
    body = {"code": str(exc.code), "message": exc.message, "extra": exc.extra}
    if getattr(exc, "field", None):
        body["field"] = exc.field
    if isinstance(exc.extra, dict) and "card_number" in exc.extra:
        body["card_number"] = exc.extra["card_number"]  # 409 already a member: the card
    return api.create_response(request, body, status=status)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    fields = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return api.create_response(
        request,
        {"code": "invalid", "message": "Some fields are invalid.", "extra": {"fields": fields}},
        status=422,
    )


def _error(request: HttpRequest, status: int, code: str, message: str, extra: Any = None):  # type: ignore[no-untyped-def]
    return api.create_response(
        request, {"code": code, "message": message, "extra": extra}, status=status
    )


@api.exception_handler(ninja_errors.ValidationError)
def _request_invalid(request: HttpRequest, exc: ninja_errors.ValidationError) -> HttpResponse:
    """A body, query or path that does not fit the schema: the one error shape, with
    pydantic's list of what is wrong (made JSON-safe)."""
    errors = json.loads(json.dumps(exc.errors, default=str))
    return _error(request, 422, "invalid", str(_("Some fields are invalid.")), {"errors": errors})


@api.exception_handler(ninja_errors.AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: Exception) -> HttpResponse:
    message = _("A valid token is needed: Authorization: Bearer <token> (patron token).")
    return _error(request, 401, "unauthorized", str(message))


@api.exception_handler(ninja_errors.AuthorizationError)
def _forbidden(request: HttpRequest, exc: ninja_errors.AuthorizationError) -> HttpResponse:
    return _error(
        request, 403, "forbidden", str(exc.message or _("Your role does not allow this."))
    )


@api.exception_handler(ninja_errors.HttpError)
def _http_error(request: HttpRequest, exc: ninja_errors.HttpError) -> HttpResponse:
    return _error(request, exc.status_code, "http_error", str(exc.message))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "not_found", str(_("Not found.")))


def _mount() -> None:
    from patron.campaigns.api import campaigns_router, coupons_router, segments_router
    from patron.customers.api import router as customers_router
    from patron.loyalty.api import router as loyalty_router
    from patron.recommend.api import router as recommend_router
    from patron.sales.api import router as sales_router
    from patron.service.api import router as tickets_router

    api.add_router("/customers", customers_router)
    api.add_router("/customers", recommend_router)
    api.add_router("/orders", sales_router)
    api.add_router("/tickets", tickets_router)
    api.add_router("/segments", segments_router)
    api.add_router("/campaigns", campaigns_router)
    api.add_router("/coupons", coupons_router)
    api.add_router("/loyalty", loyalty_router)
    # members (issue 20): member tokens only, its own auth (patron.members.auth)
    from patron.members.api import router as member_router

    api.add_router("/member", member_router)


_mount()
