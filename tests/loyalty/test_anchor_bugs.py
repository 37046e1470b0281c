"""One test per bug other loyalty engines shipped, each run twice: against Patron's services
(it passes) and against a small naive implementation of the bug it describes (it must fail),
so the test is shown able to catch the bug.

- double confirm: Odoo #222372, OCA/pos #185 (points credited twice when a confirm is re-sent)
- bulk overdraw: Odoo #249775 (a bulk confirm of several rewards overdraws the card)
- refund not reversed: Odoo #257854
- oldest-lot spending: Open Loyalty #79 (oldest-earned lots spent instead of soonest-expiring)
- return-linked overspend: Open Loyalty #131 (a spend linked to a return skips the balance check)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from patron.loyalty import services
from patron.loyalty.errors import LoyaltyError
from patron.loyalty.models import LedgerEntry, Reward
from patron.sales.models import Order

pytestmark = pytest.mark.django_db

TODAY = dt.date(2024, 6, 1)


class Refused(Exception):
    pass


class Patron:
    """The real services behind a small till-like interface."""

    def __init__(
        self, member: Any, send_orders: Callable[..., Any], move_order: Callable[..., Any]
    ) -> None:
        self.member, self.send, self.move = member, send_orders, move_order

    def balance(self, today: dt.date = TODAY) -> int:
        return services.balance_of(member_id=self.member.pk, today=today).available

    def grant(
        self,
        points: int,
        key: str,
        expires_on: dt.date | None = None,
        earned_on: dt.date | None = None,
    ) -> None:
        entry = services.points_grant(
            customer_id=self.member.customer_id, points=points, reason="r", source=key
        )
        LedgerEntry.objects.filter(pk=entry.pk).update(
            expires_on=expires_on, effective_on=earned_on or TODAY
        )

    def order(
        self, oid: str, amount: str, status: str = "completed", original: str | None = None
    ) -> None:
        self.send(
            (oid, "C1", amount, status, original) if original else (oid, "C1", amount, status)
        )

    def refund(self, oid: str) -> None:
        self.move(oid, "refunded")

    def hold_and_commit_twice(self, points: int) -> None:
        hold, _ = services.hold_create(
            member=self.member, points=points, idempotency_key="h", today=TODAY
        )
        services.hold_commit(hold_id=hold.pk, today=TODAY)
        services.hold_commit(hold_id=hold.pk, today=TODAY)

    def redeem(
        self,
        points: int = 0,
        key: str = "k",
        rewards: list[tuple[int, int]] | None = None,
        order: str = "",
    ) -> None:
        lines = [services.RewardLine(r, q) for r, q in rewards or []]
        try:
            services.points_redeem(
                member=self.member,
                idempotency_key=key,
                points=points or None,
                rewards=lines,
                order_ref=order,
                today=TODAY,
            )
        except LoyaltyError as error:
            raise Refused(error.message) from None

    def expire(self, today: dt.date) -> None:
        services.points_expire(today=today)

    def reward(self, cost: int) -> int:
        return Reward.objects.create(
            code=f"r{cost}", name_en="R", name_zh="礼", points_cost=cost
        ).pk


class Naive:
    """A balance column and a list of lots, with one of the bugs switched on."""

    def __init__(self, bug: str) -> None:
        self.bug, self.lots, self.orders, self.spent_on = bug, [], {}, {}
        self.counter = 0

    def balance(self, today: dt.date = TODAY) -> int:
        return sum(lot["left"] for lot in self.lots)

    def _take(self, points: int, oldest: bool = False) -> None:
        key = (
            (lambda lot: lot["earned"])
            if oldest
            else (lambda lot: (lot["expires"] or dt.date.max, lot["earned"]))
        )
        for lot in sorted(self.lots, key=key):
            take = min(lot["left"], points)
            lot["left"] -= take
            points -= take

    def grant(
        self,
        points: int,
        key: str,
        expires_on: dt.date | None = None,
        earned_on: dt.date | None = None,
    ) -> None:
        self.lots.append(
            {"left": points, "expires": expires_on, "earned": earned_on or TODAY, "key": key}
        )

    def order(
        self, oid: str, amount: str, status: str = "completed", original: str | None = None
    ) -> None:
        value = int(float(amount))
        if original is not None:
            earned = self.orders[original]
            self.orders[oid] = value
            self._take(min(-value * earned // 100, self.balance()))
            return
        if oid in self.orders and self.bug != "double_confirm":
            return
        self.orders[oid] = value
        self.grant(value, oid)

    def refund(self, oid: str) -> None:
        if self.bug == "refund_not_reversed":
            return
        self._take(min(self.orders[oid], self.balance()))

    def hold_and_commit_twice(self, points: int) -> None:
        for _ in range(2 if self.bug == "double_confirm" else 1):
            self._take(points)

    def redeem(
        self,
        points: int = 0,
        key: str = "k",
        rewards: list[tuple[int, int]] | None = None,
        order: str = "",
    ) -> None:
        costs = [points] if points else []
        costs += [cost * q for cost, q in rewards or []]
        linked_to_return = order and any(k.startswith("R") for k in self.orders)
        if self.bug == "return_linked" and linked_to_return:
            pass  # the bug: a spend linked to a return skips the check
        elif self.bug == "bulk_overdraw":
            if any(c > self.balance() for c in costs):  # each checked alone, not the total
                raise Refused("short")
        elif sum(costs) > self.balance():
            raise Refused("short")
        for c in costs:
            self._take(c, oldest=self.bug == "oldest_lot")

    def expire(self, today: dt.date) -> None:
        for lot in self.lots:
            if lot["expires"] is not None and lot["expires"] < today:
                lot["left"] = 0

    def reward(self, cost: int) -> int:
        return cost


def _naive_take_allows_negative(self: Naive, points: int, oldest: bool = False) -> None:
    """Naive spends take what they are asked, even past zero (the last lot goes negative)."""
    key = (
        (lambda lot: lot["earned"])
        if oldest
        else (lambda lot: (lot["expires"] or dt.date.max, lot["earned"]))
    )
    lots = sorted(self.lots, key=key)
    for lot in lots:
        take = min(lot["left"], points)
        lot["left"] -= take
        points -= take
    if points and lots:
        lots[-1]["left"] -= points


Naive._take = _naive_take_allows_negative  # type: ignore[method-assign]


@pytest.fixture
def patron(member_of: Any, send_orders: Any, move_order: Any) -> Patron:
    return Patron(member_of("C1"), send_orders, move_order)


# -- the scenarios: each asserts what a trustworthy ledger does ------------------------------


def double_confirm(system: Any) -> None:
    system.order("A1", "100")
    system.order("A1", "100")  # the confirm sent again
    assert system.balance() == 100
    system.hold_and_commit_twice(40)
    assert system.balance() == 60


def bulk_overdraw(system: Any) -> None:
    system.grant(100, "g")
    a, b = system.reward(60), system.reward(70)
    with pytest.raises(Refused):
        system.redeem(key="bulk", rewards=[(a, 1), (b, 1)])
    assert system.balance() == 100


def refund_not_reversed(system: Any) -> None:
    system.order("A1", "100")
    system.refund("A1")
    assert system.balance() == 0


def oldest_lot_spending(system: Any) -> None:
    system.grant(100, "old", expires_on=dt.date(2025, 12, 31), earned_on=dt.date(2024, 1, 1))
    system.grant(100, "new", expires_on=dt.date(2024, 6, 30), earned_on=dt.date(2024, 5, 1))
    system.redeem(100, key="spend")
    system.expire(dt.date(2024, 7, 1))  # the soon lot's last day has passed
    assert system.balance(dt.date(2024, 7, 1)) == 100  # nothing was lost to expiry


def return_linked_overspend(system: Any) -> None:
    system.order("A1", "100")
    system.order("R1", "-50", "returned", "A1")
    assert system.balance() == 50
    with pytest.raises(Refused):
        system.redeem(80, key="linked", order="A1")
    assert system.balance() == 50


SCENARIOS = {
    "double_confirm": double_confirm,
    "bulk_overdraw": bulk_overdraw,
    "refund_not_reversed": refund_not_reversed,
    "oldest_lot": oldest_lot_spending,
    "return_linked": return_linked_overspend,
}


@pytest.mark.parametrize("bug", sorted(SCENARIOS))
def test_patron_does_not_have_the_bug(bug: str, patron: Patron) -> None:
    SCENARIOS[bug](patron)


@pytest.mark.parametrize("bug", sorted(SCENARIOS))
def test_the_naive_implementation_fails_the_same_test(bug: str) -> None:
    with pytest.raises((AssertionError, pytest.fail.Exception)):
        SCENARIOS[bug](Naive(bug))


@pytest.mark.parametrize("bug", sorted(SCENARIOS))
def test_the_naive_model_without_its_bug_passes(bug: str) -> None:
    """The naive model with the bug switched off passes: the failure above is the bug's."""
    SCENARIOS[bug](Naive("none"))


def test_refund_restores_points_spent_on_the_order(patron: Patron) -> None:
    patron.grant(50, "g")
    patron.order("A1", "100")  # earns 100
    patron.redeem(30, key="pay", order="A1")  # 30 points paid part of A1
    assert patron.balance() == 120
    patron.refund("A1")  # earned 100 back, spent 30 restored
    assert patron.balance() == 50
    assert Order.objects.get(external_id="A1").status == "refunded"
