"""Analysis runs and the per-customer scores they keep (snapshots; runs are never replaced)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from patron.customers.models import Customer


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")


class AnalysisRun(models.Model):
    as_of = models.DateField(_("as of"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    settings = models.JSONField(_("settings"), default=dict, blank=True)
    code_version = models.CharField(_("code version"), max_length=32)
    status = models.CharField(
        _("status"), max_length=16, choices=RunStatus.choices, default=RunStatus.RUNNING
    )
    figures = models.JSONField(_("figures"), default=dict, blank=True)
    customers = models.PositiveIntegerField(_("customers"), default=0)
    duration = models.FloatField(_("duration (s)"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("analysis run")
        verbose_name_plural = _("analysis runs")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "-created_at"], name="run_status_created_idx")]

    def __str__(self) -> str:
        return f"run {self.pk} as of {self.as_of} ({self.status})"


class CustomerScore(models.Model):
    run = models.ForeignKey(
        AnalysisRun, on_delete=models.CASCADE, related_name="scores", db_index=False
    )
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="scores")
    recency_days = models.IntegerField(_("recency (days)"), null=True, blank=True)
    frequency = models.PositiveIntegerField(_("frequency"))
    monetary = models.DecimalField(_("monetary"), max_digits=14, decimal_places=2)
    r_score = models.PositiveSmallIntegerField(_("R"))
    f_score = models.PositiveSmallIntegerField(_("F"))
    m_score = models.PositiveSmallIntegerField(_("M"))
    segment = models.CharField(_("segment"), max_length=32)
    value_tier = models.CharField(_("value tier"), max_length=16)
    # high, medium, low or no_profit (patron.analytics.tiers.PROFIT_GROUPS); NULL in runs
    # made before it was kept.
    profit_group = models.CharField(_("profit group"), max_length=16, null=True, blank=True)  # noqa: DJ001
    revenue = models.DecimalField(_("revenue"), max_digits=14, decimal_places=2)
    margin = models.DecimalField(
        _("margin"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    cost_to_serve = models.DecimalField(_("cost to serve"), max_digits=14, decimal_places=2)
    profit = models.DecimalField(
        _("profit"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    # Predictive value: NULL (not "") when the run's prediction was skipped or the customer
    # has returns only, for the text fields too, so "not computed" is one test for all.
    p_alive = models.FloatField(_("P(alive)"), null=True, blank=True)
    expected_purchases = models.FloatField(_("expected purchases"), null=True, blank=True)
    clv = models.DecimalField(
        _("customer lifetime value"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    # What is lost if the customer has left: (1 - P(alive)) x the CLV if alive.
    value_at_risk = models.DecimalField(
        _("value at risk"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    risk_level = models.CharField(_("risk level"), max_length=8, null=True, blank=True)  # noqa: DJ001
    risk_score = models.FloatField(_("risk score"), null=True, blank=True)
    risk_reasons_en = models.TextField(_("risk reasons (English)"), null=True, blank=True)  # noqa: DJ001
    risk_reasons_zh = models.TextField(_("risk reasons (Chinese)"), null=True, blank=True)  # noqa: DJ001

    class Meta:
        verbose_name = _("customer score")
        verbose_name_plural = _("customer scores")
        constraints = [
            models.UniqueConstraint(fields=["run", "customer"], name="score_unique_per_run"),
            models.CheckConstraint(
                condition=Q(r_score__gte=1, r_score__lte=5)
                & Q(f_score__gte=1, f_score__lte=5)
                & Q(m_score__gte=1, m_score__lte=5),
                name="score_rfm_1_to_5",
            ),
        ]
        indexes = [
            # Segment rules read the latest run's tier, segment, risk level and profit group
            # as sets of customer ids (index-only scans); the customer list sorted by tier,
            # segment or risk walks each code's customers in order (customers/score_pages.py).
            models.Index(fields=["run", "value_tier", "customer"], name="score_run_tier_idx"),
            models.Index(fields=["run", "segment", "customer"], name="score_run_segment_idx"),
            models.Index(fields=["run", "risk_level", "customer"], name="score_run_risk_idx"),
            models.Index(
                fields=["run", "profit_group"],
                name="score_run_profit_group_idx",
                include=["customer"],
            ),
            models.Index(fields=["run", "-value_at_risk"], name="score_run_var_idx"),
            # The customer list sorted by a run figure: (figure, customer) in order per run.
            models.Index(fields=["run", "clv", "customer"], name="score_run_clv_idx"),
            models.Index(fields=["run", "revenue", "customer"], name="score_run_revenue_idx"),
            models.Index(fields=["run", "profit", "customer"], name="score_run_profit_idx"),
            models.Index(fields=["run", "frequency", "customer"], name="score_run_orders_idx"),
            models.Index(fields=["run", "p_alive", "customer"], name="score_run_p_alive_idx"),
            # the most recent first is the fewest days, then the highest customer pk
            models.Index(fields=["run", "recency_days", "-customer"], name="score_run_recency_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} in run {self.run_id}: {self.segment}, {self.value_tier}"


class RunDiagnosis(models.Model):
    """The segment diagnosis of one tier or segment of a run, computed when the run was made
    (pages show it; they do not compute it)."""

    run = models.ForeignKey(AnalysisRun, on_delete=models.CASCADE, related_name="diagnoses")
    kind = models.CharField(_("kind"), max_length=8)  # "tier" or "segment"
    code = models.CharField(_("group code"), max_length=32)
    data = models.JSONField(_("stored diagnosis"), default=dict)

    class Meta:
        verbose_name = _("segment diagnosis")
        verbose_name_plural = _("segment diagnoses")
        constraints = [
            models.UniqueConstraint(fields=["run", "kind", "code"], name="diagnosis_one_per_group")
        ]

    def __str__(self) -> str:
        return f"run {self.run_id} {self.kind} {self.code}"
