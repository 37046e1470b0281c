"""The admin site: ticket categories (both languages), SLA targets, survey settings; tickets
and answers to look up."""

from django.contrib import admin

from patron.service.models import SlaTarget, SurveyResponse, SurveySettings, Ticket, TicketCategory


@admin.register(TicketCategory)
class TicketCategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "name_en", "name_zh", "active")
    list_filter = ("active",)
    search_fields = ("code", "name_en", "name_zh")


@admin.register(SlaTarget)
class SlaTargetAdmin(admin.ModelAdmin):
    list_display = ("priority", "value_tier", "first_response_hours", "resolution_hours")
    list_filter = ("priority",)


@admin.register(SurveySettings)
class SurveySettingsAdmin(admin.ModelAdmin):
    list_display = ("kind", "active", "every_days", "after_order_days", "link_valid_days")


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = ("id", "customer", "kind", "category", "priority", "status", "owner", "due_at")
    list_filter = ("status", "kind", "priority", "channel", "category")
    raw_id_fields = ("customer", "order", "owner", "created_by")
    list_select_related = ("customer", "category", "owner")
    readonly_fields = ("created_at", "updated_at")
    search_fields = ("customer__external_id", "customer__name", "subject", "external_id")


@admin.register(SurveyResponse)
class SurveyResponseAdmin(admin.ModelAdmin):
    list_display = ("id", "customer", "answered_at", "nps", "csat", "source")
    list_filter = ("source",)
    raw_id_fields = ("customer", "invitation", "ticket")
    search_fields = ("customer__external_id", "comment")
