"""Writes over the churn warning list: refresh it from a run, assign an owner, record a response.

Life cycle of a warning (docs/adr/0006-churn-warning-life-cycle.md):

* **raised** by :func:`warning_list_refresh` for a customer of high or medium risk in the latest
  analysis run whose value at risk passes the threshold the admin set
  (:func:`patron.retention.selectors.warning_threshold_get`; by default the customers who
  make up the top 80% of the run's value at risk), status ``open``. A customer has at most
  one open warning, and at most one warning per silence: the silence is named by the
  customer's last purchase before it, so a customer marked lost is not raised again until
  they buy again.
* **worked**: someone takes it (owner) and records responses. "Called" and "made an offer"
  put it ``in_progress`` with an optional follow-up date; "won back" and "lost" (with a
  reason from the list, and words for "other") close it.
* **closed automatically** by the refresh when the customer buys again (a completed or paid
  order after the last purchase): ``won_back`` when someone had called or made an offer (the
  follow-up gets the credit), ``recovered`` when nobody had acted (they came back by
  themselves, and the win-back rate leaves them out).
* an open warning takes the figures of each newer run that scores its customer, so the list
  shows the current risk; the level may then be "low" until someone closes the warning.

People's changes go through ``save()`` and are in the audit trail (django-auditlog); the
refresh writes in bulk and leaves its own trace on the warning (``raised_on``,
``closed_automatically``, ``closed_at``, ``purchased_again_on``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from patron.core.errors import PatronError
from patron.core.models import SystemSetting
from patron.insights.models import AnalysisRun, CustomerScore, RunStatus
from patron.retention.models import (
    OPEN_STATUSES,
    ChurnWarning,
    LostReason,
    Response,
    RiskLevel,
    WarningStatus,
)
from patron.retention.selectors import (
    ACT_PERMISSION,
    WARNING_THRESHOLD_KEY,
    WarningThreshold,
    value_at_risk_cutoff,
    warning_threshold_get,
)
from patron.sales.models import Order, OrderStatus

#: Orders that are a purchase: paid money that stayed (as in the analysis). Unpaid, cancelled
#: and refunded orders and returns are not.
PURCHASE_STATUSES = (OrderStatus.COMPLETED, OrderStatus.OPEN)
#: Levels the refresh raises warnings for.
WARNED_LEVELS = (RiskLevel.HIGH, RiskLevel.MEDIUM)
#: The permission a user needs to own and work on warnings.
NO_RUN = "There is no completed analysis run: run `patron analyze` first."
RUN_NOT_COMPLETED = "Analysis run {pk} is {status}, not completed."
UNKNOWN_LEVEL = "Unknown risk level {level!r}: expected high, medium or low."
WARNING_CLOSED = _("This warning is closed and can no longer change.")
OWNER_CANNOT_ACT = _("%(user)s cannot work on warnings: their role does not allow it.")
UNKNOWN_RESPONSE = _("Choose a response: called, made an offer, won back or lost.")
LOST_NEEDS_REASON = _("Choose why the customer was lost.")
OTHER_NEEDS_TEXT = _("Say in words why the customer was lost.")
REASON_ONLY_WHEN_LOST = _("A reason goes with the response “Lost” only.")
FOLLOW_UP_IN_PAST = _("The follow-up date cannot be in the past.")
FOLLOW_UP_WHEN_CLOSED = _("A won back or lost customer needs no follow-up date.")

# The steps of a refresh, as msgids (a job's page shows them translated).
STEP_CLOSE = gettext_noop("Closing the warnings of customers who bought again")
STEP_UPDATE = gettext_noop("Giving open warnings the latest figures")
STEP_RAISE = gettext_noop("Raising new warnings")
REFRESH_STEPS = (STEP_CLOSE, STEP_UPDATE, STEP_RAISE)

_CLOSING = {Response.WON_BACK: WarningStatus.WON_BACK, Response.LOST: WarningStatus.LOST}
_FIGURES = (
    "risk_level",
    "risk_score",
    "reasons_en",
    "reasons_zh",
    "p_alive",
    "clv",
    "revenue",
    "value_at_risk",
    "value_tier",
)
_SCORE_COLUMNS = (
    "customer_id",
    "value_at_risk",
    "value_tier",
    "recency_days",
    "risk_level",
    "risk_score",
    "risk_reasons_en",
    "risk_reasons_zh",
    "p_alive",
    "clv",
    "revenue",
)
BATCH = 2_000


class RetentionError(PatronError):
    default_code = "retention.error"


@dataclass(frozen=True)
class RefreshResult:
    """What one refresh did."""

    run: int
    as_of: dt.date
    raised: int  # new warnings
    updated: int  # open warnings given the figures of this run
    won_back: int  # closed automatically after a contact: the customer bought again
    recovered: int  # closed automatically without a contact
    open: int  # open warnings after the refresh
    cutoff: Decimal | None = None  # the least value at risk a new warning had to have

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["as_of"] = self.as_of.isoformat()
        out["cutoff"] = None if self.cutoff is None else str(self.cutoff)
        return out


def _purchase_after(day: Any, today: dt.date) -> Exists:
    """An order of the outer row's customer that is a purchase after ``day``, up to today."""
    return Exists(
        Order.objects.filter(
            customer_id=OuterRef("customer_id"),
            status__in=PURCHASE_STATUSES,
            ordered_on__gt=day,
            ordered_on__lte=today,
        )
    )


