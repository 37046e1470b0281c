"""Surveys: settings, invitations with a signed link, answers (one per link, the last kept),
and sending through the shared outbox.

A link carries the invitation's number signed with the site's secret (Django's signing, salt
:data:`LINK_SALT`): a forged or damaged link is refused, and so is one past the invitation's
``expires_at``. Answering through a link again replaces the earlier answer.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from patron.customers.models import Customer
from patron.service.errors import ServiceError, ServiceErrorCode
from patron.service.models import (
    ResponseSource,
    SurveyInvitation,
    SurveyKind,
    SurveyResponse,
    SurveySettings,
    Ticket,
)

LINK_SALT = "patron.service.survey-link"
BAD_LINK = _("This survey link is not valid. Please use the link from your message.")
LINK_EXPIRED = _("This survey has closed. Thank you all the same.")
SURVEY_OFF = _("This survey is not being sent.")
NPS_RANGE = _("Choose a score from 0 to 10.")
CSAT_RANGE = _("Choose a score from 1 to 5.")
DRIVER_RANGE = _("Rate %(driver)s from 1 to 5.")
UNKNOWN_DRIVER = _("Unknown rating %(driver)s.")

#: Driver ratings asked by default (keys; labels in DRIVER_LABELS).
DEFAULT_DRIVERS = {
    SurveyKind.NPS: ["product", "price", "delivery", "staff"],
    SurveyKind.CSAT: ["speed", "staff", "solution"],
}
DRIVER_LABELS = {
    "product": (_("Products"), "商品"),
    "price": (_("Prices"), "价格"),
    "delivery": (_("Delivery"), "物流配送"),
    "staff": (_("Staff"), "员工服务"),
    "speed": (_("Speed of the answer"), "响应速度"),
    "solution": (_("The solution"), "解决方案"),
    "store": (_("The store"), "门店"),
}


def driver_label(key: str) -> str:
    """The driver's label in the active language (its key when it is not a known one)."""
    from django.utils.translation import get_language

    label = DRIVER_LABELS.get(key)
    if label is None:
        return key
    return label[1] if (get_language() or "").startswith("zh") else str(label[0])


def survey_settings_get(*, kind: str) -> SurveySettings:
    """The settings of a kind of survey (created with the defaults the first time)."""
    settings, _created = SurveySettings.objects.get_or_create(
        kind=kind,
        defaults={
            "drivers": list(DEFAULT_DRIVERS[SurveyKind(kind)]),
            "after_order_days": 7 if kind == SurveyKind.NPS else 0,
        },
    )
    return settings


@transaction.atomic
def survey_settings_update(
    *,
    kind: str,
    active: bool,
    every_days: int,
    after_order_days: int,
    link_valid_days: int,
    drivers: list[str],
    ask_comment: bool,
) -> SurveySettings:
    """Change what a survey asks and how it is sent.

    Raises
    ------
    django.core.exceptions.ValidationError
        A number out of range or an unknown driver key.
    """
    settings = survey_settings_get(kind=kind)
    unknown = [d for d in drivers if d not in DRIVER_LABELS]
    if unknown:
        raise ValidationError(
            {"drivers": ValidationError(UNKNOWN_DRIVER, params={"driver": ", ".join(unknown)})}
        )
    settings.active = active
    settings.every_days = every_days
    settings.after_order_days = after_order_days
    settings.link_valid_days = max(1, link_valid_days)
    settings.drivers = drivers
    settings.ask_comment = ask_comment
    settings.full_clean()
    settings.save()
    return settings


def survey_link_token(invitation: SurveyInvitation) -> str:
    return signing.dumps(invitation.pk, salt=LINK_SALT, compress=False)


def invitation_from_token(token: str, *, now: dt.datetime | None = None) -> SurveyInvitation:
    """The invitation a link names.

    Raises
    ------
    ServiceError
        ``BAD_LINK`` when the signature does not hold or the invitation is gone,
        ``LINK_EXPIRED`` when it is past its expiry.
    """
    try:
        pk = signing.loads(token, salt=LINK_SALT)
    except signing.BadSignature:
        raise ServiceError(str(BAD_LINK), code=ServiceErrorCode.BAD_LINK) from None
    invitation = (
        SurveyInvitation.objects.select_related("customer").filter(pk=pk).first()
        if isinstance(pk, int)
        else None
    )
    if invitation is None:
        raise ServiceError(str(BAD_LINK), code=ServiceErrorCode.BAD_LINK)
    if (now or timezone.now()) > invitation.expires_at:
        raise ServiceError(str(LINK_EXPIRED), code=ServiceErrorCode.LINK_EXPIRED)
    return invitation


