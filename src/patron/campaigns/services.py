"""Writes of segments and campaigns: save a segment, create and launch a campaign, run an
occurrence (in the worker), keep campaigns moving (done, points, the next occurrence), send a
test message."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from patron.campaigns.audience import Freeze, audience_freeze
from patron.campaigns.content import placeholders_check, render_for
from patron.campaigns.errors import CampaignError, CampaignErrorCode
from patron.campaigns.models import (
    Campaign,
    CampaignChannel,
    CampaignStatus,
    OfferKind,
    Schedule,
    Segment,
    Target,
)
from patron.campaigns.rules import rules_validate
from patron.core.errors import PatronError
from patron.core.queue import task_on_commit
from patron.messaging.models import OPEN_STATUSES, OutboxMessage, OutboxStatus

logger = logging.getLogger("patron.campaigns")

CONTENT_FIELDS = (
    "subject_en",
    "subject_zh",
    "body_text_en",
    "body_text_zh",
    "body_html_en",
    "body_html_zh",
)


def _invalid(error: ValidationError) -> CampaignError:
    fields = error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
    text = "; ".join(f"{k}: {' '.join(v)}" for k, v in fields.items())
    return CampaignError(
        _("The campaign is invalid: %(errors)s") % {"errors": text},
        code=CampaignErrorCode.INVALID_CAMPAIGN,
        extra={"fields": fields},
    )


@transaction.atomic
def segment_create(*, name: str, rules: Any, user: Any = None) -> Segment:
    """Save a segment under a unique name.

    Raises
    ------
    CampaignError
        Invalid rules (the path, and the valid fields or operators) or a name in use.
    """
    segment = Segment()
    if user is not None and getattr(user, "is_authenticated", False):
        segment.created_by = user
    return segment_update(segment=segment, name=name, rules=rules)


@transaction.atomic
def segment_update(*, segment: Segment, name: str, rules: Any) -> Segment:
    """Change a segment's name and rules (raises like :func:`segment_create`)."""
    segment.rules = rules_validate(rules=rules)
    segment.name = name.strip()
    try:
        segment.full_clean()
    except ValidationError as error:
        raise _invalid(error) from None
    segment.save()
    return segment


@transaction.atomic
def campaign_create(
    *,
    name: str,
    segment_id: int | None,
    channel: str,
    subject: str = "",
    body_text: str = "",
    body_html: str = "",
    control_share: float = 0.1,
    attribution_days: int = 14,
    user: Any = None,
    **fields: Any,
) -> Campaign:
    """Create a draft campaign. ``subject``/``body_*`` fill both languages unless the
    ``*_en``/``*_zh`` fields are given; other model fields may be passed by name.

    Raises
    ------
    CampaignError
        An unknown segment, channel or placeholder, a share outside [0, 1), a recurring
        schedule without its interval: each named.
    """
    segment = None
    if segment_id is not None:
        segment = Segment.objects.filter(pk=segment_id).first()
        if segment is None:
            raise CampaignError(
                _("There is no segment %(id)s.") % {"id": segment_id},
                code=CampaignErrorCode.NOT_FOUND,
            )
    campaign = Campaign(
        name=name.strip(),
        segment=segment,
        channel=channel,
        control_share=control_share,
        attribution_days=attribution_days,
    )
    for language in ("en", "zh"):
        setattr(campaign, f"subject_{language}", subject)
        setattr(campaign, f"body_text_{language}", body_text)
        setattr(campaign, f"body_html_{language}", body_html)
    for key, value in fields.items():
        if key not in {f.name for f in Campaign._meta.fields} or key in {"id", "status"}:
            raise CampaignError(
                _("Unknown campaign field %(field)s.") % {"field": key},
                code=CampaignErrorCode.INVALID_CAMPAIGN,
            )
        setattr(campaign, key, value)
    if user is not None and getattr(user, "is_authenticated", False):
        campaign.created_by = user
    _campaign_check(campaign)
    campaign.save()
    return campaign


