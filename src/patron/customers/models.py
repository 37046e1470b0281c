"""Customer records, their consent per channel, interactions, and merge audit."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Gender(models.TextChoices):
    MALE = "m", _("Male")
    FEMALE = "f", _("Female")
    UNKNOWN = "u", _("Unknown")


class Channel(models.TextChoices):
    """Contact channels a customer can consent to."""

    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    PHONE = "phone", _("Phone")
    WECHAT = "wechat", _("WeChat")


class Customer(models.Model):
    external_id = models.CharField(_("customer id"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    # Stored normalised (11 digits for mainland mobiles, +<digits> otherwise); a masked
    # number from a platform export is kept as written and flagged, never used to match.
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    phone_is_masked = models.BooleanField(_("phone is masked"), default=False)
    email = models.CharField(_("email"), max_length=254, blank=True)
    gender = models.CharField(
        _("gender"), max_length=1, choices=Gender.choices, default=Gender.UNKNOWN
    )
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    region = models.CharField(_("region"), max_length=64, blank=True)
    city = models.CharField(_("city"), max_length=64, blank=True)
    occupation = models.CharField(_("occupation"), max_length=64, blank=True)
    acquisition_channel = models.CharField(_("acquisition channel"), max_length=64, blank=True)
    acquired_on = models.DateField(_("acquired on"), null=True, blank=True)
    acquisition_cost = models.DecimalField(
        _("acquisition cost"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    company = models.CharField(_("company"), max_length=200, blank=True)
    credit_rating = models.CharField(_("credit rating"), max_length=16, blank=True)
    credit_limit = models.DecimalField(
        _("credit limit"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    tags = models.JSONField(_("tags"), default=list, blank=True)
    # Questionnaire answers and any other column a shop keeps about its customers.
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["external_id"]
        indexes = [
            models.Index(fields=["phone"], name="customer_phone_idx"),
            models.Index(fields=["email"], name="customer_email_idx"),
            models.Index(fields=["region", "city"], name="customer_region_idx"),
            # The web list (selectors.customer_filter / customer_page), checked with EXPLAIN
            # on 1M customers (benchmarks/web_latency.py): sorting by name pages through
            # (name, external_id); a name prefix (LIKE 'x%') needs the pattern index unless
            # the database collation is C; channel serves the filter and its count.
            # On PostgreSQL, migration 0002 also adds a GIN index on tags (jsonb_path_ops)
            # for the tag filter; it is not declared here because SQLite cannot build it
            # (a table rebuild on SQLite would recreate every index of Meta.indexes).
            models.Index(fields=["name", "external_id"], name="customer_name_sort_idx"),
            models.Index(
                fields=["name"], name="customer_name_prefix_idx", opclasses=["varchar_pattern_ops"]
            ),
            models.Index(fields=["acquisition_channel"], name="customer_channel_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(acquisition_cost__isnull=True) | Q(acquisition_cost__gte=0),
                name="customer_acquisition_cost_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(gender__in=["m", "f", "u"]), name="customer_gender_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name or self.external_id} ({self.external_id})"


class Consent(models.Model):
    """The current consent of one customer for one channel, with when and where it was given."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="consents")
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    granted = models.BooleanField(_("granted"))
    recorded_at = models.DateTimeField(_("recorded at"))
    source = models.CharField(_("source"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        constraints = [
            models.UniqueConstraint(fields=["customer", "channel"], name="consent_one_per_channel")
        ]
        # With customer last, the consent filter of the web list (and its capped count) reads
        # the index alone instead of the table (EXPLAIN on 1M customers: 184 ms -> 71 ms).
        indexes = [
            models.Index(
                fields=["channel", "granted", "customer"], name="consent_channel_customer_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.channel}: {self.granted}"


class InteractionKind(models.TextChoices):
    VISIT = "visit", _("Visit")
    CALL = "call", _("Call")
    EMAIL = "email", _("Email")
    MESSAGE = "message", _("Message")
    COMPLAINT = "complaint", _("Complaint")
    SURVEY = "survey", _("Survey")
    NOTE = "note", _("Note")


class Interaction(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="interactions")
    kind = models.CharField(_("kind"), max_length=16, choices=InteractionKind.choices)
    channel = models.CharField(_("channel"), max_length=32, blank=True)
    text = models.TextField(_("text"), blank=True)
    occurred_at = models.DateTimeField(_("when"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        ordering = ["-occurred_at"]
        indexes = [
            models.Index(fields=["customer", "occurred_at"], name="interaction_customer_idx")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.occurred_at:%Y-%m-%d}"


class CustomerMerge(models.Model):
    """Audit record of a merge: which record was folded into which, by whom, and what moved."""

    kept = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="merges")
    merged_external_id = models.CharField(max_length=64)
    merged_record = models.JSONField(help_text="The merged customer's fields before deletion.")
    orders_moved = models.PositiveIntegerField(default=0)
    interactions_moved = models.PositiveIntegerField(default=0)
    merged_by = models.CharField(max_length=150, blank=True)
    merged_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("customer merge")
        verbose_name_plural = _("customer merges")

    def __str__(self) -> str:
        return f"{self.merged_external_id} -> {self.kept_id}"


class SavedView(models.Model):
    """A user's named customer list: its filters and sort, as the list's own query string."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="customer_views"
    )
    name = models.CharField(_("name"), max_length=80)
    query = models.CharField(_("filters"), max_length=2000, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="saved_view_name_per_owner")
        ]

    def __str__(self) -> str:
        return self.name

    def url(self) -> str:
        from django.urls import reverse

        return reverse("web:customer_list") + (f"?{self.query}" if self.query else "")
