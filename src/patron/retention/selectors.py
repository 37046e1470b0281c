"""Reads over the warning list: filtered lists, owners, counts, the threshold of new warnings,
what a caller needs beside each warning, and the lost-customer analysis."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db.models import Count, F, FloatField, Max, Q, QuerySet, Sum
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _

from patron.retention.models import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    ChurnWarning,
    LostReason,
    WarningStatus,
)

#: Who may take warnings and record responses (services and the list both use it).
ACT_PERMISSION = "retention.change_churnwarning"

#: ``status`` filter values besides the statuses themselves.
STATUS_OPEN = "open_all"  # open or in progress: what still needs doing
STATUS_CLOSED = "closed_all"
STATUS_ANY = "any"
OWNER_ME = "me"
OWNER_NOBODY = "none"
#: ``sort`` values of :func:`warning_filter` and their order (the first is the default).
SORTS: dict[str, tuple[Any, ...]] = {
    "value": (F("value_at_risk").desc(nulls_last=True), "-risk_score", "pk"),
    "risk": ("-risk_score", F("value_at_risk").desc(nulls_last=True), "pk"),
    "recency": ("last_purchase", F("value_at_risk").desc(nulls_last=True), "pk"),
    "follow_up": (F("follow_up_on").asc(nulls_last=True), "-risk_score", "pk"),
}
WARNING_THRESHOLD_KEY = "retention.warning_threshold"
BAD_SHARE = _("The share of the value at risk must be more than 0% and at most 100%.")
BAD_MIN_VALUE = _("The least value at risk cannot be negative.")
BAD_MAX_OPEN = _("At least one warning must be allowed to be open.")


@dataclass(frozen=True)
class WarningThreshold:
    """Which at-risk customers get a warning: those who together make up the top ``share`` of
    the run's value at risk (largest first), at least ``min_value`` each when set, and no more
    new ones than leave ``max_open`` warnings open (None: no cap), largest value first.

    The cap is there because value at risk is not always concentrated: on the demo (20,000
    customers) the top 80% of it is held by 9,698 customers, half the base; a team works a
    few hundred."""

    share: float = 0.8
    min_value: Decimal | None = None
    max_open: int | None = 500

    def check(self) -> None:
        errors = {}
        if not 0 < self.share <= 1:
            errors["share"] = ValidationError(BAD_SHARE, code="invalid")
        if self.min_value is not None and self.min_value < 0:
            errors["min_value"] = ValidationError(BAD_MIN_VALUE, code="invalid")
        if self.max_open is not None and self.max_open < 1:
            errors["max_open"] = ValidationError(BAD_MAX_OPEN, code="invalid")
        if errors:
            raise ValidationError(errors)

    def as_dict(self) -> dict[str, Any]:
        return {
            "share": self.share,
            "min_value": None if self.min_value is None else str(self.min_value),
            "max_open": self.max_open,
        }


def warning_threshold_get() -> WarningThreshold:
    """The admin's threshold of new warnings (default: the top 80% of the value at risk)."""
    from patron.core.models import SystemSetting

    row = SystemSetting.objects.filter(key=WARNING_THRESHOLD_KEY).first()
    if row is None or not isinstance(row.value, dict):
        return WarningThreshold()
    value = row.value
    least = value.get("min_value")
    most = value.get("max_open", 500)
    return WarningThreshold(
        share=float(value.get("share", 0.8)),
        min_value=None if least in (None, "") else Decimal(str(least)),
        max_open=None if most in (None, "") else int(most),
    )


def value_at_risk_cutoff(*, run: Any, threshold: WarningThreshold) -> Decimal | None:
    """The least value at risk a customer of ``run`` needs for a warning: the value of the
    customer at which, largest first, the run's value at risk reaches ``threshold.share`` of
    its total (and no less than ``threshold.min_value``). None: no threshold (share 100%,
    no least value)."""
    import numpy as np

    from patron.insights.models import CustomerScore

    cutoff: Decimal | None = None
    if threshold.share < 1:
        values = np.fromiter(
            CustomerScore.objects.filter(run=run, value_at_risk__gt=0)
            .annotate(v=Cast("value_at_risk", FloatField()))
            .values_list("v", flat=True)
            .iterator(chunk_size=20_000),
            dtype=np.float64,
        )
        if values.size:
            values = np.sort(values)[::-1]
            cumulative = np.cumsum(values)
            k = int(np.searchsorted(cumulative, threshold.share * cumulative[-1] - 1e-9))
            cutoff = Decimal(str(values[min(k, values.size - 1)])).quantize(Decimal("0.01"))
    if threshold.min_value is not None:
        cutoff = max(cutoff or Decimal(0), threshold.min_value)
    return cutoff


