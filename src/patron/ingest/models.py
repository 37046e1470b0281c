"""What the importer keeps between two files: order lines waiting for their order.

A platform may export its orders and their lines as two files (Taobao's order report and
its order details). Either may be imported first: lines whose order is not in the store yet
wait here, and join their order when the order file arrives (matched on source and order
id). Only the importer writes these rows.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from patron.sales.models import Product


class PendingOrderLine(models.Model):
    source = models.CharField(_("source"), max_length=32)
    order_external_id = models.CharField(_("order id"), max_length=64)
    line_no = models.PositiveIntegerField(_("line"))
    product = models.ForeignKey(
        Product, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3, default=1)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    imported_at = models.DateTimeField(_("imported at"))

    class Meta:
        verbose_name = _("order line waiting for its order")
        verbose_name_plural = _("order lines waiting for their orders")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "order_external_id", "line_no"],
                name="pending_line_unique_no",
            )
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.order_external_id}/{self.line_no}"
