"""The customer 360 page's panel of churn warnings (registered from ``RetentionConfig.ready``)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from patron.web.panels import SIDE, Panel, PanelContext, customer_panel_register


def _warnings(context: PanelContext) -> dict[str, Any]:
    from patron.retention.selectors import warning_for_customer

    return {"warnings": warning_for_customer(customer=context.customer)}


def register_panels() -> None:
    customer_panel_register(
        Panel(
            "warnings",
            _("Churn warnings"),
            "retention/panel.html",
            _warnings,
            "retention.view_churnwarning",
            column=SIDE,
            order=25,
        )
    )
