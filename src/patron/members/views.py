"""The member portal (/member/): sign-in with a code, the card, points, tier, statement,
rewards, friends, orders, preferences, consents and the member's own data. Pages read through
:mod:`patron.members.selectors` and write through :mod:`patron.members.services`, always for
the member of the portal cookie."""

from __future__ import annotations

import csv
import io
import json
import uuid
from typing import Any

from django.contrib import messages
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from patron.accounts.permissions import public
from patron.accounts.throttle import client_address
from patron.core.cells import neutralise_row
from patron.core.errors import PatronError
from patron.loyalty.models import Reward
from patron.members import selectors, services
from patron.members.auth import COOKIE, cookie_set, member_page, portal_member
from patron.members.errors import CODE_SENT
from patron.members.forms import CodeForm, EmailForm, topic_label
from patron.web.views.methods import post_only


def _lang() -> str:
    return "zh-hans" if (get_language() or "").startswith("zh") else "en"


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    ok = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
    return target if ok and target.startswith("/member/") else "/member/"


@public
def login(request: HttpRequest) -> HttpResponse:
    """Step 1: the address. The answer is the same whether it is a member's or not."""
    if portal_member(request) is not None:
        return redirect("members:home")
    form = EmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.code_request(email=form.cleaned_data["email"])
        code_form = CodeForm(initial={"email": form.cleaned_data["email"]})
        context = {"form": code_form, "sent": CODE_SENT, "next": _next(request)}
        return render(request, "members/code.html", context)
    return render(request, "members/login.html", {"form": form, "next": _next(request)})


@public
def login_code(request: HttpRequest) -> HttpResponse:
    """Step 2: the code, exchanged for the portal cookie."""
    form = CodeForm(request.POST or None)
    if request.method != "POST":
        return redirect("members:login")
    status = 200
    if form.is_valid():
        try:
            token, _session = services.session_create(
                email=form.cleaned_data["email"],
                code=form.cleaned_data["code"],
                kind="portal",
                ip=client_address(request),
            )
        except PatronError as error:
            form.add_error("code", error.message)
            status = getattr(error, "http_status", 400)
        else:
            response = redirect(_next(request))
            cookie_set(response, token=token, max_age=services.session_days() * 86400)
            return response
    return render(
        request, "members/code.html", {"form": form, "next": _next(request)}, status=status
    )


@public
@post_only("members:login")
def logout(request: HttpRequest) -> HttpResponse:
    token = request.COOKIES.get(COOKIE, "")
    if token:
        services.session_end(token=token)
    response = redirect("members:login")
    response.delete_cookie(COOKIE, path="/member/")
    return response


def _qr_svg(text: str) -> str:
    import segno

    return str(segno.make(text, error="m").svg_inline(scale=4, border=2, dark="#111"))


@member_page
def home(request: HttpRequest) -> HttpResponse:
    member = request.member  # type: ignore[attr-defined]
    me = selectors.member_me(member=member, language=_lang())
    context = {"me": me, "member": member, "qr": _qr_svg(member.card_number)}
    return render(request, "members/home.html", context)


@member_page
def statement(request: HttpRequest) -> HttpResponse:
    data = selectors.member_statement(member=request.member)  # type: ignore[attr-defined]
    return render(request, "members/statement.html", {"data": data})


@member_page
def rewards(request: HttpRequest) -> HttpResponse:
    data = selectors.member_rewards(member=request.member, language=_lang())  # type: ignore[attr-defined]
    return render(request, "members/rewards.html", {"data": data})


@member_page
def reward_redeem(request: HttpRequest, id: int) -> HttpResponse:
    """GET: confirm; POST: redeem (the form's key makes a double submit one redemption)."""
    member = request.member  # type: ignore[attr-defined]
    offer = selectors.member_rewards(member=member, language=_lang())
    reward = next((r for r in offer["rewards"] if r["reward_id"] == id), None)
    if reward is None or not Reward.objects.filter(pk=id, active=True).exists():
        messages.error(request, _("This reward is not on offer."))
        return redirect("members:rewards")
    if request.method == "POST":
        try:
            redemption, _created = services.member_redeem(
                member=member, reward_id=id, idempotency_key=request.POST.get("key", "")
            )
        except PatronError as error:
            messages.error(request, error.message)
            return redirect("members:rewards")
        codes = ", ".join(redemption.response.get("codes", []))
        messages.success(request, _("Redeemed. Your code: %(codes)s") % {"codes": codes})
        return redirect("members:rewards")
    context = {"reward": reward, "balance": offer["points_balance"], "key": uuid.uuid4().hex}
    return render(request, "members/redeem.html", context)


