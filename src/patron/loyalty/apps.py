from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoyaltyConfig(AppConfig):
    name = "patron.loyalty"
    label = "loyalty"
    verbose_name = _("Loyalty")

    def ready(self) -> None:
        from patron.accounts.audit import audit_register
        from patron.loyalty.models import Member, Programme, Reward, Tier
        from patron.loyalty.panels import register_panels

        # People's changes to the programme, its tiers and rewards, and to members, are
        # audited; manual adjustments are ledger entries carrying who made them and why.
        for model in (Programme, Tier, Reward, Member):
            audit_register(model)
        register_panels()
        # Orders earn points whatever path they come by: the importer calls this around
        # every import of orders, inside its transaction.
        from patron.ingest.order_hooks import OrdersHook, orders_hook_register
        from patron.loyalty.services import points_after_import, points_watermark

        orders_hook_register(
            OrdersHook(
                name="loyalty",
                before=points_watermark,
                after=lambda since, *, source, changed: points_after_import(
                    source=source, since_id=since, changed=changed
                ),
            )
        )
