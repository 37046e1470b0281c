from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from patron.sales.selectors import store_stats


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "web/home.html", {"stats": store_stats()})


def healthz(request: HttpRequest) -> JsonResponse:
    connection.ensure_connection()
    return JsonResponse({"status": "ok"})
