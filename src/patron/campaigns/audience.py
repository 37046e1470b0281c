"""Freezing an occurrence's audience: the segment's customers copied into target rows in the
database (INSERT ... SELECT), groups assigned by a stable hash, the sample ratio checked,
customers the contact policy excludes skipped with their reason, and one outbox message
queued per remaining treatment customer."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from patron.campaigns.content import coupon_code_new, language_for, render_for
from patron.campaigns.errors import CampaignError, CampaignErrorCode
from patron.campaigns.models import Campaign, Group, OfferKind, Target, TargetState
from patron.campaigns.rules import large_query_settings, segment_queryset
from patron.customers.models import Consent
from patron.messaging.models import OutboxMessage, Purpose, SkipReason, Suppression, Unsubscribe
from patron.messaging.policy import contact_policy_get, in_global_holdout, stable_share

CHUNK = 2000
SRM_ALPHA = 0.001  # a sample-ratio p-value below this stops the launch


def control_share_of(campaign_id: int, customer_id: int) -> float:
    """The customer's fixed draw for this campaign, in [0, 1): control when below the share."""
    return stable_share(f"campaign:{campaign_id}", customer_id)


def group_for(*, campaign: Campaign, customer_id: int, policy: object) -> str:
    if in_global_holdout(policy, customer_id):  # type: ignore[arg-type]
        return Group.HOLDOUT
    if control_share_of(campaign.pk, customer_id) < campaign.control_share:
        return Group.CONTROL
    return Group.TREATMENT


def sample_ratio_p(*, treatment: int, control: int, share: float) -> float | None:
    """Chi-square p-value of the control count against the share (None when untestable)."""
    total = treatment + control
    if total == 0 or share <= 0:
        return None
    from scipy.stats import chisquare

    expected = [total * (1 - share), total * share]
    return float(chisquare([treatment, control], f_exp=expected).pvalue)


@dataclass(frozen=True)
class Freeze:
    occurrence: int
    targeted: int
    queued: int


def _insert_targets(campaign: Campaign, occurrence: int, now: dt.datetime) -> None:
    assert campaign.segment is not None
    query = segment_queryset(rules=campaign.segment.rules).annotate(_cid=F("pk")).values("_cid")
    sql, params = query.query.sql_with_params()
    table = Target._meta.db_table
    false = "false" if connection.vendor == "postgresql" else "0"
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO {table} (campaign_id, occurrence, customer_id, "group", state, reason, '
            f"points_granted, contacted_at, language) "
            f"SELECT %s, %s, s._cid, 'treatment', 'pending', '', {false}, %s, '' "
            f"FROM ({sql}) s",
            [campaign.pk, occurrence, connection.ops.adapt_datetimefield_value(now), *params],
        )


def _assign_groups(campaign: Campaign, targets: object) -> tuple[int, int, int]:
    policy = contact_policy_get()
    ids = list(targets.values_list("customer_id", flat=True))  # type: ignore[attr-defined]
    control, holdout = [], []
    for customer_id in ids:
        group = group_for(campaign=campaign, customer_id=customer_id, policy=policy)
        if group == Group.CONTROL:
            control.append(customer_id)
        elif group == Group.HOLDOUT:
            holdout.append(customer_id)
    for group, members in ((Group.CONTROL, control), (Group.HOLDOUT, holdout)):
        for start in range(0, len(members), CHUNK):
            targets.filter(customer_id__in=members[start : start + CHUNK]).update(group=group)  # type: ignore[attr-defined]
    return len(ids) - len(control) - len(holdout), len(control), len(holdout)


def _skip_ineligible(campaign: Campaign, targets: object) -> None:
    """Skip, in every group, whom the policy would not let us reach: a control who could not
    have been reached is no comparison for those who were."""
    channel = campaign.channel
    pending = targets.filter(state=TargetState.PENDING)  # type: ignore[attr-defined]

    def skip(condition: Q, reason: str) -> None:
        pending.filter(condition).update(state=TargetState.SKIPPED, reason=reason)

    unsubscribed = Unsubscribe.objects.filter(
        Q(topic="") | Q(topic=campaign.topic),
        Q(channel="") | Q(channel=channel),
        customer_id=OuterRef("customer_id"),
    )
    if channel == "export":
        skip(Q(Exists(unsubscribed)), SkipReason.UNSUBSCRIBED)
        return
    address = "customer__email" if channel == "email" else "customer__phone"
    no_address = Q(**{address: ""})
    if channel == "sms":
        no_address |= Q(customer__phone_is_masked=True)
    skip(no_address, SkipReason.NO_ADDRESS)
    bounced = Suppression.objects.filter(channel=channel, address=OuterRef(address))
    skip(Q(Exists(bounced)), SkipReason.BOUNCED)
    skip(Q(Exists(unsubscribed)), SkipReason.UNSUBSCRIBED)
    consent = Consent.objects.filter(
        customer_id=OuterRef("customer_id"), channel=channel, granted=True
    )
    skip(~Q(Exists(consent)), SkipReason.NO_CONSENT)


