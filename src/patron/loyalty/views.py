"""Staff pages of the programme: members (list, page, statement CSV, adjustments), enrolment,
rewards, settings, analytics. Marketing manages, service sees and adjusts with a reason,
analysts read. Writes go through :mod:`patron.loyalty.services`."""

from __future__ import annotations

import csv
import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from patron.accounts.permissions import require_permission
from patron.core.cells import neutralise_row
from patron.core.errors import PatronError
from patron.loyalty import report, selectors, services
from patron.loyalty.charts import analytics_charts
from patron.loyalty.forms import (
    AdjustForm,
    EnrolForm,
    MemberFilterForm,
    MigrationForm,
    ProgrammeForm,
    RewardForm,
)
from patron.loyalty.models import Member, Reward
from patron.web.views.methods import post_only

VIEW = "accounts.view_loyalty"
MANAGE = "accounts.manage_loyalty"
ADJUST = "loyalty.adjust_points"
PAGE_SIZE = 25


def _member_or_404(card_number: str) -> Member:
    member = (
        Member.objects.select_related("customer", "tier", "referred_by__customer")
        .filter(card_number=card_number)
        .first()
    )
    if member is None:
        raise Http404(_("No member has card number %(card)s.") % {"card": card_number})
    return member


@require_permission(VIEW)
def member_list(request: HttpRequest) -> HttpResponse:
    form = MemberFilterForm(request.GET or None)
    filters: dict[str, Any] = {}
    if form.is_valid():
        referred = form.cleaned_data["referred"]
        filters = {
            "tier": form.cleaned_data["tier"] or None,
            "query": form.cleaned_data["q"] or None,
            "referred": {"yes": True, "no": False}.get(referred),
        }
    page = Paginator(selectors.member_list(**filters), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"member": m, "figures": selectors.member_figures(member=m)} for m in page]
    context = {
        "section": "loyalty",
        "form": form,
        "page": page,
        "rows": rows,
        "totals": report.points_totals(),
        "can_manage": request.user.has_perm(MANAGE),
        "enrol_form": EnrolForm(),
    }
    return render(request, "loyalty/member_list.html", context)


@require_permission(VIEW, MANAGE)
@post_only("loyalty:member_list")
def member_enrol(request: HttpRequest) -> HttpResponse:
    form = EnrolForm(request.POST)
    if not form.is_valid():
        for error in form.errors.values():
            messages.error(request, " ".join(error))
        return redirect("loyalty:member_list")
    data = form.cleaned_data
    try:
        if data["segment"]:
            counts = services.members_enrol_segment(segment=data["segment"])
            messages.success(request, _("%(n)s customers enrolled.") % {"n": counts["enrolled"]})
            return redirect("loyalty:member_list")
        member = services.member_enrol(
            customer_id=data["customer_id"],
            referral_code=data["referral_code"] or None,
            id_document_type=data["id_document_type"],
            id_document_number=data["id_document_number"],
            answers=form.answers(),
        )
    except PatronError as error:
        messages.error(request, error.message)
        return redirect("loyalty:member_list")
    messages.success(request, _("Enrolled with card %(card)s.") % {"card": member.card_number})
    return redirect("loyalty:member_detail", card_number=member.card_number)


@require_permission(VIEW)
def member_detail(request: HttpRequest, card_number: str) -> HttpResponse:
    member = _member_or_404(card_number)
    context = {
        "section": "loyalty",
        "member": member,
        "figures": selectors.member_figures(member=member),
        "expiring": selectors.member_expiring(member=member),
        "statement": list(reversed(selectors.member_statement(member=member))),
        "referrals": list(member.referrals.select_related("customer")),
        "progress": selectors.tier_progress(member=member),
        "tier_changes": list(member.tier_changes.select_related("from_tier", "to_tier")[:20]),
        "adjust_form": AdjustForm() if request.user.has_perm(ADJUST) else None,
    }
    return render(request, "loyalty/member_detail.html", context)


@require_permission(VIEW)
def member_statement_csv(request: HttpRequest, card_number: str) -> HttpResponse:
    member = _member_or_404(card_number)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="statement-{member.card_number}.csv"'
    response.write("\ufeff")  # Excel on Chinese Windows reads a BOM-less CSV as GBK
    writer = csv.writer(response)
    writer.writerow(
        [
            _("Date"),
            _("Kind"),
            _("Points"),
            _("Pending"),
            _("Reason"),
            _("Expires on"),
            _("Balance"),
        ]
    )
    for row in selectors.member_statement(member=member):
        writer.writerow(
            neutralise_row(
                [
                    row["date"].isoformat(),
                    row["kind_label"],
                    row["points"],
                    _("Yes") if row["pending"] else "",
                    row["reason"],
                    row["expires_on"] or "",
                    row["balance"],
                ]
            )
        )
    return response


@require_permission(VIEW, ADJUST)
@post_only("loyalty:member_detail")
def member_adjust(request: HttpRequest, card_number: str) -> HttpResponse:
    member = _member_or_404(card_number)
    form = AdjustForm(request.POST)
    if form.is_valid():
        try:
            services.points_adjust(
                member=member,
                points=form.cleaned_data["points"],
                reason=form.cleaned_data["reason"],
                user=request.user,
            )
            messages.success(request, _("Points adjusted."))
        except PatronError as error:
            messages.error(request, error.message)
    else:
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label}: {' '.join(errors)}" if label else " ".join(errors))
    return redirect("loyalty:member_detail", card_number=member.card_number)


@require_permission(VIEW)
def reward_list(request: HttpRequest) -> HttpResponse:
    can_manage = request.user.has_perm(MANAGE)
    form = RewardForm(request.POST or None) if can_manage else None
    if request.method == "POST":
        if not can_manage:
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        assert form is not None
        if form.is_valid():
            form.save()
            messages.success(request, _("Reward saved."))
            return redirect("loyalty:reward_list")
    rewards = Reward.objects.select_related("min_tier").order_by("points_cost", "code")
    return render(
        request,
        "loyalty/rewards.html",
        {
            "section": "loyalty",
            "rewards": rewards,
            "form": form,
            "top": {r["reward__code"]: r for r in report.top_rewards(100)},
        },
    )


@require_permission(VIEW)
def programme_settings(request: HttpRequest) -> HttpResponse:
    programme = services.programme_get()
    can_manage = request.user.has_perm(MANAGE)
    form = ProgrammeForm(request.POST or None, instance=programme)
    if request.method == "POST":
        if not can_manage:
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        if form.is_valid():
            form.save()
            messages.success(request, _("Programme settings saved."))
            return redirect("loyalty:settings")
    if not can_manage:
        for field in form.fields.values():
            field.disabled = True
    context = {
        "section": "loyalty",
        "form": form,
        "can_manage": can_manage,
        "tiers": programme.tiers.order_by("-rank"),
    }
    return render(request, "loyalty/settings.html", context)


@require_permission(VIEW)
def programme_analytics(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    form = MigrationForm(request.GET or None)
    start, end = today - dt.timedelta(days=90), today
    if form.is_valid():
        start = form.cleaned_data["start"] or start
        end = form.cleaned_data["end"] or end
    data = {
        "totals": report.points_totals(),
        "months": report.points_by_month(),
        "compare": report.members_against_others(),
        "tiers": report.tier_distribution(),
        "moves": report.tier_moves(start, end),
        "rewards": report.top_rewards(),
        "referrals": report.referral_value(),
    }
    context = {"section": "loyalty", "form": form, **data, "charts": analytics_charts(data)}
    return render(request, "loyalty/analytics.html", context)
