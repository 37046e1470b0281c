from django.contrib import admin

from patron.retention.models import ChurnWarning


@admin.register(ChurnWarning)
class ChurnWarningAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "customer",
        "risk_level",
        "status",
        "response",
        "owner",
        "raised_on",
        "follow_up_on",
    )
    list_filter = ("status", "risk_level", "response", "lost_reason")
    raw_id_fields = ("customer", "run", "owner", "responded_by")
    list_select_related = ("customer", "owner")
    readonly_fields = ("created_at", "updated_at")
    search_fields = ("customer__external_id", "customer__name")