def _queue_messages(campaign: Campaign, occurrence: int, targets: object) -> int:
    """One outbox row per pending treatment target (keyed by campaign, occurrence and
    customer, so a repeated freeze queues nothing twice)."""
    now = timezone.now()
    expires = now + dt.timedelta(days=campaign.valid_days)
    queued = 0
    rows = (
        targets.filter(group=Group.TREATMENT, state=TargetState.PENDING, message__isnull=True)  # type: ignore[attr-defined]
        .order_by("customer_id")
        .values_list(
            "pk",
            "customer_id",
            "customer__external_id",
            "customer__name",
            "customer__email",
            "customer__phone",
            "customer__attributes",
        )
    )
    batch: list[tuple[int, OutboxMessage, str]] = []

    def flush() -> None:
        OutboxMessage.objects.bulk_create([m for _, m, _ in batch], ignore_conflicts=True)
        ids = dict(
            OutboxMessage.objects.filter(key__in=[m.key for _, m, _ in batch]).values_list(
                "key", "pk"
            )
        )
        updates = [
            Target(pk=pk, message_id=ids[m.key], coupon_code=code or None, language=m.language)
            for pk, m, code in batch
        ]
        Target.objects.bulk_update(updates, ["message_id", "coupon_code", "language"])
        batch.clear()

    for pk, customer_id, external_id, name, email, phone, attributes in rows.iterator(
        chunk_size=CHUNK
    ):
        language = language_for(campaign, attributes)
        code = coupon_code_new() if campaign.offer == OfferKind.COUPON else ""
        rendered = render_for(
            campaign,
            customer_id=customer_id,
            external_id=external_id,
            name=name,
            language=language,
            coupon=code,
            occurrence=occurrence,
        )
        message = OutboxMessage(
            key=f"campaign:{campaign.pk}:{occurrence}:{customer_id}",
            channel=campaign.channel,
            recipient=email if campaign.channel == "email" else phone,
            subject=rendered.subject,
            body_text=rendered.body_text,
            body_html=rendered.body_html,
            customer_id=customer_id,
            purpose=Purpose.MARKETING,
            topic=campaign.topic,
            language=rendered.language,
            expires_at=expires,
        )
        batch.append((pk, message, code))
        queued += 1
        if len(batch) >= CHUNK:
            flush()
    if batch:
        flush()
    return queued


def audience_freeze(*, campaign: Campaign, occurrence: int) -> Freeze:
    """Freeze the audience of ``occurrence`` and queue its messages (see the module).

    Raises
    ------
    CampaignError
        The control group's size is off its share beyond chance (sample-ratio mismatch).
    """
    now = timezone.now()
    targets = Target.objects.filter(campaign=campaign, occurrence=occurrence)
    with transaction.atomic(), large_query_settings():
        if not targets.exists():
            _insert_targets(campaign, occurrence, now)
        treatment, control, _holdout = _assign_groups(campaign, targets)
        p_value = sample_ratio_p(treatment=treatment, control=control, share=campaign.control_share)
        Campaign.objects.filter(pk=campaign.pk).update(srm_p_value=p_value)
        if p_value is not None and p_value < SRM_ALPHA:
            raise CampaignError(
                _(
                    "Sample-ratio mismatch: %(control)s controls of %(total)s customers is too far "
                    "from the %(share)s share (p = %(p).2g); nothing was sent."
                )
                % {
                    "control": control,
                    "total": treatment + control,
                    "share": f"{campaign.control_share:.0%}",
                    "p": p_value,
                },
                code=CampaignErrorCode.SAMPLE_RATIO,
            )
        _skip_ineligible(campaign, targets)
        targets.filter(state=TargetState.PENDING, group__in=(Group.CONTROL, Group.HOLDOUT)).update(
            state=TargetState.HELD_OUT
        )
        if campaign.channel == "export":
            codes = campaign.offer == OfferKind.COUPON
            pending = targets.filter(state=TargetState.PENDING, group=Group.TREATMENT)
            if codes:
                updates = [
                    Target(pk=pk, coupon_code=coupon_code_new())
                    for pk in pending.values_list("pk", flat=True)
                ]
                Target.objects.bulk_update(updates, ["coupon_code"], batch_size=CHUNK)
            pending.update(state=TargetState.SENT)
            queued = 0
        else:
            queued = _queue_messages(campaign, occurrence, targets)
    return Freeze(occurrence=occurrence, targeted=targets.count(), queued=queued)


def launch_preview(*, campaign: Campaign) -> dict[str, object]:
    """Who a launch now would reach, hold out and skip (and why), without writing anything."""
    assert campaign.segment is not None
    audience = segment_queryset(rules=campaign.segment.rules)
    with large_query_settings():
        total = audience.count()
    channel = campaign.channel
    reasons: dict[str, int] = {}
    remaining = audience
    checks: list[tuple[str, Q]] = []
    unsub = Unsubscribe.objects.filter(
        Q(topic="") | Q(topic=campaign.topic),
        Q(channel="") | Q(channel=channel),
        customer_id=OuterRef("pk"),
    )
    if channel != "export":
        field = "email" if channel == "email" else "phone"
        checks.append((SkipReason.NO_ADDRESS, Q(**{field: ""})))
        checks.append(
            (
                SkipReason.BOUNCED,
                Q(Exists(Suppression.objects.filter(channel=channel, address=OuterRef(field)))),
            )
        )
    checks.append((SkipReason.UNSUBSCRIBED, Q(Exists(unsub))))
    if channel != "export":
        checks.append(
            (
                SkipReason.NO_CONSENT,
                ~Q(
                    Exists(
                        Consent.objects.filter(
                            customer_id=OuterRef("pk"), channel=channel, granted=True
                        )
                    )
                ),
            )
        )
    for reason, condition in checks:
        with large_query_settings():
            n = remaining.filter(condition).count()
        if n:
            reasons[reason] = n
        remaining = remaining.exclude(condition)
    eligible = total - sum(reasons.values())
    return {
        "targeted": total,
        "eligible": eligible,
        "expected_control": round(eligible * campaign.control_share),
        "skipped": reasons,
    }
