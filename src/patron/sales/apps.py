from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "patron.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self) -> None:
        # The purchase summary follows every write of orders (patron.sales.purchases): the
        # importer's set-based hook, and single orders saved through the ORM.
        from django.db.models.signals import post_save, pre_save

        from patron.ingest.order_hooks import OrdersHook, orders_hook_register
        from patron.sales.models import Order
        from patron.sales.purchases import purchases_after_import, purchases_watermark

        orders_hook_register(
            OrdersHook(
                name="purchase_summary",
                before=purchases_watermark,
                after=purchases_after_import,
                touched=True,
            )
        )
        pre_save.connect(_remember_customer, sender=Order, dispatch_uid="purchase_summary")
        post_save.connect(_summary_after_save, sender=Order, dispatch_uid="purchase_summary")


def _remember_customer(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    """An order saved again may have moved to another customer: remember the one it had."""
    if raw or instance.pk is None:
        return
    instance._summary_was = (
        sender.objects.filter(pk=instance.pk).values_list("customer_id", flat=True).first()
    )


def _summary_after_save(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    from patron.sales.purchases import purchase_summary_sync

    if raw:
        return
    before = getattr(instance, "_summary_was", None)
    purchase_summary_sync(customer_ids=[i for i in (instance.customer_id, before) if i])