def _close_bought_again(*, today: dt.date, now: dt.datetime) -> tuple[int, int]:
    """Close the open warnings whose customer bought again; (won back, recovered)."""
    first_purchase = (
        Order.objects.filter(
            customer_id=OuterRef("customer_id"),
            status__in=PURCHASE_STATUSES,
            ordered_on__gt=OuterRef("last_purchase"),
            ordered_on__lte=today,
        )
        .order_by("ordered_on")
        .values("ordered_on")[:1]
    )
    came_back = ChurnWarning.objects.filter(_purchase_after(OuterRef("last_purchase"), today))
    closed = {
        "purchased_again_on": Subquery(first_purchase),
        "closed_at": now,
        "closed_automatically": True,
        "follow_up_on": None,
        "updated_at": now,
    }
    won_back = came_back.filter(status=WarningStatus.IN_PROGRESS).update(
        status=WarningStatus.WON_BACK, **closed
    )
    recovered = came_back.filter(status=WarningStatus.OPEN).update(
        status=WarningStatus.RECOVERED, **closed
    )
    return won_back, recovered


def _figures(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "risk_level": row["risk_level"],
        "risk_score": row["risk_score"] if row["risk_score"] is not None else 0.0,
        "reasons_en": row["risk_reasons_en"] or "",
        "reasons_zh": row["risk_reasons_zh"] or "",
        "p_alive": row["p_alive"],
        "clv": row["clv"],
        "revenue": row["revenue"],
        "value_at_risk": row["value_at_risk"],
        "value_tier": row["value_tier"] or "",
    }


def _update_open(*, run: AnalysisRun, now: dt.datetime) -> int:
    """Give the open warnings the figures of ``run`` (newer than theirs) for their customer."""
    stale = ChurnWarning.objects.filter(status__in=OPEN_STATUSES).exclude(run=run)
    stale = stale.filter(Q(run__isnull=True) | Q(run__as_of__lte=run.as_of))
    by_customer = dict(stale.values_list("customer_id", "pk"))
    if not by_customer:
        return 0
    scores = CustomerScore.objects.filter(
        run=run, risk_level__isnull=False, customer_id__in=stale.values("customer_id")
    ).values(*_SCORE_COLUMNS)
    changed = []
    for row in scores.iterator(chunk_size=BATCH):
        warning = ChurnWarning(pk=by_customer[row["customer_id"]], run=run, updated_at=now)
        for name, value in _figures(row).items():
            setattr(warning, name, value)
        changed.append(warning)
    ChurnWarning.objects.bulk_update(changed, ["run", *_FIGURES, "updated_at"], batch_size=BATCH)
    return len(changed)