def _campaign_check(campaign: Campaign) -> None:
    try:
        campaign.full_clean()
    except ValidationError as error:
        raise _invalid(error) from None
    placeholders_check(texts={f: getattr(campaign, f) for f in CONTENT_FIELDS})
    problems = []
    if campaign.segment_id is None:
        problems.append(_("choose a segment"))
    if campaign.channel != CampaignChannel.EXPORT and not (
        campaign.body_text_en or campaign.body_text_zh
    ):
        problems.append(_("write the message text in at least one language"))
    if campaign.channel == CampaignChannel.EMAIL and not (
        campaign.subject_en or campaign.subject_zh
    ):
        problems.append(_("an email needs a subject"))
    if campaign.schedule == Schedule.AT and campaign.scheduled_at is None:
        problems.append(_("say when to send"))
    if campaign.offer == OfferKind.POINTS and campaign.offer_points <= 0:
        problems.append(_("a points offer needs a number of points"))
    if problems:
        raise CampaignError(
            _("The campaign is not ready: %(problems)s.") % {"problems": "; ".join(problems)},
            code=CampaignErrorCode.INVALID_CAMPAIGN,
        )


@transaction.atomic
def campaign_update(*, campaign: Campaign, **fields: Any) -> Campaign:
    if campaign.status != CampaignStatus.DRAFT:
        raise CampaignError(_("Only a draft can be changed."), code=CampaignErrorCode.NOT_DRAFT)
    for key, value in fields.items():
        setattr(campaign, key, value)
    _campaign_check(campaign)
    campaign.save()
    return campaign


@transaction.atomic
def campaign_launch(*, campaign_id: int) -> Campaign:
    """Launch a draft: now (the audience is frozen by the worker), at its time, or as a
    recurring programme. Launching again is a no-op.

    Raises
    ------
    CampaignError
        No such campaign, or it is not ready (see :func:`campaign_create`).
    """
    campaign = Campaign.objects.select_for_update().filter(pk=campaign_id).first()
    if campaign is None:
        raise CampaignError(
            _("There is no campaign %(id)s.") % {"id": campaign_id},
            code=CampaignErrorCode.NOT_FOUND,
        )
    if campaign.status != CampaignStatus.DRAFT:
        return campaign
    _campaign_check(campaign)
    now = timezone.now()
    campaign.launched_at = now
    if campaign.schedule == Schedule.NOW or (
        campaign.schedule == Schedule.RECURRING and campaign.scheduled_at is None
    ):
        campaign.next_run_at = now
    else:
        campaign.next_run_at = campaign.scheduled_at
    campaign.status = CampaignStatus.SCHEDULED
    campaign.save(update_fields=["launched_at", "next_run_at", "status"])
    if campaign.next_run_at <= now:
        task_on_commit("patron.campaigns.tasks.campaign_occurrence_task", campaign.pk)
    return campaign


def campaign_occurrence_run(*, campaign_id: int) -> Freeze | None:
    """Run the due occurrence of a scheduled campaign: claim it (a guarded update, so two
    workers run it once), freeze its audience, queue its messages. None when nothing is due."""
    now = timezone.now()
    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None or campaign.status != CampaignStatus.SCHEDULED:
        return None
    if campaign.next_run_at is None or campaign.next_run_at > now:
        return None
    occurrence = campaign.occurrences + 1
    claimed = Campaign.objects.filter(
        pk=campaign_id, status=CampaignStatus.SCHEDULED, occurrences=campaign.occurrences
    ).update(status=CampaignStatus.LAUNCHING, occurrences=occurrence)
    if not claimed:
        return None
    campaign.refresh_from_db()
    try:
        freeze = audience_freeze(campaign=campaign, occurrence=occurrence)
    except PatronError as error:
        Campaign.objects.filter(pk=campaign_id).update(
            status=CampaignStatus.FAILED, error=error.message
        )
        return None
    except Exception as error:
        logger.exception("campaign %s occurrence %s failed", campaign_id, occurrence)
        Campaign.objects.filter(pk=campaign_id).update(
            status=CampaignStatus.FAILED, error=f"{type(error).__name__}: {error}"
        )
        raise
    if campaign.schedule == Schedule.RECURRING and campaign.every_days:
        status = CampaignStatus.SCHEDULED
        next_run = (campaign.next_run_at or now) + dt.timedelta(days=campaign.every_days)
    else:
        status, next_run = CampaignStatus.RUNNING, None
    Campaign.objects.filter(pk=campaign_id).update(status=status, next_run_at=next_run)
    if freeze.queued:
        task_on_commit("patron.messaging.tasks.outbox_dispatch_task", unless_immediate=True)
    return freeze


