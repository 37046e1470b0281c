"""The programme's settings, tiers, rewards and questionnaire in the admin (both languages:
every name and benefit has an English and a Chinese field). The ledger is read-only."""

from __future__ import annotations

from django.contrib import admin

from patron.loyalty.models import LedgerEntry, Member, Programme, Question, Reward, Tier


class TierInline(admin.TabularInline):
    model = Tier
    extra = 0


@admin.register(Programme)
class ProgrammeAdmin(admin.ModelAdmin):
    inlines = [TierInline]
    list_display = ["name_en", "name_zh", "points_per_unit", "expiry_mode", "tiers_enabled"]


@admin.register(Reward)
class RewardAdmin(admin.ModelAdmin):
    list_display = ["code", "name_en", "name_zh", "points_cost", "stock", "active"]


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ["key", "text_en", "text_zh", "kind", "active"]


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ["card_number", "customer", "tier", "enrolled_at"]
    search_fields = ["card_number", "customer__external_id"]
    raw_id_fields = ["customer", "referred_by"]
    readonly_fields = ["card_number", "referral_code", "id_document_masked"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin):
    """Append-only: entries are looked at, never changed here."""

    list_display = ["member", "kind", "points", "pending", "source", "effective_on"]
    list_filter = ["kind", "pending"]

    def has_add_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False
