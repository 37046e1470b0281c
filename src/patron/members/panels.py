"""The customer 360 page's notification log (registered from ``MembersConfig.ready``)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from patron.web.panels import SIDE, Panel, PanelContext, customer_panel_register


def _notifications(context: PanelContext) -> dict[str, Any]:
    from patron.members.selectors import customer_notifications

    return customer_notifications(customer_id=context.customer.pk)


def register_panels() -> None:
    customer_panel_register(
        Panel(
            "member_notifications",
            _("Member portal and notifications"),
            "members/panel.html",
            _notifications,
            "accounts.view_loyalty",
            column=SIDE,
            order=16,
        )
    )
