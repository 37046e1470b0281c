"""Segment builder (live counts), campaign wizard, previews, launch confirmation, campaign
page with live progress, exports, and the public signed click redirect.

Marketing builds and launches; analysts read; admins do everything (the contact policy is
set in the admin site). Writes go through :mod:`patron.campaigns.services`.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from patron.accounts.permissions import public, require_permission
from patron.campaigns import rules, selectors, services
from patron.campaigns.audience import launch_preview
from patron.campaigns.content import render_for
from patron.campaigns.forms import CampaignForm, SegmentForm, TestSendForm
from patron.campaigns.measure_views import report_context
from patron.campaigns.models import Campaign, CampaignStatus, Segment, Target
from patron.campaigns.responses import click_record
from patron.core.cells import csv_download
from patron.core.errors import PatronError
from patron.web.views.methods import post_only

VIEW = "accounts.view_campaigns"
MANAGE = "accounts.manage_campaigns"
VIEW_SEGMENTS = "accounts.view_segments"
MANAGE_SEGMENTS = "accounts.manage_segments"
EXPORT = "accounts.export_customers"


def _campaign_or_404(campaign_id: int) -> Campaign:
    campaign = selectors.campaign_get(campaign_id=campaign_id)
    if campaign is None:
        raise Http404(_("No campaign with number %(id)s.") % {"id": campaign_id})
    return campaign


def _segment_or_404(segment_id: int) -> Segment:
    segment = Segment.objects.filter(pk=segment_id).first()
    if segment is None:
        raise Http404(_("No segment with number %(id)s.") % {"id": segment_id})
    return segment


@require_permission(VIEW_SEGMENTS)
def segment_list(request: HttpRequest) -> HttpResponse:
    segments = list(Segment.objects.order_by("name"))
    return render(
        request,
        "campaigns/segment_list.html",
        {
            "section": "campaigns",
            "segments": segments,
            "can_manage": request.user.has_perm(MANAGE_SEGMENTS),
        },
    )


@require_permission(VIEW_SEGMENTS)
def segment_builder(request: HttpRequest, segment_id: int | None = None) -> HttpResponse:
    segment = _segment_or_404(segment_id) if segment_id is not None else None
    initial = (
        {"name": segment.name, "rules": json.dumps(segment.rules, ensure_ascii=False, indent=1)}
        if segment
        else {}
    )
    form = SegmentForm(request.POST or None, initial=initial or {"rules": '{"all": []}'})
    if request.method == "POST":
        if not request.user.has_perm(MANAGE_SEGMENTS):
            raise PermissionDenied
        if form.is_valid():
            try:
                data = form.cleaned_data
                if segment is None:
                    segment = services.segment_create(
                        name=data["name"], rules=data["rules"], user=request.user
                    )
                else:
                    services.segment_update(segment=segment, name=data["name"], rules=data["rules"])
            except PatronError as error:
                form.add_error("rules", error.message)
            else:
                messages.success(request, _("Segment saved."))
                return redirect("campaigns:segment_edit", segment.pk)
    count = None
    if segment is not None:
        count = rules.segment_count(rules=segment.rules)
    return render(
        request,
        "campaigns/segment_builder.html",
        {
            "section": "campaigns",
            "form": form,
            "segment": segment,
            "count": count,
            "fields_json": rules.field_list(),
            "language": get_language() or "en",
            "can_manage": request.user.has_perm(MANAGE_SEGMENTS),
            "can_export": request.user.has_perm(EXPORT),
        },
    )


@require_permission(VIEW_SEGMENTS)
@post_only("campaigns:segment_list")
def segment_count(request: HttpRequest) -> HttpResponse:
    """The live count of the builder: ``{"count"}`` or ``{"error"}`` (400)."""
    try:
        return JsonResponse({"count": rules.segment_count(rules=request.POST.get("rules", ""))})
    except PatronError as error:
        return JsonResponse({"error": error.message}, status=400)


def _csv_response(filename: str, header: list[str], rows: Any) -> StreamingHttpResponse:
    return csv_download(filename=filename, header=header, rows=rows)


@require_permission(VIEW_SEGMENTS, EXPORT)
def segment_export(request: HttpRequest, segment_id: int) -> HttpResponse:
    from patron.accounts.privacy import FULL_PHONE_PERMISSION, phone_mask

    segment = _segment_or_404(segment_id)
    full = request.user.has_perm(FULL_PHONE_PERMISSION)
    rows = (
        rules.segment_queryset(rules=segment.rules)
        .order_by("external_id")
        .values_list("external_id", "name", "phone", "email")
        .iterator(chunk_size=5000)
    )
    shown = ((e, n, p if full else phone_mask(p), m) for e, n, p, m in rows)
    return _csv_response(
        f"segment-{segment.pk}.csv", ["customer_id", "name", "phone", "email"], shown
    )


@require_permission(VIEW)
def campaign_list(request: HttpRequest) -> HttpResponse:
    campaigns = list(selectors.campaign_list()[:200])
    return render(
        request,
        "campaigns/campaign_list.html",
        {
            "section": "campaigns",
            "campaigns": campaigns,
            "can_manage": request.user.has_perm(MANAGE),
        },
    )


@require_permission(MANAGE)
def campaign_wizard(request: HttpRequest, campaign_id: int | None = None) -> HttpResponse:
    campaign = _campaign_or_404(campaign_id) if campaign_id is not None else None
    if campaign is not None and campaign.status != CampaignStatus.DRAFT:
        messages.error(request, _("Only a draft can be changed."))
        return redirect("campaigns:campaign_detail", campaign.pk)
    form = CampaignForm(request.POST or None, instance=campaign)
    if request.method == "POST" and form.is_valid():
        fields = {k: v for k, v in form.cleaned_data.items() if k != "segment"}
        segment = form.cleaned_data["segment"]
        try:
            if campaign is None:
                campaign = services.campaign_create(
                    name=fields.pop("name"),
                    segment_id=segment.pk if segment else None,
                    channel=fields.pop("channel"),
                    user=request.user,
                    **fields,
                )
            else:
                services.campaign_update(campaign=campaign, segment=segment, **fields)
        except PatronError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Campaign saved. Check the previews, then launch."))
            return redirect("campaigns:campaign_detail", campaign.pk)
    return render(
        request,
        "campaigns/campaign_wizard.html",
        {"section": "campaigns", "form": form, "campaign": campaign},
    )


def _preview_customer(request: HttpRequest, campaign: Campaign) -> Any:
    from patron.customers.models import Customer

    wanted = request.GET.get("customer", "").strip()
    if wanted:
        return Customer.objects.filter(external_id=wanted).first()
    if campaign.segment is None:
        return None
    return rules.segment_queryset(rules=campaign.segment.rules).order_by("pk").first()


@require_permission(VIEW)
def campaign_preview(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = _campaign_or_404(campaign_id)
    customer = _preview_customer(request, campaign)
    previews = []
    if customer is not None:
        for language in ("en", "zh-hans"):
            previews.append(
                render_for(
                    campaign,
                    customer_id=customer.pk,
                    external_id=customer.external_id,
                    name=customer.name,
                    language=language,
                    coupon="ABCD234567",
                )
            )
    return render(
        request,
        "campaigns/campaign_preview.html",
        {"section": "campaigns", "campaign": campaign, "customer": customer, "previews": previews},
    )


@require_permission(MANAGE)
def campaign_launch(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """GET: the confirmation (who is reached, held out and skipped, and why); POST: launch."""
    campaign = _campaign_or_404(campaign_id)
    if request.method == "POST":
        try:
            services.campaign_launch(campaign_id=campaign.pk)
        except PatronError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Campaign launched."))
        return redirect("campaigns:campaign_detail", campaign.pk)
    preview = launch_preview(campaign=campaign) if campaign.segment else None
    return render(
        request,
        "campaigns/campaign_launch.html",
        {
            "section": "campaigns",
            "campaign": campaign,
            "preview": preview,
            "reasons": _reason_labels(),
            "test_form": TestSendForm(),
        },
    )


@require_permission(MANAGE)
@post_only("campaigns:campaign_launch")
def campaign_test(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = _campaign_or_404(campaign_id)
    form = TestSendForm(request.POST)
    customer = _preview_customer(request, campaign)
    if form.is_valid() and customer is not None:
        services.campaign_test_send(
            campaign=campaign, customer_id=customer.pk, address=form.cleaned_data["address"]
        )
        messages.success(request, _("Test messages queued in English and Chinese."))
    else:
        messages.error(request, _("Give an address for the test."))
    return redirect("campaigns:campaign_launch", campaign.pk)


def _reason_labels() -> dict[str, str]:
    from patron.messaging.models import SkipReason

    return {str(k): str(v) for k, v in SkipReason.choices}


def _account_dict(campaign: Campaign) -> dict[str, Any]:
    account = selectors.campaign_account(campaign=campaign)
    labels = _reason_labels()
    data = account.api()
    data["in_doubt"] = account.in_doubt
    data["pending"] = account.pending
    data["skipped_rows"] = [
        {"reason": k, "label": labels.get(k, k), "n": n} for k, n in sorted(account.skipped.items())
    ]
    data["status_label"] = str(dict(CampaignStatus.choices).get(account.status, account.status))
    return data


@require_permission(VIEW)
def campaign_progress(request: HttpRequest, campaign_id: int) -> HttpResponse:
    return JsonResponse(_account_dict(_campaign_or_404(campaign_id)))


@require_permission(VIEW)
def campaign_detail(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = _campaign_or_404(campaign_id)
    account = _account_dict(campaign)
    results = selectors.campaign_results(campaign=campaign) if account["targeted"] else {}
    redeemed = results["treatment"].redeemed if results else 0
    cost = services.campaign_cost(campaign=campaign, sent=account["sent"], redeemed=redeemed)
    return render(
        request,
        "campaigns/campaign_detail.html",
        {
            "section": "campaigns",
            "campaign": campaign,
            "account": account,
            "results": results,
            "cost": cost,
            **(report_context(campaign) if account["targeted"] else {}),
            "can_manage": request.user.has_perm(MANAGE),
            "can_export": request.user.has_perm(EXPORT),
        },
    )


@require_permission(VIEW, EXPORT)
def campaign_export(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """The audience with groups, states and codes, for channels Patron does not send to."""
    campaign = _campaign_or_404(campaign_id)
    rows = (
        Target.objects.filter(campaign=campaign)
        .order_by("occurrence", "customer__external_id")
        .values_list(
            "occurrence",
            "customer__external_id",
            "customer__name",
            "customer__phone",
            "group",
            "state",
            "reason",
            "coupon_code",
        )
        .iterator(chunk_size=5000)
    )
    return _csv_response(
        f"campaign-{campaign.pk}.csv",
        ["occurrence", "customer_id", "name", "phone", "group", "state", "reason", "coupon"],
        rows,
    )


@public
def click(request: HttpRequest, token: str) -> HttpResponse:
    try:
        return HttpResponseRedirect(click_record(token=token))
    except PatronError as error:
        return HttpResponse(error.message, status=404, content_type="text/plain; charset=utf-8")


def customer_list_url(segment: Segment) -> str:
    return reverse("web:customer_list") + f"?saved_segment={segment.pk}"
