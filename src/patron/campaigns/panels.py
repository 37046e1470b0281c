"""The customer 360 page's campaigns panel: what this customer received, was held out from
and responded to (registered from ``CampaignsConfig.ready``)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from patron.web.panels import SIDE, Panel, PanelContext, customer_panel_register


def _campaigns(context: PanelContext) -> dict[str, Any]:
    from patron.campaigns.models import Response
    from patron.campaigns.selectors import campaigns_for_customer

    targets = campaigns_for_customer(customer_id=context.customer.pk)
    responses = set(
        Response.objects.filter(customer=context.customer).values_list("campaign_id", "kind")
    )
    rows = []
    for target in targets:
        outcome = target.get_state_display()
        if target.message is not None:
            outcome = target.message.get_status_display()
        rows.append(
            {
                "target": target,
                "outcome": outcome,
                "responded": sorted(kind for c, kind in responses if c == target.campaign_id),
            }
        )
    return {"rows": rows}


def register_panels() -> None:
    customer_panel_register(
        Panel(
            "campaigns",
            _("Campaigns"),
            "campaigns/panel.html",
            _campaigns,
            "accounts.view_campaigns",
            column=SIDE,
            order=27,
        )
    )