def _raise_new(
    *,
    run: AnalysisRun,
    levels: Sequence[str],
    today: dt.date,
    now: dt.datetime,
    cutoff: Decimal | None,
    room: int | None = None,
) -> int:
    """New warnings for at-risk customers whose value at risk reaches ``cutoff`` (None: any),
    with no open warning and none for this silence; the largest value at risk first, at most
    ``room`` of them (None: no limit)."""
    at_risk = CustomerScore.objects.filter(
        run=run, risk_level__in=list(levels), recency_days__isnull=False
    ).exclude(_purchase_after(run.as_of, today))  # came back since the run: nothing to warn
    if cutoff is not None:
        at_risk = at_risk.filter(value_at_risk__gte=cutoff)
    has_open = ChurnWarning.objects.filter(
        customer_id=OuterRef("customer_id"), status__in=OPEN_STATUSES
    )
    at_risk = at_risk.exclude(Exists(has_open))
    warned = set(
        ChurnWarning.objects.filter(customer_id__in=at_risk.values("customer_id")).values_list(
            "customer_id", "last_purchase"
        )
    )
    new: list[ChurnWarning] = []
    ordered = at_risk.order_by(F("value_at_risk").desc(nulls_last=True), "-risk_score", "pk")
    for row in ordered.values(*_SCORE_COLUMNS).iterator(chunk_size=BATCH):
        if room is not None and len(new) >= room:
            break
        last_purchase = run.as_of - dt.timedelta(days=int(row["recency_days"]))
        if (row["customer_id"], last_purchase) in warned:
            continue  # this silence was warned of already (and closed)
        new.append(
            ChurnWarning(
                customer_id=row["customer_id"],
                run=run,
                raised_on=today,
                last_purchase=last_purchase,
                created_at=now,
                updated_at=now,
                **_figures(row),
            )
        )
    ChurnWarning.objects.bulk_create(new, batch_size=BATCH)
    return len(new)


@transaction.atomic
def warning_list_refresh(
    *,
    run: AnalysisRun | None = None,
    today: dt.date | None = None,
    levels: Sequence[str] = WARNED_LEVELS,
    threshold: WarningThreshold | None = None,
    step: Callable[[str], None] | None = None,
) -> RefreshResult:
    """Bring the warning list up to date with an analysis run (default: the latest).

    Idempotent: a second refresh with the same run and day changes nothing. Closes the open
    warnings of customers who bought again, gives the open warnings the run's figures, and
    raises a warning for every customer of the given levels whose value at risk passes the
    threshold (default: the admin's, :func:`warning_threshold_get`) and who has none for this
    silence. ``step`` is told the name of each step as it starts (a job's progress).

    Raises
    ------
    RetentionError
        There is no completed run, the run given is not completed, or a level is unknown.
    """
    from patron.insights.selectors import analysis_run_latest

    for level in levels:
        if level not in RiskLevel.values:
            raise RetentionError(UNKNOWN_LEVEL.format(level=level), code="retention.bad_level")
    if run is None:
        run = analysis_run_latest()
        if run is None:
            raise RetentionError(NO_RUN, code="retention.no_run")
    # One refresh of a run at a time (PostgreSQL; SQLite serialises writes anyway).
    run = AnalysisRun.objects.select_for_update().get(pk=run.pk)
    if run.status != RunStatus.COMPLETED:
        raise RetentionError(
            RUN_NOT_COMPLETED.format(pk=run.pk, status=run.status), code="retention.run_status"
        )
    today = today or timezone.localdate()
    now = timezone.now()
    say = step or (lambda name: None)
    say(STEP_CLOSE)
    won_back, recovered = _close_bought_again(today=today, now=now)
    say(STEP_UPDATE)
    updated = _update_open(run=run, now=now)
    say(STEP_RAISE)
    threshold = threshold or warning_threshold_get()
    cutoff = value_at_risk_cutoff(run=run, threshold=threshold)
    room = None
    if threshold.max_open is not None:
        room = max(
            0, threshold.max_open - ChurnWarning.objects.filter(status__in=OPEN_STATUSES).count()
        )
    raised = _raise_new(run=run, levels=levels, today=today, now=now, cutoff=cutoff, room=room)
    return RefreshResult(
        run=run.pk,
        as_of=run.as_of,
        raised=raised,
        updated=updated,
        won_back=won_back,
        recovered=recovered,
        open=ChurnWarning.objects.filter(status__in=OPEN_STATUSES).count(),
        cutoff=cutoff,
    )


