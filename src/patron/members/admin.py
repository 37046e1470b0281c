"""Admin: notification templates (both languages, with a preview on the page) and erasure
requests."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from patron.members.models import ErasureRequest, NotificationTemplate


@admin.register(NotificationTemplate)
class NotificationTemplateAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("kind", "enabled", "subject_en", "subject_zh", "updated_at")
    readonly_fields = ("preview",)
    fields = (
        "kind",
        "enabled",
        "enabled_since",
        "subject_en",
        "body_en",
        "sms_en",
        "subject_zh",
        "body_zh",
        "sms_zh",
        "preview",
    )

    @admin.display(description=_("Preview (saved text, sample member)"))
    def preview(self, obj: NotificationTemplate) -> str:
        from patron.members.notify import template_preview

        if obj.pk is None:
            return "—"
        rows = template_preview(obj)
        return format_html_join(
            "",
            '<div class="preview"><strong>{}</strong><p>{}</p>'
            '<pre style="white-space:pre-wrap">{}</pre><p>SMS: {}</p></div>',
            ((r["language"], r["subject"], r["body"], r["sms"]) for r in rows),
        )

    def get_changelist(self, request, **kwargs):  # type: ignore[no-untyped-def]
        from patron.members.notify import KINDS, template_get

        for kind in ["code", *KINDS]:  # every kind listed, with the shipped text
            template_get(kind)
        return super().get_changelist(request, **kwargs)


@admin.register(ErasureRequest)
class ErasureRequestAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("card_number", "customer_ref", "status", "requested_at", "handled_at")
    list_filter = ("status",)
    readonly_fields = ("member", "customer_ref", "card_number", "requested_at")
