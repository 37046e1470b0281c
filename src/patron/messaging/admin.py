from django.contrib import admin

from patron.messaging.models import ContactPolicy, OutboxMessage, Suppression, Unsubscribe


@admin.register(ContactPolicy)
class ContactPolicyAdmin(admin.ModelAdmin):
    list_display = ("email_cap", "sms_cap", "window_days", "quiet_start", "quiet_end")


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ("key", "channel", "recipient", "purpose", "status", "reason", "sent_at")
    list_filter = ("status", "channel", "purpose")
    search_fields = ("key", "recipient")
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]


admin.site.register(Unsubscribe)
admin.site.register(Suppression)