@transaction.atomic
def warning_threshold_save(*, threshold: WarningThreshold) -> WarningThreshold:
    """Keep the threshold of new warnings for every later refresh.

    Raises
    ------
    django.core.exceptions.ValidationError
        The share is not in (0, 1] or the least value is negative.
    """
    threshold.check()
    SystemSetting.objects.update_or_create(
        key=WARNING_THRESHOLD_KEY, defaults={"value": threshold.as_dict()}
    )
    return threshold


def user_can_act(user: Any) -> bool:
    """Whether ``user`` may own and work on warnings (service, marketing, admin)."""
    return bool(user is not None and user.is_active and user.has_perm(ACT_PERMISSION))


def _locked_open(warning: ChurnWarning) -> ChurnWarning:
    locked = ChurnWarning.objects.select_for_update().get(pk=warning.pk)
    if not locked.is_open:
        raise ValidationError(WARNING_CLOSED, code="closed")
    return locked


@transaction.atomic
def warning_assign(*, warning: ChurnWarning, owner: Any | None) -> ChurnWarning:
    """Give the warning an owner (None: nobody).

    Raises
    ------
    django.core.exceptions.ValidationError
        The warning is closed, or the owner's role may not work on warnings.
    """
    warning = _locked_open(warning)
    if owner is not None and not user_can_act(owner):
        raise ValidationError(
            {"owner": ValidationError(OWNER_CANNOT_ACT, params={"user": owner.get_username()})}
        )
    warning.owner = owner
    warning.full_clean(validate_constraints=False)
    warning.save(update_fields=["owner", "updated_at"])
    return warning


def _check_response(
    *,
    response: str,
    lost_reason: str,
    lost_reason_text: str,
    follow_up_on: dt.date | None,
    today: dt.date,
) -> None:
    errors: dict[str, ValidationError] = {}
    if response not in Response.values:
        errors["response"] = ValidationError(UNKNOWN_RESPONSE, code="invalid")
    elif response == Response.LOST:
        if lost_reason not in LostReason.values:
            errors["lost_reason"] = ValidationError(LOST_NEEDS_REASON, code="required")
        elif lost_reason == LostReason.OTHER and not lost_reason_text.strip():
            errors["lost_reason_text"] = ValidationError(OTHER_NEEDS_TEXT, code="required")
    elif lost_reason or lost_reason_text.strip():
        errors["lost_reason"] = ValidationError(REASON_ONLY_WHEN_LOST, code="invalid")
    if follow_up_on is not None:
        if response in _CLOSING:
            errors["follow_up_on"] = ValidationError(FOLLOW_UP_WHEN_CLOSED, code="invalid")
        elif follow_up_on < today:
            errors["follow_up_on"] = ValidationError(FOLLOW_UP_IN_PAST, code="past")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def warning_respond(
    *,
    warning: ChurnWarning,
    response: str,
    by: Any,
    note: str = "",
    lost_reason: str = "",
    lost_reason_text: str = "",
    follow_up_on: dt.date | None = None,
) -> ChurnWarning:
    """Record what was done for an at-risk customer.

    "Called" and "made an offer" keep the warning open (in progress) with the follow-up date
    given (or none); "won back" and "lost" close it. A warning without an owner becomes the
    responder's. The note is added to the notes with the date and the responder's name.

    Raises
    ------
    django.core.exceptions.ValidationError
        The warning is closed, the responder may not work on warnings, the response is
        unknown, "lost" has no reason from the list (or no words for "other"), a reason is
        given for another response, or the follow-up date is in the past or given with a
        closing response.
    """
    today = timezone.localdate()
    _check_response(
        response=response,
        lost_reason=lost_reason,
        lost_reason_text=lost_reason_text,
        follow_up_on=follow_up_on,
        today=today,
    )
    if not user_can_act(by):
        raise ValidationError(OWNER_CANNOT_ACT, params={"user": by.get_username()})
    warning = _locked_open(warning)
    now = timezone.now()
    warning.response = response
    warning.responded_at = now
    warning.responded_by = by
    if warning.owner_id is None:
        warning.owner = by
    if response in _CLOSING:
        warning.status = _CLOSING[Response(response)]
        warning.closed_at = now
        warning.follow_up_on = None
        warning.lost_reason = lost_reason if response == Response.LOST else ""
        warning.lost_reason_text = lost_reason_text.strip() if response == Response.LOST else ""
    else:
        warning.status = WarningStatus.IN_PROGRESS
        warning.follow_up_on = follow_up_on
    if note.strip():
        line = f"{today:%Y-%m-%d} {by.get_username()}: {note.strip()}"
        warning.notes = f"{warning.notes}\n{line}" if warning.notes else line
    warning.full_clean(validate_constraints=False)
    warning.save()
    return warning


