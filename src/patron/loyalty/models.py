"""Membership and loyalty: the programme, members, the points ledger (lots, holds), tiers,
rewards, referrals. Fields and constraints only; the rules are in ``services``.

The balance is the ledger's: nothing here stores a balance. A ledger entry is never updated
or deleted; a reversal is a new entry. Idempotency is the unique index on (kind, source).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from patron.customers.models import Customer


class Rounding(models.TextChoices):
    DOWN = "down", _("Round down")
    NEAREST = "nearest", _("Round to nearest")
    UP = "up", _("Round up")


class ExpiryMode(models.TextChoices):
    NEVER = "never", _("Never")
    DAYS = "days", _("N days after earning")
    MONTH_END = "month_end", _("End of the month")
    YEAR_END = "year_end", _("End of the year")


class CapPeriod(models.TextChoices):
    DAY = "day", _("Day")
    MONTH = "month", _("Calendar month")
    YEAR = "year", _("Calendar year")


class TierBasis(models.TextChoices):
    SPEND = "spend", _("Spend")
    POINTS = "points", _("Points earned")


class Programme(models.Model):
    """The programme's settings. One programme per installation (``programme_get``)."""

    name_en = models.CharField(_("name (English)"), max_length=100, default="Member programme")
    name_zh = models.CharField(_("name (Chinese)"), max_length=100, default="会员计划")
    points_per_unit = models.DecimalField(
        _("points per currency unit"), max_digits=8, decimal_places=4, default=1
    )
    rounding = models.CharField(
        _("rounding"), max_length=8, choices=Rounding.choices, default=Rounding.DOWN
    )
    # {"0": 2} doubles points on Mondays (0 = Monday ... 6 = Sunday).
    day_multipliers = models.JSONField(_("multipliers by weekday"), default=dict, blank=True)
    # {"Coffee": 2}: lines of that product category earn twice (orders with item lines).
    category_multipliers = models.JSONField(
        _("multipliers by product category"), default=dict, blank=True
    )
    bonus_min_amount = models.DecimalField(
        _("bonus from order amount"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    bonus_points = models.PositiveIntegerField(_("bonus points"), default=0)
    # At most cap_points earned from orders per member per period (by the order's date).
    cap_points = models.PositiveIntegerField(
        _("points cap per member per period"),
        null=True,
        blank=True,
        help_text=_("Empty: no cap."),
    )
    cap_period = models.CharField(
        _("cap period"), max_length=8, choices=CapPeriod.choices, default=CapPeriod.MONTH
    )
    pending_days = models.PositiveIntegerField(_("days before points can be spent"), default=0)
    expiry_mode = models.CharField(
        _("expiry"), max_length=12, choices=ExpiryMode.choices, default=ExpiryMode.NEVER
    )
    expiry_days = models.PositiveIntegerField(_("expiry days"), default=365)
    cost_per_point = models.DecimalField(
        _("cost per point"), max_digits=10, decimal_places=4, default="0.01"
    )
    tiers_enabled = models.BooleanField(_("tiers on"), default=False)
    tier_basis = models.CharField(
        _("tiers qualify on"), max_length=8, choices=TierBasis.choices, default=TierBasis.SPEND
    )
    tier_window_months = models.PositiveIntegerField(_("qualifying window (months)"), default=12)
    downgrade_grace_days = models.PositiveIntegerField(_("downgrade grace (days)"), default=0)
    hold_minutes = models.PositiveIntegerField(_("holds expire after (minutes)"), default=15)
    referral_bonus_points = models.PositiveIntegerField(_("referral bonus points"), default=0)
    backfill_on_enrol = models.BooleanField(_("back-fill points for past orders"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("programme")
        verbose_name_plural = _("programmes")
        constraints = [
            models.CheckConstraint(condition=Q(points_per_unit__gte=0), name="programme_rate_ok")
        ]

    def __str__(self) -> str:
        return self.name_en


class Tier(models.Model):
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="tiers")
    code = models.SlugField(_("code"), max_length=32)
    name_en = models.CharField(_("name (English)"), max_length=64)
    name_zh = models.CharField(_("name (Chinese)"), max_length=64)
    rank = models.PositiveIntegerField(_("rank"), help_text=_("Higher is better."))
    threshold = models.DecimalField(_("qualifies from"), max_digits=14, decimal_places=2, default=0)
    multiplier = models.DecimalField(
        _("points multiplier"), max_digits=6, decimal_places=3, default=1
    )
    benefits_en = models.TextField(_("benefits (English)"), blank=True)
    benefits_zh = models.TextField(_("benefits (Chinese)"), blank=True)

    class Meta:
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")
        ordering = ["rank"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "code"], name="tier_code_unique"),
            models.UniqueConstraint(fields=["programme", "rank"], name="tier_rank_unique"),
        ]

    def __str__(self) -> str:
        return self.name_en


class Member(models.Model):
    # Deleting a customer (a privacy request, a demo reset) deletes the membership and its ledger.
    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="membership")
    card_number = models.CharField(_("card number"), max_length=19, unique=True)
    tier = models.ForeignKey(
        Tier, on_delete=models.SET_NULL, null=True, blank=True, related_name="members"
    )
    tier_since = models.DateField(_("in tier since"), null=True, blank=True)
    tier_floor = models.ForeignKey(
        Tier,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("tier floor"),
    )
    tier_floor_until = models.DateField(_("tier floor until"), null=True, blank=True)
    referral_code = models.CharField(_("referral code"), max_length=12, unique=True)
    referred_by = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="referrals",
        verbose_name=_("referred by"),
    )
    enrolled_at = models.DateTimeField(_("enrolled"))
    backfill = models.BooleanField(_("past orders earn points"), default=False)
    id_document_type = models.CharField(_("ID document"), max_length=32, blank=True)
    # Only the masked number is kept (e.g. ************1234).
    id_document_masked = models.CharField(_("ID number (masked)"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ["-enrolled_at", "-pk"]
        indexes = [
            models.Index(fields=["tier"], name="member_tier_idx"),
            # the welcome scan: members enrolled since a moment
            models.Index(fields=["enrolled_at"], name="member_enrolled_idx"),
        ]

    def __str__(self) -> str:
        return self.card_number


class TierChange(models.Model):
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="tier_changes")
    from_tier = models.ForeignKey(
        Tier, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    to_tier = models.ForeignKey(
        Tier, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    changed_on = models.DateField(_("date"))
    reason = models.CharField(_("reason"), max_length=32)

    class Meta:
        verbose_name = _("tier change")
        verbose_name_plural = _("tier changes")
        ordering = ["-changed_on", "-pk"]
        indexes = [models.Index(fields=["changed_on"], name="tierchange_date_idx")]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.from_tier_id} -> {self.to_tier_id} ({self.changed_on})"


class EntryKind(models.TextChoices):
    EARN = "earn", _("Earned")
    SPEND = "spend", _("Spent")
    EXPIRE = "expire", _("Expired")
    REVERSE = "reverse", _("Reversed")
    ADJUST = "adjust", _("Adjusted")
    HOLD = "hold", _("Held")


class LedgerEntry(models.Model):
    """One append-only line of a member's points.

    ``pending``: points of a paid, not yet completed order (never spendable). ``is_lot``: a
    positive entry others draw from (earnings, positive adjustments, restored points); its
    remainder is its points less its uses (:class:`LotUse`).
    """

    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="entries", db_index=False
    )
    kind = models.CharField(_("kind"), max_length=8, choices=EntryKind.choices)
    points = models.IntegerField(_("points"))
    pending = models.BooleanField(_("pending"), default=False)
    is_lot = models.BooleanField(default=False)
    source = models.CharField(_("source"), max_length=160)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    order = models.ForeignKey(
        "sales.Order",
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    effective_on = models.DateField(_("date"))
    available_on = models.DateField(_("available from"), null=True, blank=True)
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    created_at = models.DateTimeField(_("recorded"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        permissions = [("adjust_points", "Can adjust points with a reason")]
        ordering = ["effective_on", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "source"], name="ledger_kind_source_unique"),
            # A reversal may be of nothing (a return of an order whose points are all spent):
            # it still marks the return as done, so it is never reversed again.
            models.CheckConstraint(
                condition=~Q(points=0) | Q(kind="reverse"), name="ledger_points_not_zero"
            ),
            models.CheckConstraint(
                condition=Q(is_lot=False) | Q(points__gt=0, pending=False),
                name="ledger_lot_positive",
            ),
        ]
        indexes = [
            models.Index(fields=["member", "effective_on"], name="ledger_member_idx"),
            models.Index(
                fields=["order"], name="ledger_pending_idx", condition=Q(pending=True, kind="earn")
            ),
            # the expiry reminder scan and the settlement: lots by their last day
            models.Index(
                fields=["expires_on"], name="ledger_lot_expiry_idx", condition=Q(is_lot=True)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.points} ({self.source})"


class LotUse(models.Model):
    """Points of a lot taken (positive) or given back (negative) by an entry."""

    entry = models.ForeignKey(LedgerEntry, on_delete=models.CASCADE, related_name="uses")
    lot = models.ForeignKey(
        LedgerEntry, on_delete=models.CASCADE, related_name="lot_uses", db_index=False
    )
    points = models.IntegerField()

    class Meta:
        indexes = [models.Index(fields=["lot"], name="lotuse_lot_idx")]

    def __str__(self) -> str:
        return f"{self.entry_id} takes {self.points} from {self.lot_id}"


class Reward(models.Model):
    code = models.SlugField(_("code"), max_length=32, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=100)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    points_cost = models.PositiveIntegerField(_("points"))
    stock = models.PositiveIntegerField(_("stock"), null=True, blank=True)
    per_member_limit = models.PositiveIntegerField(_("limit per member"), null=True, blank=True)
    min_tier = models.ForeignKey(
        Tier,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("lowest tier"),
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("reward")
        verbose_name_plural = _("rewards")
        ordering = ["points_cost", "code"]
        constraints = [
            models.CheckConstraint(condition=Q(points_cost__gt=0), name="reward_cost_positive")
        ]

    def __str__(self) -> str:
        return self.name_en


class Redemption(models.Model):
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="redemptions")
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, unique=True)
    request_hash = models.CharField(max_length=64)
    points = models.PositiveIntegerField(_("points"))
    # The order the points paid for (its id as the till knows it): a return restores them.
    order_ref = models.CharField(_("order"), max_length=64, blank=True)
    response = models.JSONField(default=dict)
    created_at = models.DateTimeField(_("time"))

    class Meta:
        verbose_name = _("redemption")
        verbose_name_plural = _("redemptions")
        ordering = ["-created_at", "-pk"]
        # the redemption notice scan: redemptions since a moment
        indexes = [models.Index(fields=["created_at"], name="redemption_created_idx")]

    def __str__(self) -> str:
        return self.idempotency_key


class RedemptionItem(models.Model):
    redemption = models.ForeignKey(Redemption, on_delete=models.CASCADE, related_name="items")
    reward = models.ForeignKey(Reward, on_delete=models.PROTECT, related_name="items")
    quantity = models.PositiveIntegerField(default=1)
    points = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"{self.quantity} x {self.reward_id}"


class RewardCode(models.Model):
    code = models.CharField(_("code"), max_length=20, unique=True)
    item = models.ForeignKey(RedemptionItem, on_delete=models.CASCADE, related_name="codes")
    used_at = models.DateTimeField(_("used"), null=True, blank=True)

    def __str__(self) -> str:
        return self.code


class HoldStatus(models.TextChoices):
    HELD = "held", _("Held")
    COMMITTED = "committed", _("Committed")
    VOIDED = "voided", _("Voided")
    EXPIRED = "expired", _("Expired")


class Hold(models.Model):
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="holds")
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, unique=True)
    request_hash = models.CharField(max_length=64)
    points = models.PositiveIntegerField(_("points"))
    order_ref = models.CharField(_("order"), max_length=64, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=HoldStatus.choices, default=HoldStatus.HELD
    )
    expires_at = models.DateTimeField(_("expires"))
    created_at = models.DateTimeField(_("time"))
    redemption = models.OneToOneField(
        Redemption, on_delete=models.SET_NULL, null=True, blank=True, related_name="hold"
    )

    class Meta:
        verbose_name = _("hold")
        verbose_name_plural = _("holds")
        indexes = [
            models.Index(fields=["expires_at"], name="hold_open_idx", condition=Q(status="held"))
        ]

    def __str__(self) -> str:
        return f"hold {self.pk}: {self.points} ({self.status})"


class QuestionKind(models.TextChoices):
    SINGLE = "single", _("Single choice")
    MULTIPLE = "multiple", _("Multiple choice")
    NUMBER = "number", _("Number")
    TEXT = "text", _("Text")


class Question(models.Model):
    """A question of the enrolment questionnaire; the answer is kept as the customer's
    attribute ``key`` (the customer list, segment diagnosis and runs read attributes)."""

    key = models.SlugField(_("attribute"), max_length=40, unique=True)
    text_en = models.CharField(_("question (English)"), max_length=200)
    text_zh = models.CharField(_("question (Chinese)"), max_length=200)
    kind = models.CharField(_("kind"), max_length=8, choices=QuestionKind.choices)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["position", "key"]

    def __str__(self) -> str:
        return self.key
