"""The customer 360 page's panel of tickets and survey answers (registered from
``ServiceConfig.ready``)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from patron.web.panels import SIDE, Panel, PanelContext, customer_panel_register


def _service(context: PanelContext) -> dict[str, Any]:
    from patron.service.selectors import responses_for_customer, tickets_for_customer

    customer = context.customer
    return {
        "tickets": tickets_for_customer(customer=customer),
        "responses": responses_for_customer(customer=customer),
        "can_open": context.request.user.has_perm("accounts.manage_tickets"),
        "external_id": customer.external_id,
    }


def register_panels() -> None:
    customer_panel_register(
        Panel(
            "service",
            _("Tickets and survey answers"),
            "service/panel.html",
            _service,
            "accounts.view_tickets",
            column=SIDE,
            order=30,
        )
    )
