"""The churn early-warning list: one warning per at-risk customer and silence, followed up.

A warning is raised from an analysis run for a customer of high or medium churn risk. It
keeps the run's figures as they were (risk level, score, reasons, P(alive), CLV, past
revenue, last purchase), has an owner, the latest response (called, offered, won back, lost
with a reason), notes and a follow-up date. Its status says where it stands; the closed
statuses are final. See :mod:`patron.retention.services` for the life cycle.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from patron.customers.models import Customer
from patron.insights.models import AnalysisRun


class RiskLevel(models.TextChoices):
    HIGH = "high", _("High")
    MEDIUM = "medium", _("Medium")
    LOW = "low", _("Low")


class WarningStatus(models.TextChoices):
    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("In progress")
    WON_BACK = "won_back", _("Won back")
    LOST = "lost", _("Lost")
    RECOVERED = "recovered", _("Came back by themselves")


#: Statuses of a warning someone still has to act on; the others are final.
OPEN_STATUSES = (WarningStatus.OPEN, WarningStatus.IN_PROGRESS)
CLOSED_STATUSES = (WarningStatus.WON_BACK, WarningStatus.LOST, WarningStatus.RECOVERED)


class Response(models.TextChoices):
    CALLED = "called", _("Called")
    OFFERED = "offered", _("Made an offer")
    WON_BACK = "won_back", _("Won back")
    LOST = "lost", _("Lost")


class LostReason(models.TextChoices):
    """Why a customer was lost: a fixed list (free text beside it) so reasons can be counted."""

    PRICE = "price", _("Price too high")
    COMPETITOR = "competitor", _("Went to a competitor")
    SERVICE = "service", _("Unhappy with the service")
    QUALITY = "quality", _("Product quality")
    ASSORTMENT = "assortment", _("Could not find what they wanted")
    MOVED = "moved", _("Moved away")
    NO_NEED = "no_need", _("No longer needs it")
    UNREACHABLE = "unreachable", _("Could not be reached")
    OTHER = "other", _("Other")


class ChurnWarning(models.Model):
    customer = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        related_name="churn_warnings",
        verbose_name=_("customer"),
    )
    # The run whose figures the warning shows (the latest that scored the customer while
    # the warning was open); runs are kept, but a deleted one leaves the warning in place.
    run = models.ForeignKey(
        AnalysisRun,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="churn_warnings",
        verbose_name=_("analysis run"),
    )
    raised_on = models.DateField(_("raised on"))
    risk_level = models.CharField(_("risk level"), max_length=8, choices=RiskLevel.choices)
    risk_score = models.FloatField(_("risk score"))
    reasons_en = models.TextField(_("reasons (English)"), blank=True)
    reasons_zh = models.TextField(_("reasons (Chinese)"), blank=True)
    p_alive = models.FloatField(_("P(alive)"), null=True, blank=True)
    clv = models.DecimalField(
        _("customer lifetime value"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    revenue = models.DecimalField(_("past revenue"), max_digits=14, decimal_places=2, default=0)
    # What is lost if the customer has left ((1 - P(alive)) x CLV if alive): the list's order.
    value_at_risk = models.DecimalField(
        _("value at risk"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    value_tier = models.CharField(_("value tier"), max_length=16, blank=True)
    # The customer's last purchase before the silence: with the customer, it names the
    # episode, so a customer is warned once per silence however often the list is refreshed.
    last_purchase = models.DateField(_("last purchase"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="churn_warnings",
        verbose_name=_("owner"),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=WarningStatus.choices, default=WarningStatus.OPEN
    )
    response = models.CharField(_("response"), max_length=16, choices=Response.choices, blank=True)
    lost_reason = models.CharField(
        _("reason lost"), max_length=16, choices=LostReason.choices, blank=True
    )
    lost_reason_text = models.CharField(_("reason lost, in words"), max_length=500, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    follow_up_on = models.DateField(_("follow up on"), null=True, blank=True)
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("responded by"),
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_automatically = models.BooleanField(_("closed automatically"), default=False)
    # The first purchase after the silence, when the customer came back.
    purchased_again_on = models.DateField(_("purchased again on"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("churn warning")
        verbose_name_plural = _("churn warnings")
        ordering = ["-raised_on", "-risk_score", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(status__in=["open", "in_progress"]),
                name="warning_one_open_per_customer",
            ),
            models.UniqueConstraint(
                fields=["customer", "last_purchase"], name="warning_one_per_silence"
            ),
            models.CheckConstraint(
                condition=Q(risk_level__in=["high", "medium", "low"]),
                name="warning_risk_level_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "in_progress", "won_back", "lost", "recovered"]),
                name="warning_status_valid",
            ),
            # A lost customer has a reason from the list, and only a lost one has.
            models.CheckConstraint(
                condition=(Q(status="lost") & ~Q(lost_reason=""))
                | (~Q(status="lost") & Q(lost_reason="")),
                name="warning_lost_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "risk_level"], name="warning_status_level_idx"),
            models.Index(fields=["owner", "status"], name="warning_owner_status_idx"),
            models.Index(fields=["status", "follow_up_on"], name="warning_follow_up_idx"),
            models.Index(fields=["status", "lost_reason"], name="warning_lost_reason_idx"),
            models.Index(fields=["status", "-value_at_risk"], name="warning_status_var_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.risk_level} risk since {self.raised_on} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES
