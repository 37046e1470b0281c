"""/api/v1/segments, /api/v1/campaigns and /api/v1/coupons (shapes fixed by issue 18)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Status

from patron.accounts.permissions import api_auth
from patron.campaigns import rules, selectors, services
from patron.campaigns.errors import CampaignError, CampaignErrorCode
from patron.campaigns.responses import coupon_redeem
from patron.campaigns.schemas import (
    CampaignCreated,
    CampaignIn,
    CampaignStatusOut,
    CountOut,
    LaunchOut,
    RedeemIn,
    RedeemOut,
    SegmentCountIn,
    SegmentIn,
    SegmentOut,
)

segments_router = Router(tags=["segments"])
campaigns_router = Router(tags=["campaigns"])
coupons_router = Router(tags=["campaigns"])


@segments_router.post("", response={201: SegmentOut}, auth=api_auth("accounts.manage_segments"))
def segment_create(request: HttpRequest, payload: SegmentIn):  # type: ignore[no-untyped-def]
    segment = services.segment_create(name=payload.name, rules=payload.rules, user=request.user)
    return Status(201, {"id": segment.pk, "count": rules.segment_count(rules=segment.rules)})


@segments_router.post("/count", response=CountOut, auth=api_auth("accounts.view_segments"))
def segment_count(request: HttpRequest, payload: SegmentCountIn):  # type: ignore[no-untyped-def]
    return {"count": rules.segment_count(rules=payload.rules)}


@campaigns_router.post(
    "", response={201: CampaignCreated}, auth=api_auth("accounts.manage_campaigns")
)
def campaign_create(request: HttpRequest, payload: CampaignIn):  # type: ignore[no-untyped-def]
    campaign = services.campaign_create(**payload.dict(), user=request.user)
    return Status(201, {"id": campaign.pk})


@campaigns_router.post(
    "/{campaign_id}/launch", response={202: LaunchOut}, auth=api_auth("accounts.manage_campaigns")
)
def campaign_launch(request: HttpRequest, campaign_id: int):  # type: ignore[no-untyped-def]
    campaign = services.campaign_launch(campaign_id=campaign_id)
    campaign.refresh_from_db()
    return Status(202, {"id": campaign.pk, "status": campaign.status})


@campaigns_router.get(
    "/{campaign_id}", response=CampaignStatusOut, auth=api_auth("accounts.view_campaigns")
)
def campaign_status(request: HttpRequest, campaign_id: int):  # type: ignore[no-untyped-def]
    campaign = selectors.campaign_get(campaign_id=campaign_id)
    if campaign is None:
        raise CampaignError(
            f"There is no campaign {campaign_id}.", code=CampaignErrorCode.NOT_FOUND
        )
    return selectors.campaign_account(campaign=campaign).api()


@coupons_router.post(
    "/{code}/redeem", response={200: RedeemOut}, auth=api_auth("accounts.manage_campaigns")
)
def coupon_redeem_api(request: HttpRequest, code: str, payload: RedeemIn):  # type: ignore[no-untyped-def]
    target = coupon_redeem(code=code, order_id=payload.order_id, source=payload.source)
    return {
        "code": target.coupon_code,
        "campaign_id": target.campaign_id,
        "customer_id": target.customer.external_id,
        "redeemed_at": target.coupon_redeemed_at,
    }
