"""The customer 360 page's membership panel (registered from ``LoyaltyConfig.ready``)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from patron.web.panels import SIDE, Panel, PanelContext, customer_panel_register

STATEMENT_LINES = 10
ADJUST_PERMISSION = "loyalty.adjust_points"


def _membership(context: PanelContext) -> dict[str, Any]:
    from patron.loyalty.models import Member
    from patron.loyalty.selectors import (
        member_expiring,
        member_figures,
        member_statement,
        tier_progress,
    )

    member = (
        Member.objects.select_related("tier", "customer", "referred_by__customer")
        .filter(customer=context.customer)
        .first()
    )
    user = context.request.user
    if member is None:
        return {"member": None, "can_manage": user.has_perm("accounts.manage_loyalty")}
    return {
        "member": member,
        "figures": member_figures(member=member),
        "expiring": member_expiring(member=member)[:3],
        "statement": list(reversed(member_statement(member=member, limit=STATEMENT_LINES))),
        "referrals": list(member.referrals.select_related("customer")[:10]),
        "progress": tier_progress(member=member),
        "can_adjust": user.has_perm(ADJUST_PERMISSION),
    }


def register_panels() -> None:
    customer_panel_register(
        Panel(
            "membership",
            _("Membership"),
            "loyalty/panel.html",
            _membership,
            "accounts.view_loyalty",
            column=SIDE,
            order=15,
        )
    )