@member_page
def friends(request: HttpRequest) -> HttpResponse:
    member = request.member  # type: ignore[attr-defined]
    context = {"member": member, "friends": selectors.member_referrals(member=member)}
    return render(request, "members/friends.html", context)


@member_page
def orders(request: HttpRequest) -> HttpResponse:
    rows = selectors.member_orders(member=request.member)  # type: ignore[attr-defined]
    return render(request, "members/orders.html", {"orders": rows})


def _bools(request: HttpRequest, prefix: str, names: list[str]) -> dict[str, bool]:
    return {n: request.POST.get(f"{prefix}{n}") == "on" for n in names}


@member_page
def preferences(request: HttpRequest) -> HttpResponse:
    from patron.loyalty.models import Question

    member = request.member  # type: ignore[attr-defined]
    current = selectors.member_preferences(member=member)
    questions = list(Question.objects.filter(active=True).order_by("position", "key"))
    if request.method == "POST":
        answers: dict[str, Any] = {}
        for q in questions:
            if q.kind == "multiple":
                value: Any = request.POST.getlist(f"q_{q.key}")
            else:
                value = request.POST.get(f"q_{q.key}", "").strip()
            if value not in ("", []):
                answers[q.key] = value
        try:
            services.preferences_update(
                member=member,
                language=request.POST.get("language") or None,
                notifications=_bools(request, "n_", list(current["notifications"])),
                answers=answers,
            )
        except PatronError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Saved."))
            response = redirect("members:preferences")
            language = request.POST.get("language")
            if language in ("en", "zh-hans"):
                from django.conf import settings

                response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, samesite="Lax")
            return response
    rows = [
        {"key": q.key, "text": q.text_zh if _lang() == "zh-hans" else q.text_en, "q": q,
         "value": current["answers"].get(q.key)}
        for q in questions
    ]  # fmt: skip
    notifications = [(t, topic_label(t), on) for t, on in current["notifications"].items()]
    context = {"current": current, "questions": rows, "notifications": notifications}
    return render(request, "members/preferences.html", context)


@member_page
def consents(request: HttpRequest) -> HttpResponse:
    member = request.member  # type: ignore[attr-defined]
    current = selectors.member_consents(member=member)
    if request.method == "POST":
        try:
            services.consents_update(
                member=member,
                channels=_bools(request, "c_", list(current["channels"])),
                topics=_bools(request, "t_", list(current["topics"])),
            )
        except PatronError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Saved."))
            return redirect("members:consents")
    from patron.customers.models import Channel

    labels = dict(Channel.choices)
    context = {
        "channels": [(c, labels.get(c, c), on) for c, on in current["channels"].items()],
        "topics": [(t, topic_label(t), on) for t, on in current["topics"].items()],
    }
    return render(request, "members/consents.html", context)


@member_page
def data(request: HttpRequest) -> HttpResponse:
    member = request.member  # type: ignore[attr-defined]
    if request.method == "POST":
        try:
            services.erasure_request(member=member)
        except PatronError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Your request is with us. We will write when it is done."))
        return redirect("members:data")
    pending = selectors.erasure_pending(member=member)
    return render(request, "members/data.html", {"pending": pending})


@member_page
def data_download(request: HttpRequest, fmt: str) -> HttpResponse:
    export = selectors.member_export(member=request.member)  # type: ignore[attr-defined]
    name = f"my-data-{request.member.card_number}"  # type: ignore[attr-defined]
    if fmt == "json":
        body = json.dumps(export, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
        response = HttpResponse(body, content_type="application/json; charset=utf-8")
    else:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["section", "field", "value"])
        for section, value in export.items():
            rows = value if isinstance(value, list) else [value]
            for index, row in enumerate(rows):
                for field, cell in row.items() if isinstance(row, dict) else [("", row)]:
                    label = f"{section}[{index}]" if isinstance(value, list) else section
                    text = json.dumps(cell, cls=DjangoJSONEncoder, ensure_ascii=False)
                    writer.writerow(neutralise_row([label, field, text.strip('"')]))
        response = HttpResponse("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response
