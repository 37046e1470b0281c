from django.contrib import admin

from patron.insights.models import AnalysisRun, CustomerScore


@admin.register(AnalysisRun)
class AnalysisRunAdmin(admin.ModelAdmin):
    list_display = ("id", "as_of", "status", "customers", "duration", "code_version", "created_at")
    list_filter = ("status",)
    readonly_fields = ("created_at",)


@admin.register(CustomerScore)
class CustomerScoreAdmin(admin.ModelAdmin):
    list_display = ("run", "customer", "segment", "value_tier", "r_score", "f_score", "m_score")
    list_filter = ("value_tier", "segment")
    raw_id_fields = ("run", "customer")
    list_select_related = ("customer",)
