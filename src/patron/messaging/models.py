"""The outbox (one row per message, whatever sends it), opt-outs, suppressed addresses and the
contact policy.

A message's life: ``queued`` -> ``reserved`` (a worker took it into its batch; nothing sent)
-> ``claimed`` (committed just before the send) -> ``sent``; or ``skipped`` (the contact
policy refused it, with a reason), ``failed`` (with the error). A row found ``claimed`` whose
worker is gone is ``in_doubt``: the send may or may not have reached the server, so it is
never sent again automatically. A ``reserved`` row of a gone worker goes back to ``queued``.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from patron.customers.models import Customer


class MessageChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")


class Purpose(models.TextChoices):
    MARKETING = "marketing", _("Marketing")
    TRANSACTIONAL = "transactional", _("Transactional")


class OutboxStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RESERVED = "reserved", _("Taken by a worker")
    CLAIMED = "claimed", _("Sending")
    SENT = "sent", _("Sent")
    SKIPPED = "skipped", _("Skipped")
    FAILED = "failed", _("Failed")
    IN_DOUBT = "in_doubt", _("In doubt")


OPEN_STATUSES = (OutboxStatus.QUEUED, OutboxStatus.RESERVED, OutboxStatus.CLAIMED)
# Statuses that count against the frequency cap (the message went or may have gone out).
CAPPED_STATUSES = (OutboxStatus.CLAIMED, OutboxStatus.SENT, OutboxStatus.IN_DOUBT)


class SkipReason(models.TextChoices):
    NO_CONSENT = "no_consent", _("No consent for the channel")
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
    NO_ADDRESS = "no_address", _("No address")
    BOUNCED = "bounced", _("Address bounced before")
    OVER_CAP = "over_cap", _("Over the frequency cap and expired")


class OutboxMessage(models.Model):
    key = models.CharField(_("key"), max_length=200, unique=True)
    channel = models.CharField(_("channel"), max_length=8, choices=MessageChannel.choices)
    recipient = models.CharField(_("recipient"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    body_text = models.TextField(_("text"))
    body_html = models.TextField(_("HTML"), blank=True)
    customer = models.ForeignKey(
        Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )
    purpose = models.CharField(
        _("purpose"), max_length=16, choices=Purpose.choices, default=Purpose.TRANSACTIONAL
    )
    topic = models.CharField(_("topic"), max_length=64, blank=True)
    language = models.CharField(_("language"), max_length=8, default="en")
    status = models.CharField(
        _("status"), max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.QUEUED
    )
    reason = models.CharField(_("reason"), max_length=16, choices=SkipReason.choices, blank=True)
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # Not before this time (a schedule, a deferral under the cap or quiet hours, a back-off).
    not_before = models.DateTimeField(_("not before"), null=True, blank=True)
    # A marketing message still deferred at this time is skipped (over the cap and expired).
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    worker = models.CharField(_("worker"), max_length=100, blank=True)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        indexes = [
            models.Index(
                fields=["status", "not_before"],
                name="outbox_due_idx",
                condition=Q(status__in=["queued", "reserved", "claimed"]),
            ),
            models.Index(fields=["customer", "channel", "claimed_at"], name="outbox_cap_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(channel__in=["email", "sms"]), name="outbox_channel_valid"
            ),
            models.CheckConstraint(
                condition=Q(purpose__in=["marketing", "transactional"]),
                name="outbox_purpose_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="skipped") | ~Q(reason=""), name="outbox_skip_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.status})"


class Unsubscribe(models.Model):
    """A customer's opt-out: of one topic on one channel, of a topic on every channel
    (``channel`` empty), or of all marketing (``topic`` empty)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="unsubscribes")
    channel = models.CharField(_("channel"), max_length=8, blank=True)
    topic = models.CharField(_("topic"), max_length=64, blank=True)
    source = models.CharField(_("source"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("unsubscribe")
        verbose_name_plural = _("unsubscribes")
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "channel", "topic"], name="unsubscribe_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.channel or '*'}/{self.topic or '*'}"


class Suppression(models.Model):
    """An address that hard-bounced (or a gateway refused for good): never sent to again."""

    channel = models.CharField(_("channel"), max_length=8, choices=MessageChannel.choices)
    address = models.CharField(_("address"), max_length=254)
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("suppressed address")
        verbose_name_plural = _("suppressed addresses")
        constraints = [
            models.UniqueConstraint(fields=["channel", "address"], name="suppression_once")
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.address}"


class ContactPolicy(models.Model):
    """The one contact policy (row 1), set by an admin: caps, quiet hours, global holdout."""

    email_cap = models.PositiveSmallIntegerField(
        _("marketing emails per customer per window"), default=3
    )
    sms_cap = models.PositiveSmallIntegerField(
        _("marketing SMS per customer per window"), default=2
    )
    window_days = models.PositiveSmallIntegerField(_("cap window (days)"), default=7)
    quiet_start = models.PositiveSmallIntegerField(_("quiet hours start (hour)"), default=21)
    quiet_end = models.PositiveSmallIntegerField(_("quiet hours end (hour)"), default=8)
    holdout_share = models.FloatField(_("global holdout share"), default=0.0)
    holdout_salt = models.CharField(_("global holdout salt"), max_length=32, default="patron")

    class Meta:
        verbose_name = _("contact policy")
        verbose_name_plural = _("contact policy")
        constraints = [
            models.CheckConstraint(
                condition=Q(holdout_share__gte=0) & Q(holdout_share__lt=1),
                name="policy_holdout_share_range",
            ),
            models.CheckConstraint(
                condition=Q(quiet_start__lte=23) & Q(quiet_end__lte=23),
                name="policy_quiet_hours_range",
            ),
        ]

    def __str__(self) -> str:
        return "contact policy"
