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
