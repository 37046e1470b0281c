from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from patron.accounts.permissions import public, require_permission
from patron.sales.selectors import store_stats


@require_permission()
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "web/home.html", {"stats": store_stats(), "section": "dashboard"})


@public
def healthz(request: HttpRequest) -> JsonResponse:
    connection.ensure_connection()
    return JsonResponse({"status": "ok"})
