"""Saved segments, campaigns, their frozen audiences (one target row per customer and
occurrence, each ending in exactly one state) and responses."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from patron.customers.models import Customer


class Segment(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    rules = models.JSONField(_("rules"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Goal(models.TextChoices):
    REACTIVATE = "reactivate", _("Reactivate")
    UPGRADE = "upgrade", _("Upgrade a tier")
    FREQUENCY = "frequency", _("Raise frequency")
    WELCOME = "welcome", _("Welcome")
    CROSS_SELL = "cross_sell", _("Cross-sell")


class CampaignChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    EXPORT = "export", _("Export (WeCom, WeChat and other tools)")


class OfferKind(models.TextChoices):
    NONE = "none", _("None")
    COUPON = "coupon", _("Unique coupon code")
    POINTS = "points", _("Points bonus")
    DISCOUNT = "discount", _("Discount")
    PRIVILEGE = "privilege", _("Member privilege")


class Schedule(models.TextChoices):
    NOW = "now", _("Now")
    AT = "at", _("At a time")
    RECURRING = "recurring", _("Recurring")


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    LAUNCHING = "launching", _("Launching")
    RUNNING = "running", _("Sending")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class CampaignSource(models.TextChoices):
    PATRON = "patron", _("Patron")
    IMPORTED = "imported", _("Imported")


class Campaign(models.Model):
    name = models.CharField(_("name"), max_length=200)
    goal = models.CharField(_("goal"), max_length=16, choices=Goal.choices, default=Goal.FREQUENCY)
    segment = models.ForeignKey(
        Segment, on_delete=models.PROTECT, null=True, blank=True, related_name="campaigns"
    )
    channel = models.CharField(
        _("channel"), max_length=8, choices=CampaignChannel.choices, default=CampaignChannel.EMAIL
    )
    topic = models.CharField(_("topic"), max_length=64, default="offers")
    subject_en = models.CharField(_("subject (English)"), max_length=300, blank=True)
    subject_zh = models.CharField(_("subject (Chinese)"), max_length=300, blank=True)
    body_text_en = models.TextField(_("text (English)"), blank=True)
    body_text_zh = models.TextField(_("text (Chinese)"), blank=True)
    body_html_en = models.TextField(_("HTML (English)"), blank=True)
    body_html_zh = models.TextField(_("HTML (Chinese)"), blank=True)
    default_language = models.CharField(_("default language"), max_length=8, default="zh-hans")
    link_url = models.URLField(_("link"), blank=True)
    offer = models.CharField(
        _("offer"), max_length=10, choices=OfferKind.choices, default=OfferKind.NONE
    )
    offer_points = models.PositiveIntegerField(_("points bonus"), default=0)
    offer_text = models.CharField(_("offer"), max_length=200, blank=True)
    control_share = models.FloatField(_("control share"), default=0.1)
    attribution_days = models.PositiveSmallIntegerField(_("attribution window (days)"), default=14)
    cost_per_message = models.DecimalField(
        _("cost per message"), max_digits=10, decimal_places=4, default=0
    )
    cost_per_redemption = models.DecimalField(
        _("cost per redeemed offer"), max_digits=10, decimal_places=2, default=0
    )
    schedule = models.CharField(
        _("schedule"), max_length=10, choices=Schedule.choices, default=Schedule.NOW
    )
    scheduled_at = models.DateTimeField(_("send at"), null=True, blank=True)
    every_days = models.PositiveSmallIntegerField(_("repeat every (days)"), null=True, blank=True)
    next_run_at = models.DateTimeField(_("next occurrence"), null=True, blank=True)
    occurrences = models.PositiveIntegerField(_("occurrences"), default=0)
    valid_days = models.PositiveSmallIntegerField(_("days a deferred message may wait"), default=14)
    status = models.CharField(
        _("status"), max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    source = models.CharField(
        _("source"), max_length=10, choices=CampaignSource.choices, default=CampaignSource.PATRON
    )
    srm_p_value = models.FloatField(_("sample-ratio p-value"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    launched_at = models.DateTimeField(_("launched"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(control_share__gte=0) & Q(control_share__lt=1),
                name="campaign_control_share_range",
            ),
            models.CheckConstraint(
                condition=~Q(schedule="recurring") | Q(every_days__gte=1),
                name="campaign_recurring_has_interval",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Group(models.TextChoices):
    TREATMENT = "treatment", _("Treatment")
    CONTROL = "control", _("Control")
    HOLDOUT = "holdout", _("Global holdout")


class TargetState(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    HELD_OUT = "held_out", _("Held out")
    SKIPPED = "skipped", _("Skipped")
    FAILED = "failed", _("Failed")


class Target(models.Model):
    """One customer of a campaign's frozen audience in one occurrence."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="targets")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="targets")
    occurrence = models.PositiveIntegerField(_("occurrence"), default=1)
    group = models.CharField(
        _("group"), max_length=10, choices=Group.choices, default=Group.TREATMENT
    )
    # The state at freeze; a message's own outcome (sent, skipped at dispatch, failed) is
    # read from its outbox row (``message``), so there is one truth.
    state = models.CharField(
        _("state"), max_length=10, choices=TargetState.choices, default=TargetState.PENDING
    )
    reason = models.CharField(_("reason"), max_length=16, blank=True)
    message = models.OneToOneField(
        "messaging.OutboxMessage",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="target",
    )
    coupon_code = models.CharField(_("coupon"), max_length=32, null=True, blank=True, unique=True)
    coupon_redeemed_at = models.DateTimeField(_("coupon redeemed"), null=True, blank=True)
    coupon_order = models.ForeignKey(
        "sales.Order", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    points_granted = models.BooleanField(_("points granted"), default=False)
    contacted_at = models.DateTimeField(_("contacted at"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)

    class Meta:
        verbose_name = _("campaign target")
        verbose_name_plural = _("campaign targets")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "occurrence", "customer"], name="target_once"
            ),
        ]
        indexes = [
            models.Index(fields=["campaign", "occurrence", "group"], name="target_group_idx"),
            models.Index(fields=["customer"], name="target_customer_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.occurrence}/{self.customer_id}"


class ResponseKind(models.TextChoices):
    REDEEM = "redeem", _("Coupon redeemed")
    CLICK = "click", _("Link clicked")
    PURCHASE = "purchase", _("Purchase")


class Response(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="responses")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=10, choices=ResponseKind.choices)
    at = models.DateTimeField(_("when"))
    order = models.ForeignKey(
        "sales.Order", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    order_ref = models.CharField(_("order id"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("campaign response")
        verbose_name_plural = _("campaign responses")
        indexes = [models.Index(fields=["campaign", "kind"], name="response_campaign_idx")]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.customer_id}: {self.kind}"
