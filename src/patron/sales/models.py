"""Products, orders and order lines. A return is its own order pointing at the original."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from patron.customers.models import Customer

DEFAULT_SOURCE = "default"


class Product(models.Model):
    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    category = models.CharField(_("category"), max_length=100, blank=True)
    unit_price = models.DecimalField(
        _("unit price"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    unit_cost = models.DecimalField(
        _("unit cost"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    # Recommendations leave out what cannot be sold now (importable: for_sale, in_stock); a
    # database default too, for the bulk writers that insert products in SQL.
    for_sale = models.BooleanField(_("for sale"), default=True, db_default=True)
    in_stock = models.BooleanField(_("in stock"), default=True, db_default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["sku"]
        indexes = [models.Index(fields=["category"], name="product_category_idx")]

    def __str__(self) -> str:
        return f"{self.name or self.sku} ({self.sku})"


class OrderStatus(models.TextChoices):
    COMPLETED = "completed", _("Completed")
    OPEN = "open", _("Paid, not yet received")
    UNPAID = "unpaid", _("Unpaid")
    CANCELLED = "cancelled", _("Cancelled")
    REFUNDED = "refunded", _("Refunded")
    RETURNED = "returned", _("Return")
    UNKNOWN = "unknown", _("Unknown")


# Statuses whose amount counts as revenue. A refunded order keeps its paid amount and its
# refund is a return order with a negative amount, so the two net out; unpaid, cancelled
# and unknown orders are kept but are never revenue.
REVENUE_STATUSES = (
    OrderStatus.COMPLETED,
    OrderStatus.OPEN,
    OrderStatus.REFUNDED,
    OrderStatus.RETURNED,
)

# Orders that are a purchase (the segment rules' orders, spend and last purchase): paid and not
# a return; a refunded order stays a purchase (its refund is a return order of its own).
PURCHASE_STATUSES = (OrderStatus.COMPLETED, OrderStatus.OPEN, OrderStatus.REFUNDED)


class Order(models.Model):
    # Where the order came from ("default" for files without a platform); external ids
    # are unique per source so two platforms may reuse the same numbers.
    source = models.CharField(_("source"), max_length=32, default=DEFAULT_SOURCE)
    external_id = models.CharField(_("order id"), max_length=64)
    # Indexed by (customer, ordered_on) below; a second index on customer alone would only
    # slow down bulk imports.
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="orders", db_index=False
    )
    ordered_at = models.DateTimeField(_("time"))
    # The business date in PATRON_TIME_ZONE; analytics works on dates (see docs/adr).
    ordered_on = models.DateField(_("date"))
    store = models.CharField(_("store"), max_length=100, blank=True)
    channel = models.CharField(_("channel"), max_length=64, blank=True)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    cost = models.DecimalField(_("cost"), max_digits=14, decimal_places=2, null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=OrderStatus.choices, default=OrderStatus.COMPLETED
    )
    # The status as the source wrote it (交易关闭, partially_refunded...), kept for the record.
    raw_status = models.CharField(_("status as imported"), max_length=64, blank=True)
    original_order = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="returns",
        verbose_name=_("original order"),
        db_index=False,  # partial index below: most orders are not returns
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-ordered_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="order_unique_per_source"
            ),
            models.CheckConstraint(
                condition=~Q(status="returned") | Q(amount__lte=0),
                name="order_return_amount_not_positive",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "ordered_on"], name="order_customer_date_idx"),
            models.Index(fields=["ordered_on"], name="order_date_idx"),
            models.Index(
                fields=["original_order"],
                name="order_original_idx",
                condition=Q(original_order__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.external_id} ({self.source})"


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    line_no = models.PositiveIntegerField(_("line"))
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, null=True, blank=True, related_name="order_lines"
    )
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3, default=1)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["order", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["order", "line_no"], name="order_line_unique_no")
        ]
        indexes = [models.Index(fields=["product"], name="order_line_product_idx")]

    def __str__(self) -> str:
        return f"{self.order_id}/{self.line_no}"


class PurchaseSummary(models.Model):
    """A customer's purchases in one row: paid orders that are not returns (status completed,
    open or refunded, amount above zero), their count, spend and first and last dates.

    Kept right by every path that writes orders (:mod:`patron.sales.purchases`): the importer
    (files, platform exports and the orders API) through its orders hook, saves of single
    orders, the admin, customer merges and the demo; ``patron segments rebuild-purchases`` builds
    it again from the orders. A customer without a purchase has no row. Segment rules read
    it instead of scanning the orders (days since the last purchase, orders, spend).
    """

    customer = models.OneToOneField(
        Customer, on_delete=models.CASCADE, primary_key=True, related_name="purchase_summary"
    )
    first_purchase_on = models.DateField(_("first purchase"))
    last_purchase_on = models.DateField(_("last purchase"))
    orders = models.PositiveIntegerField(_("orders"))
    spend = models.DecimalField(_("spend"), max_digits=16, decimal_places=2)

    class Meta:
        verbose_name = _("purchase summary")
        verbose_name_plural = _("purchase summaries")
        # days since the last purchase: a range of dates read as customer ids, index-only
        # on PostgreSQL
        indexes = [
            models.Index(
                fields=["last_purchase_on"], name="purchase_summary_last_idx", include=["customer"]
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.orders} orders, last {self.last_purchase_on}"
