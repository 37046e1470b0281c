from django.contrib import admin

from patron.customers.models import Consent, Customer, CustomerMerge, Interaction


class ConsentInline(admin.TabularInline):
    model = Consent
    extra = 0


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("external_id", "name", "phone", "email", "region", "city", "created_at")
    search_fields = ("=external_id", "name", "=phone", "=email")
    list_filter = ("gender", "acquisition_channel")
    inlines = [ConsentInline]
    show_full_result_count = False


@admin.register(Interaction)
class InteractionAdmin(admin.ModelAdmin):
    list_display = ("customer", "kind", "channel", "occurred_at")
    list_select_related = ("customer",)
    raw_id_fields = ("customer",)


@admin.register(CustomerMerge)
class CustomerMergeAdmin(admin.ModelAdmin):
    list_display = ("kept", "merged_external_id", "orders_moved", "merged_by", "merged_at")
    readonly_fields = [f.name for f in CustomerMerge._meta.fields]