@transaction.atomic
def survey_invite(
    *,
    kind: str,
    customer: Customer,
    key: str,
    ticket: Ticket | None = None,
    order: Any | None = None,
    language: str = "zh-hans",
    now: dt.datetime | None = None,
) -> SurveyInvitation:
    """An invitation to answer, once per ``key`` (a second call returns the first).

    Raises
    ------
    ServiceError
        ``SURVEY_OFF`` when the kind of survey is switched off in its settings.
    """
    settings = survey_settings_get(kind=kind)
    if not settings.active:
        raise ServiceError(str(SURVEY_OFF), code=ServiceErrorCode.SURVEY_OFF)
    now = now or timezone.now()
    invitation, _created = SurveyInvitation.objects.get_or_create(
        key=key,
        defaults={
            "kind": kind,
            "customer": customer,
            "ticket": ticket,
            "order": order,
            "language": language,
            "created_at": now,
            "expires_at": now + dt.timedelta(days=settings.link_valid_days),
        },
    )
    return invitation


def _check_scores(*, kind: str, nps: int | None, csat: int | None, drivers: dict[str, int]) -> None:
    errors: dict[str, ValidationError] = {}
    if kind == SurveyKind.NPS and (nps is None or not 0 <= nps <= 10):
        errors["nps"] = ValidationError(NPS_RANGE, code="range")
    if kind == SurveyKind.CSAT and (csat is None or not 1 <= csat <= 5):
        errors["csat"] = ValidationError(CSAT_RANGE, code="range")
    for key, value in drivers.items():
        if not 1 <= value <= 5:
            errors[f"driver_{key}"] = ValidationError(DRIVER_RANGE, params={"driver": key})
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def survey_answer(
    *,
    token: str,
    score: int | None,
    drivers: dict[str, int] | None = None,
    comment: str = "",
    now: dt.datetime | None = None,
) -> SurveyResponse:
    """Record the answer given through a link: the score (NPS 0-10 or CSAT 1-5 by the
    invitation's kind), driver ratings (1-5) and a comment. Answering again replaces the
    earlier answer. A detractor's answer raises the churn warning.

    Raises
    ------
    ServiceError
        The link is forged, damaged or expired.
    django.core.exceptions.ValidationError
        A score or rating out of range.
    """
    from patron.service.churn import answer_received

    now = now or timezone.now()
    invitation = invitation_from_token(token, now=now)
    invitation = SurveyInvitation.objects.select_for_update().get(pk=invitation.pk)
    asked = set(survey_settings_get(kind=invitation.kind).drivers)
    ratings = {k: int(v) for k, v in (drivers or {}).items() if k in asked}
    nps = score if invitation.kind == SurveyKind.NPS else None
    csat = score if invitation.kind == SurveyKind.CSAT else None
    _check_scores(kind=invitation.kind, nps=nps, csat=csat, drivers=ratings)
    response, _created = SurveyResponse.objects.update_or_create(
        invitation=invitation,
        defaults={
            "customer_id": invitation.customer_id,
            "ticket_id": invitation.ticket_id,
            "answered_at": now,
            "nps": nps,
            "csat": csat,
            "drivers": ratings,
            "comment": comment.strip()[:2000],
            "source": ResponseSource.LINK,
        },
    )
    answer_received(customer=invitation.customer, nps=nps, csat=csat, day=timezone.localdate(now))
    return response


def nps_invites_due(*, today: dt.date | None = None, limit: int = 5000) -> list[SurveyInvitation]:
    """The NPS invitations due today, for customers with an email not asked in the last
    ``every_days``: after an order (the customers whose order was ``after_order_days`` ago,
    once per order) or, with ``after_order_days`` 0, on a schedule (every customer who bought
    in the last ``every_days``, once per period of that length)."""
    from patron.retention.services import PURCHASE_STATUSES
    from patron.sales.models import Order

    settings = survey_settings_get(kind=SurveyKind.NPS)
    if not settings.active:
        return []
    today = today or timezone.localdate()
    since = timezone.now() - dt.timedelta(days=settings.every_days)
    recently = SurveyInvitation.objects.filter(kind=SurveyKind.NPS, created_at__gte=since)
    orders = (
        Order.objects.filter(status__in=PURCHASE_STATUSES)
        .exclude(customer__email="")
        .exclude(customer_id__in=recently.values("customer_id"))
        .select_related("customer")
        .order_by("customer_id", "-ordered_on", "-pk")
    )
    if settings.after_order_days:
        day = today - dt.timedelta(days=settings.after_order_days)
        orders = orders.filter(ordered_on=day)
        key = "nps:order:{order}"
    else:
        orders = orders.filter(
            ordered_on__gt=today - dt.timedelta(days=settings.every_days), ordered_on__lte=today
        )
        key = "nps:schedule:{customer}:" + str(today.toordinal() // settings.every_days)
    invitations: list[SurveyInvitation] = []
    seen: set[int] = set()
    for order in orders.iterator(chunk_size=2000):
        if order.customer_id in seen:
            continue
        seen.add(order.customer_id)
        invitations.append(
            survey_invite(
                kind=SurveyKind.NPS,
                customer=order.customer,
                order=order if settings.after_order_days else None,
                key=key.format(order=order.pk, customer=order.customer_id),
            )
        )
        if len(invitations) == limit:
            break
    return invitations
