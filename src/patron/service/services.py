"""Writes over tickets: create (priority and SLA clock), reply, note, assign, resolve with
compensation, close, reopen; categories; service recovery.

The churn link (:mod:`patron.service.churn`): an open complaint raises or adds to the
customer's churn warning; a resolved complaint followed by a purchase closes it as recovered.
Resolving a ticket invites the customer to a CSAT survey once the change is committed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from patron.customers.models import Customer
from patron.sales.models import Order
from patron.service.models import (
    DONE_STATUSES,
    Compensation,
    MessageKind,
    Priority,
    Ticket,
    TicketCategory,
    TicketChannel,
    TicketKind,
    TicketMessage,
    TicketStatus,
)
from patron.service.priority import customer_standing, priority_default, sla_hours
from patron.service.sla import business_hours_from_settings

#: The permission a user needs to own and work on tickets.
MANAGE_PERMISSION = "accounts.manage_tickets"

UNKNOWN_CATEGORY = _("Unknown category %(value)s: expected one of %(choices)s.")
UNKNOWN_KIND = _("Unknown kind %(value)s: expected complaint, question, request or praise.")
UNKNOWN_CHANNEL = _("Unknown channel %(value)s: expected phone, store, email, wechat, app or web.")
UNKNOWN_PRIORITY = _("Unknown priority %(value)s: expected low, normal, high or urgent.")
ORDER_NOT_THEIRS = _("Order %(value)s is not an order of this customer.")
SUBJECT_REQUIRED = _("Say in a few words what the ticket is about.")
TEXT_REQUIRED = _("Write something first.")
TICKET_DONE = _("This ticket is resolved or closed: reopen it first.")
TICKET_NOT_DONE = _("Only a resolved or closed ticket can be reopened.")
TICKET_CLOSED = _("This ticket is closed.")
OWNER_CANNOT_ACT = _("%(user)s cannot work on tickets: their role does not allow it.")
RESOLUTION_REQUIRED = _("Say how the ticket was resolved.")
COMPENSATION_NEEDS_REFERENCE = _("Give the coupon code or the refund reference.")
COMPENSATION_NEEDS_POINTS = _("Give the number of points.")


def user_can_act(user: Any) -> bool:
    """Whether ``user`` may own and work on tickets (service, admin)."""
    return bool(user is not None and user.is_active and user.has_perm(MANAGE_PERMISSION))


def _category(value: TicketCategory | str) -> TicketCategory:
    if isinstance(value, TicketCategory):
        return value
    found = TicketCategory.objects.filter(code=value, active=True).first()
    if found is None:
        choices = ", ".join(
            TicketCategory.objects.filter(active=True).values_list("code", flat=True)
        )
        raise ValidationError(
            {
                "category": ValidationError(
                    UNKNOWN_CATEGORY, params={"value": repr(value), "choices": choices or "—"}
                )
            }
        )
    return found


def _check_choices(*, kind: str, channel: str, priority: str | None) -> None:
    errors: dict[str, ValidationError] = {}
    if kind not in TicketKind.values:
        errors["kind"] = ValidationError(UNKNOWN_KIND, params={"value": repr(kind)})
    if channel not in TicketChannel.values:
        errors["channel"] = ValidationError(UNKNOWN_CHANNEL, params={"value": repr(channel)})
    if priority is not None and priority not in Priority.values:
        errors["priority"] = ValidationError(UNKNOWN_PRIORITY, params={"value": repr(priority)})
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def ticket_create(
    *,
    customer: Customer,
    kind: str,
    category: TicketCategory | str,
    channel: str,
    subject: str,
    text: str = "",
    order: Order | None = None,
    priority: str | None = None,
    owner: Any | None = None,
    by: Any | None = None,
    opened_at: dt.datetime | None = None,
    source: str = "",
    external_id: str = "",
    churn_link: bool = True,
) -> Ticket:
    """Open a ticket: the priority defaults from the kind, the customer's value tier and churn
    risk; the SLA clock starts at ``opened_at`` (now). A complaint raises the churn warning
    (unless ``churn_link`` is off: an imported complaint that was resolved long ago).

    Raises
    ------
    django.core.exceptions.ValidationError
        Unknown kind, channel, priority or category; an order of another customer; no subject.
    """
    from patron.service.churn import complaint_opened

    _check_choices(kind=kind, channel=channel, priority=priority)
    found_category = _category(category)
    if order is not None and order.customer_id != customer.pk:
        raise ValidationError(
            {"order": ValidationError(ORDER_NOT_THEIRS, params={"value": order.external_id})}
        )
    if not subject.strip():
        raise ValidationError({"subject": ValidationError(SUBJECT_REQUIRED, code="required")})
    tier, risk = customer_standing(customer)
    chosen = (
        Priority(priority)
        if priority
        else priority_default(kind=kind, value_tier=tier, risk_level=risk)
    )
    opened = opened_at or timezone.now()
    first_hours, resolve_hours = sla_hours(priority=chosen, value_tier=tier)
    hours = business_hours_from_settings()
    ticket = Ticket(
        customer=customer,
        kind=kind,
        category=found_category,
        channel=channel,
        priority=chosen,
        subject=subject.strip()[:200],
        text=text.strip(),
        order=order,
        owner=owner,
        value_tier=tier,
        opened_at=opened,
        first_response_due_at=hours.add(opened, first_hours),
        due_at=hours.add(opened, resolve_hours),
        source=source,
        external_id=external_id,
        created_by=by,
    )
    ticket.full_clean(validate_constraints=False)
    ticket.save()
    if ticket.text:
        TicketMessage.objects.create(
            ticket=ticket, kind=MessageKind.CUSTOMER, text=ticket.text, created_at=opened
        )
    if kind == TicketKind.COMPLAINT and churn_link:
        complaint_opened(ticket)
    return ticket


def _locked(ticket: Ticket) -> Ticket:
    return Ticket.objects.select_for_update().select_related("customer").get(pk=ticket.pk)


def _check_actor(by: Any) -> None:
    if not user_can_act(by):
        raise ValidationError(OWNER_CANNOT_ACT, params={"user": by.get_username()})


@transaction.atomic
def ticket_reply(
    *, ticket: Ticket, text: str, by: Any, wait_for_customer: bool = False
) -> TicketMessage:
    """Reply to the customer: stops the first-response clock; the ticket is open, or waiting
    on the customer.

    Raises
    ------
    django.core.exceptions.ValidationError
        No text, the ticket is resolved or closed, or ``by`` may not work on tickets.
    """
    _check_actor(by)
    if not text.strip():
        raise ValidationError({"text": ValidationError(TEXT_REQUIRED, code="required")})
    ticket = _locked(ticket)
    if ticket.status in DONE_STATUSES:
        raise ValidationError(TICKET_DONE, code="done")
    now = timezone.now()
    fields = ["status", "updated_at"]
    if ticket.first_responded_at is None:
        ticket.first_responded_at = now
        fields.append("first_responded_at")
    if ticket.owner_id is None:
        ticket.owner = by
        fields.append("owner")
    ticket.status = TicketStatus.WAITING if wait_for_customer else TicketStatus.OPEN
    ticket.save(update_fields=fields)
    return TicketMessage.objects.create(
        ticket=ticket, kind=MessageKind.REPLY, text=text.strip(), author=by, created_at=now
    )


@transaction.atomic
def ticket_note(*, ticket: Ticket, text: str, by: Any) -> TicketMessage:
    """Add an internal note (the customer never sees it; the clock does not stop).

    Raises
    ------
    django.core.exceptions.ValidationError
        No text, or ``by`` may not work on tickets.
    """
    _check_actor(by)
    if not text.strip():
        raise ValidationError({"text": ValidationError(TEXT_REQUIRED, code="required")})
    return TicketMessage.objects.create(
        ticket=ticket, kind=MessageKind.NOTE, text=text.strip(), author=by,
        created_at=timezone.now(),
    )  # fmt: skip


@transaction.atomic
def ticket_assign(*, ticket: Ticket, owner: Any | None) -> Ticket:
    """Give the ticket an owner (None: the team).

    Raises
    ------
    django.core.exceptions.ValidationError
        The ticket is closed, or the owner may not work on tickets.
    """
    ticket = _locked(ticket)
    if ticket.status == TicketStatus.CLOSED:
        raise ValidationError(TICKET_CLOSED, code="closed")
    if owner is not None and not user_can_act(owner):
        raise ValidationError(
            {"owner": ValidationError(OWNER_CANNOT_ACT, params={"user": owner.get_username()})}
        )
    ticket.owner = owner
    ticket.save(update_fields=["owner", "updated_at"])
    return ticket


@transaction.atomic
def ticket_resolve(
    *,
    ticket: Ticket,
    by: Any,
    resolution: str,
    compensation: str = "",
    compensation_reference: str = "",
    compensation_points: int | None = None,
    resolved_at: dt.datetime | None = None,
) -> Ticket:
    """Resolve the ticket, with what was done and any compensation (a coupon code, points, a
    refund reference). The customer is invited to a CSAT survey after the commit.

    Raises
    ------
    django.core.exceptions.ValidationError
        ``by`` may not work on tickets, the ticket is resolved or closed already, no
        resolution, or a compensation without its code, reference or points.
    """
    from patron.service.invitations import csat_invite_after_resolution

    _check_actor(by)
    errors: dict[str, ValidationError] = {}
    if not resolution.strip():
        errors["resolution"] = ValidationError(RESOLUTION_REQUIRED, code="required")
    if compensation not in Compensation.values:
        errors["compensation"] = ValidationError(
            _("Unknown compensation %(value)s."), params={"value": repr(compensation)}
        )
    elif compensation in (Compensation.COUPON, Compensation.REFUND) and not (
        compensation_reference.strip()
    ):
        errors["compensation_reference"] = ValidationError(COMPENSATION_NEEDS_REFERENCE)
    elif compensation == Compensation.POINTS and not compensation_points:
        errors["compensation_points"] = ValidationError(COMPENSATION_NEEDS_POINTS)
    if errors:
        raise ValidationError(errors)
    ticket = _locked(ticket)
    if ticket.status in DONE_STATUSES:
        raise ValidationError(TICKET_DONE, code="done")
    now = resolved_at or timezone.now()
    ticket.status = TicketStatus.RESOLVED
    ticket.resolved_at = now
    if ticket.first_responded_at is None:
        ticket.first_responded_at = now
    if ticket.owner_id is None:
        ticket.owner = by
    ticket.resolution = resolution.strip()
    ticket.compensation = compensation
    ticket.compensation_reference = compensation_reference.strip()
    ticket.compensation_points = (
        compensation_points if compensation == Compensation.POINTS else None
    )
    ticket.full_clean(validate_constraints=False)
    ticket.save()
    TicketMessage.objects.create(
        ticket=ticket, kind=MessageKind.NOTE, text=ticket.resolution, author=by, created_at=now
    )
    pk = ticket.pk
    transaction.on_commit(lambda: csat_invite_after_resolution(ticket_id=pk))
    return ticket


@transaction.atomic
def ticket_close(*, ticket: Ticket, by: Any) -> Ticket:
    """Close a resolved ticket (a ticket still open is resolved first: give a resolution).

    Raises
    ------
    django.core.exceptions.ValidationError
        ``by`` may not work on tickets, or the ticket is not resolved.
    """
    _check_actor(by)
    ticket = _locked(ticket)
    if ticket.status != TicketStatus.RESOLVED:
        raise ValidationError(_("Resolve the ticket before closing it."), code="not_resolved")
    ticket.status = TicketStatus.CLOSED
    ticket.closed_at = timezone.now()
    ticket.save(update_fields=["status", "closed_at", "updated_at"])
    return ticket


@transaction.atomic
def ticket_reopen(*, ticket: Ticket, by: Any | None, text: str = "") -> Ticket:
    """Reopen a resolved or closed ticket (the customer came back about it): it counts as
    reopened; a complaint raises the churn warning again.

    Raises
    ------
    django.core.exceptions.ValidationError
        The ticket is not resolved or closed, or ``by`` may not work on tickets.
    """
    from patron.service.churn import complaint_opened

    if by is not None:
        _check_actor(by)
    ticket = _locked(ticket)
    if ticket.status not in DONE_STATUSES:
        raise ValidationError(TICKET_NOT_DONE, code="not_done")
    ticket.status = TicketStatus.REOPENED
    ticket.reopen_count += 1
    ticket.resolved_at = None
    ticket.closed_at = None
    ticket.recovered_on = None
    ticket.save()
    if text.strip():
        TicketMessage.objects.create(
            ticket=ticket, kind=MessageKind.CUSTOMER, text=text.strip(), created_at=timezone.now()
        )
    if ticket.kind == TicketKind.COMPLAINT:
        complaint_opened(ticket)
    return ticket


@transaction.atomic
def category_create(*, code: str, name_en: str, name_zh: str) -> TicketCategory:
    """Add a ticket category, named in both languages.

    Raises
    ------
    django.core.exceptions.ValidationError
        The code is taken or not a slug, or a name is missing.
    """
    category = TicketCategory(code=code.strip(), name_en=name_en.strip(), name_zh=name_zh.strip())
    category.full_clean()
    category.save()
    return category


DEFAULT_CATEGORIES = (
    ("delivery", "Delivery", "物流配送"),
    ("product", "Product quality", "商品质量"),
    ("price", "Price and billing", "价格与账单"),
    ("staff", "Staff and service", "员工服务"),
    ("returns", "Returns and refunds", "退换货"),
    ("membership", "Membership and points", "会员与积分"),
    ("other", "Other", "其他"),
)


def categories_ensure() -> int:
    """Create the default categories that are missing; returns how many were added."""
    added = 0
    for code, en, zh in DEFAULT_CATEGORIES:
        _, created = TicketCategory.objects.get_or_create(
            code=code, defaults={"name_en": en, "name_zh": zh}
        )
        added += int(created)
    return added