def warning_filter(
    *,
    level: str = "",
    status: str = STATUS_OPEN,
    owner: Any | None = None,
    unassigned: bool = False,
    due_by: dt.date | None = None,
    tier: str = "",
    sort: str = "",
) -> QuerySet[ChurnWarning]:
    """Warnings, the largest value at risk first (or by ``sort``: a key of :data:`SORTS`).

    ``status`` is a status, :data:`STATUS_OPEN` (default), :data:`STATUS_CLOSED` or
    :data:`STATUS_ANY`; ``owner`` a user, or ``unassigned`` for warnings nobody owns;
    ``due_by`` keeps open warnings whose follow-up date is on or before that day (soonest
    first unless ``sort`` says otherwise); ``tier`` a value tier of the warning's run.
    """
    warnings = ChurnWarning.objects.select_related("customer", "owner")
    if status == STATUS_OPEN:
        warnings = warnings.filter(status__in=OPEN_STATUSES)
    elif status == STATUS_CLOSED:
        warnings = warnings.filter(status__in=CLOSED_STATUSES)
    elif status in WarningStatus.values:
        warnings = warnings.filter(status=status)
    if level:
        warnings = warnings.filter(risk_level=level)
    if unassigned:
        warnings = warnings.filter(owner__isnull=True)
    elif owner is not None:
        warnings = warnings.filter(owner=owner)
    if tier:
        warnings = warnings.filter(value_tier=tier)
    if due_by is not None:
        warnings = warnings.filter(status__in=OPEN_STATUSES, follow_up_on__lte=due_by)
        sort = sort or "follow_up"
    return warnings.order_by(*SORTS.get(sort, SORTS["value"]))


@dataclass(frozen=True)
class CallerFacts:
    """What a caller needs beside a warning: consent to phone or text, and the last contact."""

    consent_phone: bool | None  # None: never asked
    consent_sms: bool | None
    last_contact: dt.datetime | None


def warning_caller_facts(*, warnings: list[ChurnWarning]) -> dict[int, CallerFacts]:
    """Per customer of ``warnings`` (by customer id): consent to phone and SMS, and the latest
    contact (an interaction, or a response recorded on any of their warnings); two queries."""
    from patron.customers.models import Channel, Consent, Interaction

    ids = {w.customer_id for w in warnings}
    consents: dict[tuple[int, str], bool] = {
        (c, ch): granted
        for c, ch, granted in Consent.objects.filter(
            customer_id__in=ids, channel__in=[Channel.PHONE, Channel.SMS]
        ).values_list("customer_id", "channel", "granted")
    }
    touched = dict(
        Interaction.objects.filter(customer_id__in=ids)
        .values("customer_id")
        .annotate(last=Max("occurred_at"))
        .values_list("customer_id", "last")
        .order_by()
    )
    responded = dict(
        ChurnWarning.objects.filter(customer_id__in=ids, responded_at__isnull=False)
        .values("customer_id")
        .annotate(last=Max("responded_at"))
        .values_list("customer_id", "last")
        .order_by()
    )
    out = {}
    for customer in ids:
        times = [t for t in (touched.get(customer), responded.get(customer)) if t is not None]
        out[customer] = CallerFacts(
            consent_phone=consents.get((customer, Channel.PHONE)),
            consent_sms=consents.get((customer, Channel.SMS)),
            last_contact=max(times) if times else None,
        )
    return out


def warning_get(*, pk: int) -> ChurnWarning | None:
    return (
        ChurnWarning.objects.select_related("customer", "owner", "responded_by", "run")
        .filter(pk=pk)
        .first()
    )


def warning_owner_choices() -> QuerySet[Any]:
    """Active users who may own warnings (their role or they themselves hold the permission)."""
    app_label, codename = ACT_PERMISSION.split(".")
    permission = Permission.objects.filter(
        content_type__app_label=app_label, codename=codename
    ).first()
    users = get_user_model().objects.filter(is_active=True)
    holders = Q(is_superuser=True)
    if permission is not None:
        holders |= Q(groups__permissions=permission) | Q(user_permissions=permission)
    return users.filter(holders).distinct().order_by("username")


