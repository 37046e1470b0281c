"""A till without an order feed: ``POST /accruals`` earns points for an order id now, under the
same source key as the importer's (``order:<customer pk>:<order id>``), so an order sent by
both earns once. The hot path of a busy till: without a cap, one statement writes the entry
and reads the balance."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from patron.loyalty import errors
from patron.loyalty.errors import LoyaltyError, LoyaltyErrorCode
from patron.loyalty.models import EntryKind, LedgerEntry, Member, Programme
from patron.loyalty.services.caps import cap_room
from patron.loyalty.services.earning import order_key, points_for
from patron.loyalty.services.ledger import (
    Balance,
    available_from,
    balance_of,
    entry_insert_with_balance,
    expiry_for,
    member_lock,
    programme_get,
)


def amount_check(value: object) -> Decimal:
    try:
        amount = Decimal(str(value))
    except Exception:
        amount = None
    if (
        amount is None
        or not amount.is_finite()
        or amount < 0
        or amount != amount.quantize(Decimal("0.01"))
        or isinstance(value, bool)
    ):
        raise LoyaltyError(
            errors.AMOUNT_INVALID, code=LoyaltyErrorCode.AMOUNT_INVALID, field="amount", value=value
        )
    return amount


@dataclass(frozen=True)
class Accrual:
    """A till's accrual: the order's earn entry (None: it earned nothing), whether this
    request wrote it, and the member's balance after it."""

    entry: LedgerEntry | None
    created: bool
    balance: Balance


def points_accrue(
    *,
    member: Member,
    order_id: str,
    amount: object,
    today: dt.date | None = None,
    programme: Programme | None = None,
) -> tuple[LedgerEntry | None, bool]:
    """A till without an order feed: earn points for ``order_id`` now. Idempotent by the
    order id (the same key as the importer's): returns (entry, created)."""
    accrual = accrual_make(
        member=member, order_id=order_id, amount=amount, today=today, programme=programme
    )
    return accrual.entry, accrual.created


def accrual_make(
    *,
    member: Member,
    order_id: str,
    amount: object,
    today: dt.date | None = None,
    programme: Programme | None = None,
) -> Accrual:
    """:func:`points_accrue` with the balance after it, for the till's answer.

    Without a cap, one statement writes and reads the balance (``INSERT ... ON CONFLICT DO
    NOTHING`` in a CTE on PostgreSQL), so no transaction of its own is needed. With a cap,
    the room left is read and used under the member's lock. A retry answers what the order
    first earned."""
    value = amount_check(amount)
    order_id = str(order_id or "").strip()
    if not order_id or len(order_id) > 64:
        raise LoyaltyError(errors.KEY_INVALID, code=LoyaltyErrorCode.KEY_INVALID, field="order_id")
    today = today or timezone.localdate()
    programme = programme or programme_get()
    key = order_key(member.customer_id, order_id)
    tier_multiplier = member.tier.multiplier if member.tier_id else Decimal(1)  # type: ignore[union-attr]
    points = points_for(
        programme=programme, amount=value, tier_multiplier=tier_multiplier, weekday=today.weekday()
    )
    if programme.cap_points is None:
        accrual = _accrual_insert(programme, member, key, order_id, points, today)
    else:
        with transaction.atomic():
            member_lock(member_id=member.pk)
            first = LedgerEntry.objects.filter(kind=EntryKind.EARN, source=key).first()
            if first is not None:  # a retry: the first answer, not a second measure of room
                return Accrual(first, False, balance_of(member_id=member.pk, today=today))
            room = cap_room(programme=programme, member_id=member.pk, day=today) or 0
            accrual = _accrual_insert(programme, member, key, order_id, min(points, room), today)
    if accrual.created and programme.tiers_enabled:
        from patron.loyalty.services.tiers import tiers_reevaluate

        tiers_reevaluate(today=today, upgrade_only=True, customer_ids=[member.customer_id])
    return accrual


def _accrual_insert(
    programme: Programme, member: Member, key: str, order_id: str, points: int, today: dt.date
) -> Accrual:
    """The accrual's one write; no entry for 0 points (nothing earned, or the cap reached)."""
    if points > 0:
        entry, balance = entry_insert_with_balance(
            today=today,
            member_id=member.pk,
            kind=EntryKind.EARN,
            points=points,
            is_lot=True,
            source=key,
            reason=f"till order {order_id}",
            effective_on=today,
            available_on=available_from(programme, today),
            expires_on=expiry_for(programme, today),
        )
        if entry is not None:
            return Accrual(entry, True, balance)
    # nothing to write, or a request with the same order id was first: its entry
    first = LedgerEntry.objects.filter(kind=EntryKind.EARN, source=key).first()
    return Accrual(first, False, balance_of(member_id=member.pk, today=today))
