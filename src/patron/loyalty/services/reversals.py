"""Returns and refunds take back the points an order earned (in proportion to the amount
returned, exactly once per return or refund) and restore points spent on it; never below
zero: what cannot be recovered is said in the entry's reason."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_FLOOR, Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from patron.loyalty.models import (
    EntryKind,
    LedgerEntry,
    Member,
    Redemption,
)
from patron.loyalty.services.earning import order_key
from patron.loyalty.services.ledger import (
    balance_of,
    entry_insert,
    entry_take,
    expiry_for,
    member_lock,
    member_settle,
    programme_get,
)
from patron.sales.models import Order


def _earned_and_returned(original: Order, member: Member) -> tuple[int, int, Decimal]:
    """(points the order earned, points spent on it, amount returned so far by processed
    returns)."""
    earned = (
        LedgerEntry.objects.filter(
            kind=EntryKind.EARN, source=order_key(original.customer_id, original.external_id)
        )
        .values_list("points", flat=True)
        .first()
        or 0
    )
    spent = Redemption.objects.filter(member=member, order_ref=original.external_id).aggregate(
        s=Sum("points", default=0)
    )["s"]
    processed = [
        e.order_id
        for e in LedgerEntry.objects.filter(
            kind=EntryKind.REVERSE, source__startswith="return:", order__original_order=original
        ).only("order_id")
    ]
    returned = -(
        Order.objects.filter(pk__in=processed).aggregate(s=Sum("amount", default=0))["s"]
        or Decimal(0)
    )
    return int(earned), int(spent), Decimal(returned)


def _share(total: int, part: Decimal, whole: Decimal) -> int:
    """floor(total × part / whole), with part capped at whole."""
    if whole <= 0 or total <= 0:
        return 0
    part = min(max(part, Decimal(0)), whole)
    return int((Decimal(total) * part / whole).to_integral_value(rounding=ROUND_FLOOR))


def _reverse(
    *,
    member: Member,
    original: Order,
    order: Order,
    key: str,
    earn_back: int,
    restore: int,
    label: str,
    today: dt.date,
) -> int:
    """Restore spent points (a new lot), then take back earned points (never below zero)."""
    programme = programme_get()
    if restore > 0:
        entry_insert(
            member=member,
            kind=EntryKind.REVERSE,
            points=restore,
            is_lot=True,
            source=f"restore:{key}",
            reason=f"points spent on {original.external_id} restored ({label})",
            order_id=order.pk,
            effective_on=today,
            expires_on=expiry_for(programme, today),
        )
    available = balance_of(member_id=member.pk, today=today).available
    taken = min(earn_back, available)
    reason = f"{label} of {original.external_id}"
    if taken < earn_back:
        reason += f": {earn_back - taken} points already spent, not recovered"
    own_lot = (
        LedgerEntry.objects.filter(
            kind=EntryKind.EARN, source=order_key(original.customer_id, original.external_id)
        )
        .values_list("pk", flat=True)
        .first()
    )
    source = f"{label}:{key}"
    if taken > 0:
        entry = entry_take(
            member=member,
            kind=EntryKind.REVERSE,
            points=taken,
            source=source,
            reason=reason,
            today=today,
            order_id=order.pk,
            prefer_lot_id=own_lot,
        )
        return 0 if entry is None else 1
    entry = entry_insert(
        member=member,
        kind=EntryKind.REVERSE,
        points=0,
        source=source,
        reason=reason,
        order_id=order.pk,
        effective_on=today,
    )
    return 0 if entry is None else 1


@transaction.atomic
def order_refund_points(*, order: Order, today: dt.date | None = None) -> int:
    """A refunded (or cancelled after earning) order: reverse what is left of its earned
    points and restore what is left of the points spent on it. Once (``refund:`` source)."""
    today = today or timezone.localdate()
    member = Member.objects.filter(customer_id=order.customer_id).first()
    if member is None:
        return 0
    member = member_lock(member_id=member.pk)
    member_settle(member=member, today=today)
    earned, spent, returned = _earned_and_returned(order, member)
    whole = order.amount
    earn_back = earned - _share(earned, returned, whole)
    restore = spent - _share(spent, returned, whole)
    key = f"{order.customer_id}:{order.external_id}"
    return _reverse(
        member=member,
        original=order,
        order=order,
        key=key,
        earn_back=earn_back,
        restore=restore,
        label="refund",
        today=today,
    )


@transaction.atomic
def order_return_points(*, ret: Order, today: dt.date | None = None) -> int:
    """A return pointing to its original: reverse the original's earned points and restore
    spent ones, in proportion to the amount returned (cumulative, so rounding never adds up
    to more than the order earned). Once per return (``return:`` source)."""
    today = today or timezone.localdate()
    original = ret.original_order
    if original is None:
        return 0
    member = Member.objects.filter(customer_id=original.customer_id).first()
    if member is None:
        return 0
    member = member_lock(member_id=member.pk)
    member_settle(member=member, today=today)
    earned, spent, before = _earned_and_returned(original, member)
    refunded = LedgerEntry.objects.filter(
        kind=EntryKind.REVERSE, source=f"refund:{original.customer_id}:{original.external_id}"
    ).exists()
    after = before + (-ret.amount)
    whole = original.amount
    earn_back = 0 if refunded else _share(earned, after, whole) - _share(earned, before, whole)
    restore = 0 if refunded else _share(spent, after, whole) - _share(spent, before, whole)
    key = f"{ret.customer_id}:{ret.external_id}"
    return _reverse(
        member=member,
        original=original,
        order=ret,
        key=key,
        earn_back=earn_back,
        restore=restore,
        label="return",
        today=today,
    )
