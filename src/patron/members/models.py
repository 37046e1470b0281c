"""Member self-service: one-time sign-in codes, member sessions (portal cookie or API token),
the member's portal profile, erasure requests and the notification templates.

Members are not staff users: a member session is a row here, never a Django user, so no
member credential can open a staff page or endpoint and no staff credential opens these.
Codes and tokens are stored hashed (HMAC-SHA256 with the secret key).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from patron.loyalty.models import Member


class SignInCode(models.Model):
    """A six-digit code asked for an address. A row is written for every request, member or
    not (``member`` empty), so the per-address limit and the answer are the same for both."""

    address_hash = models.CharField(max_length=64)
    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    wrong_tries = models.PositiveSmallIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["address_hash", "created_at"], name="signin_addr_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(wrong_tries__lte=100), name="signin_tries_range")
        ]

    def __str__(self) -> str:
        return f"code {self.pk}"


class SessionKind(models.TextChoices):
    PORTAL = "portal", _("Portal")
    API = "api", _("App / mini-program")


class MemberSession(models.Model):
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="portal_sessions")
    token_hash = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=8, choices=SessionKind.choices)
    created_at = models.DateTimeField(_("signed in"))
    expires_at = models.DateTimeField(_("expires"))
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["member", "created_at"], name="msession_member_idx")]

    def __str__(self) -> str:
        return f"session {self.pk} of {self.member_id}"


class Profile(models.Model):
    """A member's portal settings: the language of messages, first and last sign-in."""

    member = models.OneToOneField(Member, on_delete=models.CASCADE, related_name="portal_profile")
    language = models.CharField(_("language"), max_length=8, default=settings.LANGUAGE_CODE)
    first_sign_in_at = models.DateTimeField(_("first sign-in"), null=True, blank=True)
    last_sign_in_at = models.DateTimeField(_("last sign-in"), null=True, blank=True)
    sign_ins = models.PositiveIntegerField(_("sign-ins"), default=0)

    class Meta:
        verbose_name = _("portal profile")
        verbose_name_plural = _("portal profiles")
        indexes = [models.Index(fields=["last_sign_in_at"], name="mprofile_last_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(language__in=["en", "zh-hans"]), name="mprofile_language_valid"
            )
        ]

    def __str__(self) -> str:
        return f"profile of {self.member_id}"


class ErasureStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DONE = "done", _("Erased")
    REFUSED = "refused", _("Refused")


class ErasureRequest(models.Model):
    """A member's request to be erased; an admin carries it out (orders stay, anonymised)."""

    member = models.ForeignKey(
        Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    customer_ref = models.CharField(_("customer id"), max_length=64)
    card_number = models.CharField(_("card number"), max_length=19)
    status = models.CharField(
        _("status"), max_length=8, choices=ErasureStatus.choices, default=ErasureStatus.PENDING
    )
    requested_at = models.DateTimeField(_("requested"))
    handled_at = models.DateTimeField(_("handled"), null=True, blank=True)
    handled_by = models.CharField(_("handled by"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("erasure request")
        verbose_name_plural = _("erasure requests")
        ordering = ["-requested_at", "-pk"]
        permissions = [("carry_out_erasure", "Can erase a member who asked for it")]
        constraints = [
            models.UniqueConstraint(
                fields=["card_number"],
                condition=Q(status="pending"),
                name="erasure_one_pending",
            )
        ]

    def __str__(self) -> str:
        return f"erasure {self.card_number} ({self.status})"


class NotificationKind(models.TextChoices):
    SIGN_IN_CODE = "code", _("Sign-in code")
    WELCOME = "welcome", _("Welcome with the card")
    TIER_UP = "tier_up", _("Tier up")
    TIER_DOWN = "tier_down", _("Tier down")
    EXPIRING = "expiring", _("Points about to expire")
    REDEEMED = "redeemed", _("Reward redeemed")
    ORDER_PAID = "order_paid", _("Order paid")
    ORDER_SHIPPED = "order_shipped", _("Order shipped")
    ORDER_REFUNDED = "order_refunded", _("Order refunded")


class NotificationTemplate(models.Model):
    """The text of one kind of notification in both languages (Django template syntax with
    the variables listed in docs/member-portal.md), and whether the shop sends it at all.
    Events before ``enabled_since`` are never notified (switching on sends no backlog)."""

    kind = models.CharField(_("kind"), max_length=16, choices=NotificationKind.choices, unique=True)
    enabled = models.BooleanField(_("sent"), default=True)
    enabled_since = models.DateTimeField(_("sent for events since"))
    subject_en = models.CharField(_("subject (English)"), max_length=200)
    body_en = models.TextField(_("text (English)"))
    subject_zh = models.CharField(_("subject (Chinese)"), max_length=200)
    body_zh = models.TextField(_("text (Chinese)"))
    sms_en = models.CharField(_("SMS (English)"), max_length=300, blank=True)
    sms_zh = models.CharField(_("SMS (Chinese)"), max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("notification template")
        verbose_name_plural = _("notification templates")
        ordering = ["kind"]

    def __str__(self) -> str:
        return str(self.get_kind_display())

    def clean(self) -> None:
        """Each text must be a valid template (the admin form shows the error on the field)."""
        from django.core.exceptions import ValidationError
        from django.template import Template, TemplateSyntaxError

        problems = {}
        for name in ("subject_en", "body_en", "sms_en", "subject_zh", "body_zh", "sms_zh"):
            try:
                Template(getattr(self, name) or "")
            except TemplateSyntaxError as error:
                problems[name] = str(error)
        if problems:
            raise ValidationError(problems)
