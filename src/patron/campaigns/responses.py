"""Responses: a coupon redeemed (once), a link clicked (signed redirect), and the import of
contacts of campaigns run outside Patron."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from patron.campaigns.content import click_read
from patron.campaigns.errors import CampaignError, CampaignErrorCode
from patron.campaigns.models import Response, ResponseKind, Target


@transaction.atomic
def coupon_redeem(*, code: str, order_id: str, source: str = "default") -> Target:
    """Redeem a campaign coupon for an order, once (a guarded update decides a race).

    Raises
    ------
    CampaignError
        An unknown code (``campaigns.coupon_unknown``) or one already redeemed
        (``campaigns.coupon_used``, with the order it went to).
    """
    from patron.sales.models import Order

    code = code.strip().upper()
    target = Target.objects.filter(coupon_code=code).first()
    if target is None:
        raise CampaignError(
            _("There is no coupon %(code)s.") % {"code": code},
            code=CampaignErrorCode.COUPON_UNKNOWN,
        )
    order = Order.objects.filter(source=source, external_id=order_id).first()
    now = timezone.now()
    taken = Target.objects.filter(pk=target.pk, coupon_redeemed_at__isnull=True).update(
        coupon_redeemed_at=now, coupon_order=order
    )
    if not taken:
        used = Response.objects.filter(
            campaign_id=target.campaign_id,
            customer_id=target.customer_id,
            kind=ResponseKind.REDEEM,
        ).first()
        raise CampaignError(
            _("Coupon %(code)s was already redeemed.") % {"code": code},
            code=CampaignErrorCode.COUPON_USED,
            extra={"order_id": used.order_ref if used else ""},
        )
    Response.objects.create(
        campaign_id=target.campaign_id,
        customer_id=target.customer_id,
        kind=ResponseKind.REDEEM,
        at=now,
        order=order,
        order_ref=order_id,
    )
    target.refresh_from_db()
    return target


def click_record(*, token: str) -> str:
    """Record a click of a signed campaign link; returns where to send the visitor.

    Raises
    ------
    CampaignError
        A damaged or foreign link (``campaigns.bad_link``).
    """
    from patron.campaigns.models import Campaign

    read = click_read(token)
    campaign = Campaign.objects.filter(pk=read[0]).first() if read else None
    if read is None or campaign is None or not campaign.link_url:
        raise CampaignError(_("This link is damaged or expired."), code=CampaignErrorCode.BAD_LINK)
    Response.objects.create(
        campaign=campaign, customer_id=read[2], kind=ResponseKind.CLICK, at=timezone.now()
    )
    return campaign.link_url
