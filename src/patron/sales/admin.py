from typing import Any

from django.contrib import admin

from patron.sales.models import Order, OrderLine, Product


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("sku", "name", "category", "unit_price", "unit_cost")
    search_fields = ("=sku", "name")
    list_filter = ("category",)


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    raw_id_fields = ("product",)


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ("external_id", "source", "customer", "ordered_at", "amount", "status")
    list_select_related = ("customer",)
    search_fields = ("=external_id", "=customer__external_id")
    list_filter = ("status", "source")
    raw_id_fields = ("customer", "original_order")
    inlines = [OrderLineInline]
    show_full_result_count = False

    # Deleting orders here refreshes their customers' purchase summary (saves do it through
    # the post_save signal, see patron.sales.apps).
    def delete_model(self, request: Any, obj: Order) -> None:
        from patron.sales.purchases import purchase_summary_sync

        customer_id = obj.customer_id
        super().delete_model(request, obj)
        purchase_summary_sync(customer_ids=[customer_id])

    def delete_queryset(self, request: Any, queryset: Any) -> None:
        from patron.sales.purchases import purchase_summary_sync

        customer_ids = set(queryset.values_list("customer_id", flat=True))
        super().delete_queryset(request, queryset)
        purchase_summary_sync(customer_ids=customer_ids)
