"""Recommendation runs and their lists, and the shop's rules for them.

A run computes both lists ("buy again", "try new") for every customer as of a date and keeps
them, with the evaluation on held-out days that was computed beside them; pages and the API
read the latest completed run, never recompute on a page view.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from patron.customers.models import Customer
from patron.sales.models import Product


class ListKind(models.TextChoices):
    BUY_AGAIN = "buy_again", _("Buy again")
    TRY_NEW = "try_new", _("Try new")


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")


class RecommendationRun(models.Model):
    as_of = models.DateField(_("as of"))
    status = models.CharField(
        _("status"), max_length=16, choices=RunStatus.choices, default=RunStatus.RUNNING
    )
    per_list = models.PositiveSmallIntegerField(_("items per list"), default=10)
    customers = models.PositiveIntegerField(_("customers"), default=0)
    # {"as_of", "days", "k", "scores": {list: {method: {recall, ndcg, hit_rate, customers}}}}
    evaluation = models.JSONField(_("evaluation"), null=True, blank=True)
    settings = models.JSONField(_("settings"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("recommendation run")
        verbose_name_plural = _("recommendation runs")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.as_of} ({self.get_status_display()})"


class Recommendation(models.Model):
    run = models.ForeignKey(
        RecommendationRun, on_delete=models.CASCADE, related_name="items", db_index=False
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="recommendations", db_index=False
    )
    list = models.CharField(_("list"), max_length=16, choices=ListKind.choices)
    rank = models.PositiveSmallIntegerField(_("rank"))
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="recommendations", db_index=False
    )
    score = models.FloatField(_("score"))
    reason_en = models.CharField(_("reason (English)"), max_length=300)
    reason_zh = models.CharField(_("reason (Chinese)"), max_length=300)

    class Meta:
        verbose_name = _("recommendation")
        verbose_name_plural = _("recommendations")
        ordering = ["run", "customer", "list", "rank"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "customer", "list", "rank"], name="recommendation_unique_rank"
            ),
            models.CheckConstraint(condition=Q(rank__gte=1), name="recommendation_rank_positive"),
        ]
        indexes = [
            models.Index(
                fields=["customer", "run", "list", "rank"], name="recommendation_cust_idx"
            ),
            models.Index(fields=["run", "list", "rank"], name="recommendation_run_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.list} #{self.rank}"


class RecommendSettings(models.Model):
    """The shop's list-wide rules (one row)."""

    excluded_categories = models.JSONField(
        _("categories never recommended"), default=list, blank=True
    )
    margin_floor = models.DecimalField(
        _("lowest margin (share of the price)"),
        max_digits=4,
        decimal_places=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(-1), MaxValueValidator(1)],
    )
    max_per_category = models.PositiveSmallIntegerField(
        _("at most this many items of one category per list"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("recommendation settings")
        verbose_name_plural = _("recommendation settings")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)


class ProductRuleKind(models.TextChoices):
    NEVER = "never", _("Never recommend")
    PINNED = "pinned", _("Pinned to the top")


class ProductRule(models.Model):
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="recommend_rules", verbose_name=_("product")
    )
    kind = models.CharField(_("rule"), max_length=8, choices=ProductRuleKind.choices)
    starts_on = models.DateField(_("from"), null=True, blank=True)
    ends_on = models.DateField(_("until"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("product rule")
        verbose_name_plural = _("product rules")
        ordering = ["kind", "product"]
        constraints = [
            models.UniqueConstraint(fields=["product", "kind"], name="product_rule_unique"),
            models.CheckConstraint(
                condition=Q(starts_on__isnull=True)
                | Q(ends_on__isnull=True)
                | Q(ends_on__gte=models.F("starts_on")),
                name="product_rule_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product} ({self.get_kind_display()})"
