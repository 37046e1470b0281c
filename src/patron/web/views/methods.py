"""Form targets that take only POST.

A GET of one (a reload from the address bar, or the language switcher on the page that showed
the form's errors, which sends the browser back to the same address) goes to the page the
form is on, in place of Django's blank 405 page.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect

View = Callable[..., HttpResponse]


def post_only(back: str) -> Callable[[View], View]:
    """Run the view on POST; redirect a GET or HEAD to the URL named ``back``, given the same
    URL arguments; refuse any other method (405)."""

    def decorate(view: View) -> View:
        @wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method == "POST":
                return view(request, *args, **kwargs)
            if request.method in ("GET", "HEAD"):
                return redirect(back, *args, **kwargs)
            return HttpResponseNotAllowed(["POST"])

        return guarded

    return decorate
