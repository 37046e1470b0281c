"""Tickets (with their conversation, resolution and compensation), SLA targets, survey
settings, invitations and answers.

A ticket's clock: ``first_response_due_at`` and ``due_at`` (resolution) are set when it is
created, from its priority and the customer's value tier (:mod:`patron.service.sla`); the
first reply to the customer stops the first-response clock, resolving stops the other.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from patron.customers.models import Customer
from patron.sales.models import Order


class TicketKind(models.TextChoices):
    COMPLAINT = "complaint", _("Complaint")
    QUESTION = "question", _("Question")
    REQUEST = "request", _("Request")
    PRAISE = "praise", _("Praise")


class TicketChannel(models.TextChoices):
    PHONE = "phone", _("Phone")
    STORE = "store", _("In store")
    EMAIL = "email", _("Email")
    WECHAT = "wechat", _("WeChat")
    APP = "app", _("App")
    WEB = "web", _("Web")


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


PRIORITY_ORDER = (Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT)


class TicketStatus(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    WAITING = "waiting", _("Waiting on customer")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    REOPENED = "reopened", _("Reopened")


#: Statuses of a ticket someone still has to work on.
ACTIVE_STATUSES = (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.WAITING, TicketStatus.REOPENED)
DONE_STATUSES = (TicketStatus.RESOLVED, TicketStatus.CLOSED)


class Compensation(models.TextChoices):
    NONE = "", _("None")
    COUPON = "coupon", _("Coupon")
    POINTS = "points", _("Points")
    REFUND = "refund", _("Refund")


class TicketCategory(models.Model):
    """A configurable category, named in both languages."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=100)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("ticket category")
        verbose_name_plural = _("ticket categories")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code

    def label(self, language: str) -> str:
        return self.name_zh if language.startswith("zh") else self.name_en


