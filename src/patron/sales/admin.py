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
