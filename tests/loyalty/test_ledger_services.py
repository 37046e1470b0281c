"""The ledger through the services: orders earn once, statuses move points, returns and
refunds reverse, spends take soonest-expiring lots, expiry never claws back."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Sum

from patron.loyalty import services
from patron.loyalty.errors import LoyaltyError, LoyaltyErrorCode
from patron.loyalty.models import EntryKind, LedgerEntry, LotUse


def balance(member, today=None) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    b = services.balance_of(member_id=member.pk, today=today)
    return b.available, b.pending


pytestmark = pytest.mark.django_db


def test_open_then_completed_then_resent_earns_once(member_of, send_orders, move_order) -> None:
    # given a member and an open order
    m = member_of("C1")
    send_orders(("A1", "C1", "120.50", "completed"))
    from patron.loyalty.models import LedgerEntry as E

    E.objects.all().delete()  # the order arrives open: as a platform export writes it
    move_order("A1", "open")
    assert balance(m) == (0, 120)
    # when it completes, and is re-sent twice
    move_order("A1", "completed")
    send_orders(("A1", "C1", "120.50", "completed"))
    # then 120 points are spendable, nothing pending, one earn lot
    assert balance(m) == (120, 0)
    assert LedgerEntry.objects.filter(kind=EntryKind.EARN, is_lot=True).count() == 1


def test_cancelled_open_order_voids_pending(member_of, send_orders, move_order) -> None:
    m = member_of("C1")
    send_orders(("A1", "C1", "50", "cancelled"))
    move_order("A1", "open")
    assert balance(m) == (0, 50)
    move_order("A1", "cancelled")
    assert balance(m) == (0, 0)


def test_partial_return_reverses_in_proportion_once(member_of, send_orders) -> None:
    m = member_of("C1")
    send_orders(("A1", "C1", "100", "completed"))
    send_orders(("R1", "C1", "-25", "returned", "A1"))
    send_orders(("R1", "C1", "-25", "returned", "A1"))  # re-sent
    assert balance(m) == (75, 0)
    send_orders(("R2", "C1", "-75", "returned", "A1"))
    assert balance(m) == (0, 0)


def test_spend_takes_soonest_expiring_lot_and_expiry_keeps_spent(member_of) -> None:
    m = member_of("C1")
    programme = services.programme_get()
    late = services.points_grant(customer_id=m.customer_id, points=100, reason="a", source="late")
    LedgerEntry.objects.filter(pk=late.pk).update(expires_on=dt.date(2030, 1, 1))
    soon = services.points_grant(customer_id=m.customer_id, points=100, reason="b", source="soon")
    LedgerEntry.objects.filter(pk=soon.pk).update(expires_on=dt.date(2025, 1, 1))
    assert programme.pk
    today = dt.date(2024, 6, 1)
    services.points_redeem(member=m, idempotency_key="k1", points=60, today=today)
    used = dict(LotUse.objects.values_list("lot_id").annotate(s=Sum("points")))
    assert used == {soon.pk: 60}
    # expiry of the soon lot takes only its 40 left
    assert services.points_expire(today=dt.date(2025, 1, 2)) == 40
    assert balance(m, dt.date(2025, 1, 2)) == (100, 0)


def test_grant_is_idempotent_by_source_and_none_for_non_members(member_of) -> None:
    from patron.customers.models import Customer

    m = member_of("C1")
    first = services.points_grant(
        customer_id=m.customer_id, points=10, reason="sorry", source="t:1"
    )
    again = services.points_grant(
        customer_id=m.customer_id, points=10, reason="sorry", source="t:1"
    )
    assert first.pk == again.pk and balance(m) == (10, 0)
    other = Customer.objects.create(external_id="X")
    assert services.points_grant(customer_id=other.pk, points=5, reason="r", source="t:2") is None


def test_redeem_short_balance_writes_nothing(member_of) -> None:
    m = member_of("C1")
    services.points_grant(customer_id=m.customer_id, points=10, reason="r", source="g")
    with pytest.raises(LoyaltyError) as caught:
        services.points_redeem(member=m, idempotency_key="k", points=11)
    assert caught.value.code == LoyaltyErrorCode.INSUFFICIENT
    assert caught.value.http_status == 409
    assert LedgerEntry.objects.filter(kind=EntryKind.SPEND).count() == 0