def warning_counts(*, user: Any, today: dt.date) -> dict[str, int]:
    """The tiles over the list: open warnings, of high risk, unassigned, mine, follow-ups due."""
    open_ = Q(status__in=OPEN_STATUSES)
    return ChurnWarning.objects.aggregate(
        open=Count("pk", filter=open_),
        high=Count("pk", filter=open_ & Q(risk_level="high")),
        unassigned=Count("pk", filter=open_ & Q(owner__isnull=True)),
        mine=Count("pk", filter=open_ & Q(owner_id=getattr(user, "pk", None))),
        due=Count("pk", filter=open_ & Q(follow_up_on__lte=today)),
    )


def warning_for_customer(*, customer: Any, limit: int = 10) -> list[ChurnWarning]:
    """The customer's warnings, newest first."""
    return list(
        ChurnWarning.objects.filter(customer=customer)
        .select_related("owner")
        .order_by("-raised_on", "-pk")[:limit]
    )


# --- lost-customer analysis -------------------------------------------------------------------


@dataclass(frozen=True)
class ReasonRow:
    code: str
    label: str
    customers: int
    share: float  # of the lost customers
    clv: Decimal  # predicted value (CLV) lost with them, as of their warning
    revenue: Decimal  # their past revenue


@dataclass(frozen=True)
class LostAnalysis:
    """Closed warnings over a period: who was lost, why, what it cost, how many came back.

    ``win_back_rate`` is won back / (won back + lost): the share of the worked-on customers
    who were kept; customers who came back by themselves (``recovered``) are outside it. None
    when nobody was won back or lost yet.
    """

    since: dt.date | None
    lost: int
    won_back: int
    recovered: int
    win_back_rate: float | None
    clv_lost: Decimal
    revenue_lost: Decimal
    clv_won_back: Decimal
    reasons: tuple[ReasonRow, ...]
    notes: tuple[tuple[str, str], ...]  # (reason label, words) of the latest lost customers


ZERO = Decimal("0.00")


def lost_analysis(*, since: dt.date | None = None, notes: int = 10) -> LostAnalysis:
    """The lost-customer analysis of the warnings closed on or after ``since`` (default: all).

    Two aggregate queries and one for the latest words given as reasons.
    """
    closed = ChurnWarning.objects.filter(status__in=CLOSED_STATUSES)
    if since is not None:
        closed = closed.filter(closed_at__date__gte=since)
    lost_q, won_q = Q(status=WarningStatus.LOST), Q(status=WarningStatus.WON_BACK)
    totals = closed.aggregate(
        lost=Count("pk", filter=lost_q),
        won_back=Count("pk", filter=won_q),
        recovered=Count("pk", filter=Q(status=WarningStatus.RECOVERED)),
        clv_lost=Sum("clv", filter=lost_q),
        revenue_lost=Sum("revenue", filter=lost_q),
        clv_won_back=Sum("clv", filter=won_q),
    )
    lost = closed.filter(lost_q)
    by_reason = {
        row["lost_reason"]: row
        for row in lost.values("lost_reason").annotate(
            n=Count("pk"), clv_sum=Sum("clv"), revenue_sum=Sum("revenue")
        )
    }
    n_lost = int(totals["lost"])
    reasons = []
    for reason in LostReason:
        row = by_reason.get(reason.value)
        if row is None:
            continue
        reasons.append(
            ReasonRow(
                code=reason.value,
                label=str(reason.label),
                customers=int(row["n"]),
                share=int(row["n"]) / n_lost,
                clv=row["clv_sum"] or ZERO,
                revenue=row["revenue_sum"] or ZERO,
            )
        )
    reasons.sort(key=lambda r: (-r.customers, -r.clv, r.code))
    decided = n_lost + int(totals["won_back"])
    labels = dict(LostReason.choices)
    words = [
        (str(labels.get(code, code)), text)
        for code, text in lost.exclude(lost_reason_text="")
        .order_by("-closed_at", "-pk")
        .values_list("lost_reason", "lost_reason_text")[:notes]
    ]
    return LostAnalysis(
        since=since,
        lost=n_lost,
        won_back=int(totals["won_back"]),
        recovered=int(totals["recovered"]),
        win_back_rate=int(totals["won_back"]) / decided if decided else None,
        clv_lost=totals["clv_lost"] or ZERO,
        revenue_lost=totals["revenue_lost"] or ZERO,
        clv_won_back=totals["clv_won_back"] or ZERO,
        reasons=tuple(reasons),
        notes=tuple(words),
    )
