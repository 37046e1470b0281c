"""Staff pages of member self-service: who uses the portal, last sign-ins, erasure requests
(an admin carries them out)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from patron.accounts.permissions import require_permission
from patron.members import selectors, services

VIEW = "accounts.view_loyalty"
ERASE = "members.carry_out_erasure"


@require_permission(VIEW)
def portal_staff(request: HttpRequest) -> HttpResponse:
    context = {
        "usage": selectors.portal_usage(),
        "erasures": list(selectors.erasure_requests()[:100]),
        "can_erase": request.user.has_perm(ERASE),
    }
    return render(request, "members/staff.html", context)


@require_permission(ERASE)
def erasure_do(request: HttpRequest, id: int) -> HttpResponse:
    if request.method != "POST":
        return redirect("members:staff")
    done = services.erasure_carry_out(request_id=id, by=request.user.get_username())
    messages.success(request, _("Member %(card)s is erased.") % {"card": done.card_number})
    return redirect("members:staff")
