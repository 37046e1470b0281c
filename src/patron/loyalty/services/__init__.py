"""Loyalty's writes. Import from here: ``from patron.loyalty import services``.

The interface other apps code against:

``points_grant(*, customer_id: int, points: int, reason: str, source: str) -> LedgerEntry | None``
    grants bonus points to the customer's membership (None if the customer is not a
    member), idempotent by ``source`` (enforced by the ledger's unique index).
"""

from patron.loyalty.services.accruals import Accrual, accrual_make, points_accrue
from patron.loyalty.services.ledger import (
    balance_of,
    member_refresh,
    member_settle,
    points_adjust,
    points_expire,
    points_grant,
    programme_get,
)
from patron.loyalty.services.members import member_enrol, members_enrol_segment
from patron.loyalty.services.orders import (
    order_points_sync,
    order_refund_points,
    order_return_points,
    points_for,
)
from patron.loyalty.services.redemptions import (
    RewardLine,
    hold_commit,
    hold_create,
    hold_void,
    points_redeem,
    reward_code_get,
    reward_code_use,
)
from patron.loyalty.services.tiers import tiers_reevaluate
from patron.loyalty.services.till import points_redeem_by_card


def points_watermark() -> int:
    """The highest order id now: what an import adds lies above it (see points_after_import)."""
    from django.db.models import Max

    from patron.sales.models import Order

    return int(Order.objects.aggregate(top=Max("pk"))["top"] or 0)


def points_after_import(*, source: str, since_id: int, changed: bool) -> None:
    """The importer's one call after it has written orders (file, platform export, API):
    points for the orders above ``since_id`` of ``source`` (set-based), and, when orders
    were updated (``changed``), status moves of the source's orders."""
    order_points_sync(source=source, since_id=since_id, changed=changed)


__all__ = [
    "Accrual",
    "RewardLine",
    "accrual_make",
    "balance_of",
    "hold_commit",
    "hold_create",
    "hold_void",
    "member_enrol",
    "member_refresh",
    "member_settle",
    "members_enrol_segment",
    "order_points_sync",
    "order_refund_points",
    "order_return_points",
    "points_accrue",
    "points_adjust",
    "points_after_import",
    "points_expire",
    "points_for",
    "points_grant",
    "points_redeem",
    "points_redeem_by_card",
    "points_watermark",
    "programme_get",
    "reward_code_get",
    "reward_code_use",
    "tiers_reevaluate",
]