class Ticket(models.Model):
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="tickets", verbose_name=_("customer")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=TicketKind.choices)
    category = models.ForeignKey(
        TicketCategory, on_delete=models.PROTECT, related_name="tickets", verbose_name=_("category")
    )
    channel = models.CharField(_("channel"), max_length=16, choices=TicketChannel.choices)
    priority = models.CharField(_("priority"), max_length=8, choices=Priority.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=TicketStatus.choices, default=TicketStatus.NEW
    )
    subject = models.CharField(_("subject"), max_length=200)
    text = models.TextField(_("text"), blank=True)
    order = models.ForeignKey(
        Order,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("order"),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("owner"),
    )
    value_tier = models.CharField(_("value tier"), max_length=16, blank=True)  # when opened
    opened_at = models.DateTimeField(_("opened at"))
    first_response_due_at = models.DateTimeField(_("first response due"))
    due_at = models.DateTimeField(_("resolution due"))
    first_responded_at = models.DateTimeField(_("first response at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    resolution = models.TextField(_("resolution"), blank=True)
    compensation = models.CharField(
        _("compensation"), max_length=8, choices=Compensation.choices, blank=True, default=""
    )
    compensation_reference = models.CharField(
        _("coupon code or refund reference"), max_length=100, blank=True
    )
    compensation_points = models.PositiveIntegerField(_("points given"), null=True, blank=True)
    # Imported from another helpdesk: its name and ticket number (one import per ticket).
    source = models.CharField(_("source"), max_length=32, blank=True)
    external_id = models.CharField(_("ticket number at the source"), max_length=64, blank=True)
    # Set when a resolved complaint was followed by a purchase (service recovery).
    recovered_on = models.DateField(_("customer bought again on"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["due_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["complaint", "question", "request", "praise"]),
                name="ticket_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(priority__in=["low", "normal", "high", "urgent"]),
                name="ticket_priority_valid",
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=["new", "open", "waiting", "resolved", "closed", "reopened"]
                ),
                name="ticket_status_valid",
            ),
            # A resolved or closed ticket says when it was resolved.
            models.CheckConstraint(
                condition=~Q(status__in=["resolved", "closed"]) | Q(resolved_at__isnull=False),
                name="ticket_done_has_resolved_at",
            ),
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=~Q(external_id=""),
                name="ticket_one_per_source_id",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_at"], name="ticket_status_due_idx"),
            models.Index(fields=["owner", "status"], name="ticket_owner_status_idx"),
            models.Index(fields=["customer", "opened_at"], name="ticket_customer_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class MessageKind(models.TextChoices):
    CUSTOMER = "customer", _("From the customer")
    REPLY = "reply", _("Reply to the customer")
    NOTE = "note", _("Internal note")


class TicketMessage(models.Model):
    """One step of the conversation: the customer's words, a reply, or an internal note."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(_("kind"), max_length=16, choices=MessageKind.choices)
    text = models.TextField(_("text"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("at"))

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["customer", "reply", "note"]), name="ticket_message_kind"
            )
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.kind}"


class SlaTarget(models.Model):
    """First-response and resolution targets in business hours for a priority, optionally for
    one value tier only (a tier's own row wins over the row for every tier)."""

    priority = models.CharField(_("priority"), max_length=8, choices=Priority.choices)
    value_tier = models.CharField(_("value tier (blank: every tier)"), max_length=16, blank=True)
    first_response_hours = models.DecimalField(
        _("first response within (business hours)"), max_digits=6, decimal_places=2
    )
    resolution_hours = models.DecimalField(
        _("resolution within (business hours)"), max_digits=6, decimal_places=2
    )

    class Meta:
        verbose_name = _("SLA target")
        verbose_name_plural = _("SLA targets")
        constraints = [
            models.UniqueConstraint(fields=["priority", "value_tier"], name="sla_one_per_key"),
            models.CheckConstraint(
                condition=Q(first_response_hours__gt=0) & Q(resolution_hours__gt=0),
                name="sla_hours_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.priority}/{self.value_tier or '*'}"


class SurveyKind(models.TextChoices):
    CSAT = "csat", _("Satisfaction (CSAT)")
    NPS = "nps", _("Recommendation (NPS)")


class SurveySettings(models.Model):
    """How one kind of survey is sent and what it asks (one row per kind)."""

    kind = models.CharField(_("survey"), max_length=8, choices=SurveyKind.choices, unique=True)
    active = models.BooleanField(_("send it"), default=True)
    # NPS: ask every customer at most this often, and this many days after an order.
    every_days = models.PositiveIntegerField(_("ask a customer at most every (days)"), default=90)
    after_order_days = models.PositiveIntegerField(
        _("days after an order (0: on a schedule instead)"), default=7
    )
    link_valid_days = models.PositiveIntegerField(_("link valid for (days)"), default=30)
    drivers = models.JSONField(_("driver ratings asked"), default=list, blank=True)
    ask_comment = models.BooleanField(_("ask for a comment"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("survey settings")
        verbose_name_plural = _("survey settings")
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["csat", "nps"]), name="survey_kind_valid")
        ]

    def __str__(self) -> str:
        return self.kind


class SurveyInvitation(models.Model):
    """One invitation to answer, reached through a signed link (no sign-in)."""

    kind = models.CharField(_("survey"), max_length=8, choices=SurveyKind.choices)
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="survey_invitations"
    )
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, null=True, blank=True, related_name="invitations"
    )
    order = models.ForeignKey(
        Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    key = models.CharField(max_length=120, unique=True)  # what it is for: sent once
    language = models.CharField(max_length=8, default="zh-hans")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.key


class ResponseSource(models.TextChoices):
    LINK = "link", _("Answer page")
    IMPORT = "import", _("Imported")


class SurveyResponse(models.Model):
    """An answer: NPS 0-10 and/or CSAT 1-5, driver ratings and a comment."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="survey_responses"
    )
    # An answer through a link is one per invitation: answering again replaces it.
    invitation = models.OneToOneField(
        SurveyInvitation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="response",
    )
    ticket = models.ForeignKey(
        Ticket, on_delete=models.SET_NULL, null=True, blank=True, related_name="responses"
    )
    answered_at = models.DateTimeField(_("answered at"))
    nps = models.PositiveSmallIntegerField(_("likely to recommend (0-10)"), null=True, blank=True)
    csat = models.PositiveSmallIntegerField(_("satisfaction (1-5)"), null=True, blank=True)
    drivers = models.JSONField(_("driver ratings"), default=dict, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    source = models.CharField(max_length=8, choices=ResponseSource.choices)
    import_source = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("survey answer")
        verbose_name_plural = _("survey answers")
        ordering = ["-answered_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(nps__isnull=True) | Q(nps__lte=10), name="response_nps_range"
            ),
            models.CheckConstraint(
                condition=Q(csat__isnull=True) | (Q(csat__gte=1) & Q(csat__lte=5)),
                name="response_csat_range",
            ),
            models.CheckConstraint(
                condition=Q(nps__isnull=False) | Q(csat__isnull=False),
                name="response_has_a_score",
            ),
            # An imported answer is one per customer and time: importing twice adds nothing.
            models.UniqueConstraint(
                fields=["customer", "answered_at"],
                condition=Q(source="import"),
                name="response_import_once",
            ),
        ]
        indexes = [models.Index(fields=["answered_at"], name="response_answered_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id} at {self.answered_at}"
