from django.contrib import admin

from patron.recommend.models import ProductRule, RecommendationRun, RecommendSettings


@admin.register(RecommendSettings)
class RecommendSettingsAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("excluded_categories", "margin_floor", "max_per_category", "updated_at")


@admin.register(ProductRule)
class ProductRuleAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("product", "kind", "starts_on", "ends_on")
    list_filter = ("kind",)
    raw_id_fields = ("product",)


@admin.register(RecommendationRun)
class RecommendationRunAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("as_of", "status", "customers", "per_list", "created_at")
    readonly_fields = ("evaluation", "settings")
