"""Patron's own middleware: requests no part of Patron can store are refused at the door (a
NUL character in the path, the query or a JSON body: PostgreSQL refuses it in text, SQLite
cuts the text at it), and every page carries a Content-Security-Policy."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.utils.translation import gettext as _

NUL_REFUSED = "NUL"


def _has_nul(request: HttpRequest) -> bool:
    if "\x00" in request.path:
        return True
    query = request.META.get("QUERY_STRING", "")
    if "%00" in query or "\x00" in query:
        return True
    if request.content_type == "application/json":
        body = request.body
        return b"\x00" in body or b"\\u0000" in body
    return False


class NulBytesRefusedMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _has_nul(request):
            message = _("The request holds a NUL character, which no text in Patron can hold.")
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"code": "nul_character", "message": message, "extra": None}, status=400
                )
            return HttpResponseBadRequest(message)
        return self.get_response(request)


class SecurityHeadersMiddleware:
    """``Content-Security-Policy`` (PATRON_CONTENT_SECURITY_POLICY) on every response but the
    API's Swagger page, whose own inline script starts it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        from django.conf import settings

        self.get_response = get_response
        self.policy = getattr(settings, "PATRON_CONTENT_SECURITY_POLICY", "")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.policy and not request.path.startswith("/api/v1/docs"):
            response.headers.setdefault("Content-Security-Policy", self.policy)
        return response
