"""Member notifications: welcome, tier up and down, points expiring (one reminder per lot),
reward redeemed, order status. Each is queued in the one outbox
(:func:`patron.messaging.services.message_enqueue`) under a key unique per (member, event),
so a scan run twice, a retried job or a restarted worker never sends one twice.

They are transactional (no marketing consent needed, no caps), but each kind has its topic
(``member.tier``, ...): a member who turns a kind off (portal, API, or the link in the
message) has an opt-out for that topic, which the outbox honours at dispatch.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db.models import F, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.template import Context, Template
from django.utils import timezone

from patron.loyalty.models import LedgerEntry, LotUse, Member, Redemption, TierChange
from patron.members.models import NotificationKind, NotificationTemplate
from patron.members.templates_default import DEFAULTS, OFF_BY_DEFAULT
from patron.messaging.models import OutboxMessage
from patron.messaging.policy import unsubscribe_url
from patron.messaging.services import message_enqueue

# The topic of each kind: what a member turns off. The sign-in code has none (always sent).
TOPICS = {
    "welcome": "member.welcome",
    "tier_up": "member.tier",
    "tier_down": "member.tier",
    "expiring": "member.expiring",
    "redeemed": "member.redeemed",
    "order_paid": "member.order",
    "order_shipped": "member.order",
    "order_refunded": "member.order",
}
MEMBER_TOPICS = tuple(dict.fromkeys(TOPICS.values()))
ORDER_KINDS = {"open": "order_paid", "completed": "order_shipped", "refunded": "order_refunded"}
LOOKBACK = dt.timedelta(days=7)  # events older than this are not notified by a scan


def expiry_notice_days() -> int:
    return int(settings.PATRON_MEMBER_EXPIRY_NOTICE_DAYS)


def template_get(kind: str) -> NotificationTemplate:
    """The template of ``kind`` (stored with the shipped text the first time)."""
    template = NotificationTemplate.objects.filter(kind=kind).first()
    if template is None:
        template, _ = NotificationTemplate.objects.get_or_create(
            kind=kind,
            defaults={
                **DEFAULTS[kind],
                "enabled": kind not in OFF_BY_DEFAULT,
                "enabled_since": timezone.now(),
            },
        )
    return template


def _render(text: str, context: dict[str, Any]) -> str:
    return Template(text).render(Context(context, autoescape=False)).strip()


def template_render(
    template: NotificationTemplate, *, language: str, context: dict[str, Any]
) -> tuple[str, str, str]:
    """(subject, text, SMS text) of ``template`` in ``language`` with ``context``."""
    zh = language == "zh-hans"
    subject = _render(template.subject_zh if zh else template.subject_en, context)
    body = _render(template.body_zh if zh else template.body_en, context)
    if context.get("unsubscribe_url"):
        footer = (
            "\n\n--\n{programme}\n不想再收到此类消息：{url}"
            if zh
            else "\n\n--\n{programme}\nTurn these messages off: {url}"
        )
        body += footer.format(
            programme=context.get("programme", ""), url=context["unsubscribe_url"]
        )
    sms = _render(template.sms_zh if zh else template.sms_en, context)
    return subject, body, sms


def _programme_name(language: str) -> str:
    from patron.loyalty.services import programme_get

    programme = programme_get()
    return programme.name_zh if language == "zh-hans" else programme.name_en


def _languages(member_ids: Iterable[int]) -> dict[int, str]:
    from patron.members.models import Profile

    return dict(
        Profile.objects.filter(member_id__in=list(member_ids)).values_list("member_id", "language")
    )


def notify(
    *,
    member: Member,
    kind: str,
    event: str,
    context: dict[str, Any],
    language: str | None = None,
    template: NotificationTemplate | None = None,
) -> list[OutboxMessage]:
    """Queue notification ``kind`` of ``event`` for ``member`` (email, and SMS when a gateway
    is set and the member has a mobile number); idempotent by (member, kind, event)."""
    template = template or template_get(kind)
    if not template.enabled:
        return []
    customer = member.customer
    if language is None:
        language = _languages([member.pk]).get(member.pk, settings.LANGUAGE_CODE)
    topic = TOPICS.get(kind, "")
    full = {
        "name": customer.name or customer.external_id,
        "programme": _programme_name(language),
        "card_number": member.card_number,
        "portal_url": f"{settings.PATRON_BASE_URL}/member/",
        **context,
    }
    if topic:
        full["unsubscribe_url"] = unsubscribe_url(customer_id=customer.pk, channel="", topic=topic)
    subject, body, sms = template_render(template, language=language, context=full)
    key = f"member.{kind}:{member.pk}:{event}"
    common = {"customer_id": customer.pk, "topic": topic, "language": language}
    sent = []
    if customer.email:
        sent.append(
            message_enqueue(
                key=key,
                channel="email",
                recipient=customer.email,
                subject=subject,
                body_text=body,
                **common,
            )
        )
    if settings.PATRON_SMS_URL and customer.phone and not customer.phone_is_masked and sms:
        sent.append(
            message_enqueue(
                key=key + ":sms",
                channel="sms",
                recipient=customer.phone,
                subject="",
                body_text=sms,
                **common,
            )
        )
    return sent


def _already(keys: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        found.update(
            OutboxMessage.objects.filter(key__in=keys[start : start + 500]).values_list(
                "key", flat=True
            )
        )
    return found


def _send_new(kind: str, events: list[tuple[Member, str, Any]]) -> int:
    """Notify the events whose key is not in the outbox yet; returns how many were queued.
    A context may be a function, called only for an event not notified yet."""
    if not events:
        return 0
    template = template_get(kind)
    done = _already([f"member.{kind}:{m.pk}:{e}" for m, e, _ in events])
    languages = _languages({m.pk for m, _, _ in events})
    queued = 0
    for member, event, context in events:
        if f"member.{kind}:{member.pk}:{event}" in done:
            continue
        language = languages.get(member.pk, settings.LANGUAGE_CODE)
        if notify(
            member=member,
            kind=kind,
            event=event,
            context=context() if callable(context) else context,
            language=language,
            template=template,
        ):
            queued += 1
    return queued


def _since(kind: str, now: dt.datetime) -> dt.datetime | None:
    template = template_get(kind)
    return max(template.enabled_since, now - LOOKBACK) if template.enabled else None


def _tier_name(tier: Any, language: str) -> str:
    if tier is None:
        return "—"
    return str(tier.name_zh if language == "zh-hans" else tier.name_en)


def notifications_scan(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Queue every notification due now that is not queued yet; returns counts by kind.
    Safe to run at any time and in several processes (the outbox key decides)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    counts: dict[str, int] = {}
    members = Member.objects.select_related("customer", "tier")
    if (since := _since("welcome", now)) is not None:
        rows = members.filter(enrolled_at__gte=since).order_by("pk")
        counts["welcome"] = _send_new("welcome", [(m, "card", {}) for m in rows])
    for kind, reason in (("tier_up", "upgrade"), ("tier_down", "downgrade")):
        if (since := _since(kind, now)) is None:
            continue
        changes = TierChange.objects.select_related(
            "member__customer", "member__tier", "to_tier"
        ).filter(reason=reason, changed_on__gte=timezone.localdate(since))
        events = []
        languages = _languages({c.member_id for c in changes})
        for change in changes.order_by("pk"):
            language = languages.get(change.member_id, settings.LANGUAGE_CODE)
            context = {"tier": _tier_name(change.to_tier, language)}
            events.append((change.member, str(change.pk), context))
        counts[kind] = _send_new(kind, events)
    if template_get("expiring").enabled:
        counts["expiring"] = _send_new("expiring", _expiring_lots(today=today))
    if (since := _since("redeemed", now)) is not None:
        rows = (
            Redemption.objects.select_related("member__customer", "member__tier")
            .filter(created_at__gte=since, points__gt=0)
            .order_by("pk")
        )
        events = [(r.member, str(r.pk), functools.partial(redeemed_context, r)) for r in rows]
        counts["redeemed"] = _send_new("redeemed", events)
    counts.update(_order_events(now=now, members=members))
    return counts


def redeemed_context(redemption: Redemption) -> dict[str, Any]:
    from patron.loyalty.services import balance_of

    codes = ", ".join(
        sorted(c for i in redemption.items.all() for c in i.codes.values_list("code", flat=True))
    )
    balance = balance_of(member_id=redemption.member_id).available
    return {"points": redemption.points, "codes": codes, "balance": balance}


def _expiring_lots(*, today: dt.date) -> list[tuple[Member, str, dict[str, Any]]]:
    used = (
        LotUse.objects.filter(lot=OuterRef("pk"))
        .values("lot")
        .annotate(total=Sum("points"))
        .values("total")
    )
    lots = (
        LedgerEntry.objects.filter(
            is_lot=True,
            expires_on__gte=today,
            expires_on__lte=today + dt.timedelta(days=expiry_notice_days()),
        )
        .filter(Q(available_on__isnull=True) | Q(available_on__lte=today))
        .annotate(
            remaining=F("points") - Coalesce(Subquery(used, output_field=IntegerField()), Value(0))
        )
        .filter(remaining__gt=0)
        .select_related("member__customer", "member__tier")
        .order_by("pk")
    )
    return [
        (lot.member, str(lot.pk), {"points": lot.remaining, "expires_on": lot.expires_on})  # type: ignore[attr-defined]
        for lot in lots
    ]


def _order_events(*, now: dt.datetime, members: Any) -> dict[str, int]:
    from patron.sales.models import Order

    counts: dict[str, int] = {}
    for status, kind in ORDER_KINDS.items():
        if (since := _since(kind, now)) is None:
            continue
        orders = Order.objects.filter(
            status=status, created_at__gte=since, customer__membership__isnull=False
        ).order_by("pk")
        by_customer = {
            m.customer_id: m for m in members.filter(customer_id__in=orders.values("customer_id"))
        }
        events = [
            (
                by_customer[o.customer_id],
                f"{o.pk}:{status}",
                {"order": o.external_id, "amount": o.amount},
            )
            for o in orders
            if o.customer_id in by_customer
        ]
        counts[kind] = _send_new(kind, events)
    return counts


KINDS = [k for k in NotificationKind.values if k != "code"]


def template_preview(template: NotificationTemplate) -> list[dict[str, str]]:
    """The template rendered with a sample member in both languages (the admin's preview).
    A template with an error shows the error instead of failing the page."""
    from django.template import TemplateSyntaxError

    from patron.members.templates_default import SAMPLE

    rows = []
    for language in ("en", "zh-hans"):
        try:
            subject, body, sms = template_render(template, language=language, context=SAMPLE)
        except TemplateSyntaxError as error:
            subject, body, sms = "!", str(error), ""
        rows.append({"language": language, "subject": subject, "body": body, "sms": sms})
    return rows