def campaigns_tick() -> dict[str, int]:
    """What the worker does every minute: run due occurrences, grant points for sent offers
    (when the loyalty app is installed), and mark campaigns whose messages are all out done."""
    due = list(
        Campaign.objects.filter(
            status=CampaignStatus.SCHEDULED, next_run_at__lte=timezone.now()
        ).values_list("pk", flat=True)
    )
    for campaign_id in due:
        campaign_occurrence_run(campaign_id=campaign_id)
    granted = points_grant_sent()
    done = 0
    for campaign in Campaign.objects.filter(status=CampaignStatus.RUNNING):
        open_messages = OutboxMessage.objects.filter(
            target__campaign=campaign, status__in=OPEN_STATUSES
        ).exists()
        if not open_messages:
            done += Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.RUNNING).update(
                status=CampaignStatus.DONE
            )
    return {"occurrences": len(due), "points": granted, "done": done}


def points_grant_sent(*, limit: int = 5000) -> int:
    """Points offers of sent messages, through the loyalty ledger (idempotent by source)."""
    if not apps.is_installed("patron.loyalty"):
        return 0
    from patron.loyalty.services import points_grant  # type: ignore[import-not-found]

    rows = Target.objects.filter(
        campaign__offer=OfferKind.POINTS,
        points_granted=False,
        message__status=OutboxStatus.SENT,
    ).select_related("campaign")[:limit]
    granted = 0
    for target in rows:
        points_grant(
            customer_id=target.customer_id,
            points=target.campaign.offer_points,
            reason=f"campaign {target.campaign.name}",
            source=f"campaign:{target.campaign_id}:{target.occurrence}:{target.customer_id}",
        )
        Target.objects.filter(pk=target.pk).update(points_granted=True)
        granted += 1
    return granted


def campaign_test_send(*, campaign: Campaign, customer_id: int, address: str) -> list[Any]:
    """Send the campaign as ``customer_id`` would get it, in both languages, to ``address``
    (a transactional message of its own key: no consent or cap applies to a test)."""
    from patron.customers.models import Customer
    from patron.messaging.services import message_enqueue

    customer = Customer.objects.get(pk=customer_id)
    messages = []
    stamp = timezone.now().strftime("%Y%m%d%H%M%S%f")
    for language in ("en", "zh-hans"):
        rendered = render_for(
            campaign,
            customer_id=customer.pk,
            external_id=customer.external_id,
            name=customer.name,
            language=language,
            coupon="TEST-COUPON",
        )
        messages.append(
            message_enqueue(
                key=f"campaign-test:{campaign.pk}:{language}:{stamp}",
                channel="sms" if campaign.channel == "sms" else "email",
                recipient=address,
                subject="[TEST] " + rendered.subject,
                body_text=rendered.body_text,
                body_html=rendered.body_html,
                topic="campaign-test",
                language=language,
            )
        )
    return messages


def campaign_cost(*, campaign: Campaign, sent: int, redeemed: int) -> Decimal:
    return campaign.cost_per_message * sent + campaign.cost_per_redemption * redeemed