# --- warnings raised outside an analysis run (service: complaints, detractors) -----------------

#: The risk score a warning raised for a reason (complaint, detractor) starts with at least.
REASON_RISK_SCORE = 0.9


def _joined(existing: str, reason: str) -> str:
    parts = [p for p in existing.split("; ") if p]
    return "; ".join(parts if reason in parts else [*parts, reason])


@transaction.atomic
def warning_raise_for_reason(
    *, customer: Any, reason_en: str, reason_zh: str, today: dt.date | None = None
) -> ChurnWarning | None:
    """Raise a churn warning for a reason found outside an analysis run (an open complaint, a
    detractor's answer), or add the reason to the customer's open warning and raise it to high
    risk. The reason is kept in both languages.

    A new warning names the customer's current silence by their last purchase (the day they
    became a customer when they never bought); a silence already warned of and closed is not
    warned of again, as in :func:`warning_list_refresh`: then nothing happens and None is
    returned. The figures (P(alive), CLV, revenue) come from the latest completed run that
    scored the customer, when there is one.
    """
    from patron.insights.models import CustomerScore

    today = today or timezone.localdate()
    now = timezone.now()
    warning = (
        ChurnWarning.objects.select_for_update()
        .filter(customer=customer, status__in=OPEN_STATUSES)
        .first()
    )
    if warning is not None:
        warning.reasons_en = _joined(warning.reasons_en, reason_en)
        warning.reasons_zh = _joined(warning.reasons_zh, reason_zh)
        warning.risk_level = RiskLevel.HIGH
        warning.risk_score = max(warning.risk_score, REASON_RISK_SCORE)
        warning.save(
            update_fields=["reasons_en", "reasons_zh", "risk_level", "risk_score", "updated_at"]
        )
        return warning
    last = (
        Order.objects.filter(customer=customer, status__in=PURCHASE_STATUSES, ordered_on__lte=today)
        .order_by("-ordered_on")
        .values_list("ordered_on", flat=True)
        .first()
    ) or timezone.localdate(customer.created_at)
    if ChurnWarning.objects.filter(customer=customer, last_purchase=last).exists():
        return None
    score = (
        CustomerScore.objects.filter(customer=customer, run__status=RunStatus.COMPLETED)
        .select_related("run")
        .order_by("-run__as_of", "-run_id")
        .first()
    )
    warning = ChurnWarning(
        customer=customer,
        run=score.run if score else None,
        raised_on=today,
        risk_level=RiskLevel.HIGH,
        risk_score=max(score.risk_score or 0.0, REASON_RISK_SCORE) if score else REASON_RISK_SCORE,
        reasons_en=reason_en,
        reasons_zh=reason_zh,
        p_alive=score.p_alive if score else None,
        clv=score.clv if score else None,
        revenue=score.revenue if score else 0,
        last_purchase=last,
        created_at=now,
        updated_at=now,
    )
    warning.full_clean(validate_constraints=False)
    warning.save()
    return warning


@transaction.atomic
def warning_close_recovered(*, customer: Any, purchased_on: dt.date) -> ChurnWarning | None:
    """Close the customer's open warning as recovered: they bought again on ``purchased_on``
    (after a resolved complaint: service recovery). None when no warning is open."""
    warning = (
        ChurnWarning.objects.select_for_update()
        .filter(customer=customer, status__in=OPEN_STATUSES)
        .first()
    )
    if warning is None:
        return None
    warning.status = WarningStatus.RECOVERED
    warning.closed_at = timezone.now()
    warning.closed_automatically = True
    warning.follow_up_on = None
    warning.purchased_again_on = purchased_on
    warning.save(
        update_fields=[
            "status",
            "closed_at",
            "closed_automatically",
            "follow_up_on",
            "purchased_again_on",
            "updated_at",
        ]
    )
    return warning
