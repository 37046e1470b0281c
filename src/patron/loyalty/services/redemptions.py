"""Spending points: redemptions (points, rewards, or both), holds for tills, reward codes.

Every spend locks the member's row (``SELECT ... FOR UPDATE``), settles expired holds and
lots, checks the balance and writes, in one transaction: concurrent spends of one member
queue on the lock and none can overdraw. Idempotency keys are unique in the database; a
retried request with the same key and body gets the first answer, another body gets 409.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Sum
from django.utils import timezone

from patron.loyalty import errors
from patron.loyalty.errors import LoyaltyError, LoyaltyErrorCode
from patron.loyalty.models import (
    EntryKind,
    Hold,
    HoldStatus,
    Member,
    Redemption,
    RedemptionItem,
    Reward,
    RewardCode,
)
from patron.loyalty.services.ledger import (
    balance_of,
    entry_take,
    hold_release,
    member_lock,
    points_check,
    programme_get,
)
from patron.loyalty.services.spends import entry_spend, member_lock_settled


@dataclass(frozen=True)
class RewardLine:
    reward_id: int
    quantity: int = 1


def _key_check(key: object) -> str:
    if not isinstance(key, str) or not 1 <= len(key.strip()) <= 100:
        raise LoyaltyError(
            errors.KEY_INVALID, code=LoyaltyErrorCode.KEY_INVALID, field="idempotency_key"
        )
    return key.strip()


def _hash(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def _rewards_price(
    *, member: Member, lines: list[RewardLine], today: dt.date
) -> list[tuple[Reward, int, int]]:
    """Check each reward (dates, tier, per-member limit) and take its stock (a guarded
    UPDATE). Returns (reward, quantity, points)."""
    priced = []
    for line in lines:
        quantity = points_check(line.quantity, field="quantity")
        reward = (
            Reward.objects.filter(pk=line.reward_id, active=True).select_related("min_tier").first()
        )
        if reward is None:
            raise LoyaltyError(
                errors.REWARD_UNKNOWN,
                code=LoyaltyErrorCode.REWARD_UNKNOWN,
                field="reward_id",
                value=line.reward_id,
            )
        if (reward.valid_from and today < reward.valid_from) or (
            reward.valid_until and today > reward.valid_until
        ):
            raise LoyaltyError(
                errors.REWARD_NOT_VALID,
                code=LoyaltyErrorCode.REWARD_NOT_VALID,
                field="reward_id",
                value=reward.code,
                start=reward.valid_from or "…",
                end=reward.valid_until or "…",
            )
        if reward.min_tier is not None and (
            member.tier is None or member.tier.rank < reward.min_tier.rank
        ):
            raise LoyaltyError(
                errors.REWARD_TIER,
                code=LoyaltyErrorCode.REWARD_TIER,
                field="reward_id",
                value=reward.code,
                tier=reward.min_tier.name_en,
            )
        if reward.per_member_limit is not None:
            had = RedemptionItem.objects.filter(redemption__member=member, reward=reward).aggregate(
                q=Sum("quantity", default=0)
            )["q"]
            if had + quantity > reward.per_member_limit:
                raise LoyaltyError(
                    errors.REWARD_LIMIT,
                    code=LoyaltyErrorCode.REWARD_LIMIT,
                    field="reward_id",
                    value=reward.code,
                    limit=reward.per_member_limit,
                )
        if reward.stock is not None:
            took = Reward.objects.filter(pk=reward.pk, stock__gte=quantity).update(
                stock=F("stock") - quantity
            )
            if not took:
                raise LoyaltyError(
                    errors.REWARD_OUT_OF_STOCK,
                    code=LoyaltyErrorCode.REWARD_OUT_OF_STOCK,
                    field="reward_id",
                    value=reward.code,
                )
        priced.append((reward, quantity, reward.points_cost * quantity))
    return priced


def _claim_key(model: type, *, key: str, digest: str, **fields: Any) -> tuple[Any, bool]:
    """Insert the row that owns ``key``: (row, True); or the first request's row when the
    key is taken with the same body: (row, False); another body: 409. The unique index on
    the key decides (``INSERT ... ON CONFLICT DO NOTHING``, one round trip)."""
    row = model(idempotency_key=key, request_hash=digest, **fields)
    meta = model._meta  # type: ignore[attr-defined]
    columns = [f for f in meta.concrete_fields if not f.primary_key]
    values = [f.get_db_prep_save(getattr(row, f.attname), connection) for f in columns]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {meta.db_table} ({', '.join(f.column for f in columns)}) "
            f"VALUES ({', '.join(['%s'] * len(values))}) "
            "ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
            values,
        )
        inserted = cursor.fetchone()
    if inserted is not None:
        row.pk = inserted[0]
        row._state.adding = False
        return row, True
    first = model.objects.filter(idempotency_key=key).first()  # type: ignore[attr-defined]
    if first.request_hash != digest:
        raise LoyaltyError(
            errors.KEY_REUSED, code=LoyaltyErrorCode.KEY_REUSED, field="idempotency_key"
        )
    return first, False


@transaction.atomic
def points_redeem(
    *,
    member: Member,
    idempotency_key: object,
    points: object = None,
    rewards: list[RewardLine] | None = None,
    order_ref: str = "",
    today: dt.date | None = None,
) -> tuple[Redemption, bool]:
    """Spend points (``points``, rewards, or both: a partial payment and several rewards at
    once). Returns (redemption, created); a repeat of the same key and body returns the
    first redemption with created False.

    Raises
    ------
    LoyaltyError
        ``insufficient_points`` (409), ``key_reused`` (409), reward errors, invalid points.
    """
    key = _key_check(idempotency_key)
    rewards = rewards or []
    extra = 0 if points in (None, 0) and rewards else points_check(points)
    today = today or timezone.localdate()
    body = {
        "card": member.card_number,
        "points": extra,
        "order": order_ref,
        "rewards": sorted((r.reward_id, r.quantity) for r in rewards),
    }
    member_lock_settled(member=member, today=today)
    redemption, created = _claim_key(
        Redemption,
        key=key,
        digest=_hash(body),
        member=member,
        points=0,
        order_ref=order_ref[:64],
        created_at=timezone.now(),
    )
    if not created:
        return redemption, False
    if rewards:  # the tier as it is under the lock
        member = Member.objects.select_related("tier").get(pk=member.pk)
    priced = _rewards_price(member=member, lines=rewards, today=today)
    total = extra + sum(p for _r, _q, p in priced)
    _entry, before = entry_spend(
        member=member,
        kind=EntryKind.SPEND,
        points=total,
        source=f"redeem:{key}",
        reason=f"redemption {key}" + (f" for order {order_ref}" if order_ref else ""),
        today=today,
    )
    codes: list[str] = []
    for reward, quantity, cost in priced:
        item = RedemptionItem.objects.create(
            redemption=redemption, reward=reward, quantity=quantity, points=cost
        )
        made = [RewardCode(code=_reward_code(), item=item) for _ in range(quantity)]
        RewardCode.objects.bulk_create(made)
        codes += [c.code for c in made]
    redemption.points = total
    # the balance checked under the lock, less what was just taken: no second aggregate
    redemption.response = {
        "redemption_id": redemption.pk,
        "points_balance": before - total,
        "codes": codes,
    }
    redemption.save(update_fields=["points", "response"])
    return redemption, True


def _reward_code() -> str:
    return "R" + "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(11))


@transaction.atomic
def hold_create(
    *,
    member: Member,
    points: object,
    idempotency_key: object,
    minutes: int | None = None,
    order_ref: str = "",
    today: dt.date | None = None,
) -> tuple[Hold, bool]:
    """Reserve points for a till (taken from the lots at once); commit, void or let expire."""
    key = _key_check(idempotency_key)
    amount = points_check(points)
    today = today or timezone.localdate()
    now = timezone.now()
    minutes = minutes or programme_get().hold_minutes
    body = {"card": member.card_number, "points": amount, "order": order_ref, "minutes": minutes}
    member_lock_settled(member=member, today=today, now=now)
    hold, created = _claim_key(
        Hold,
        key=key,
        digest=_hash(body),
        member=member,
        points=amount,
        order_ref=order_ref[:64],
        expires_at=now + dt.timedelta(minutes=minutes),
        created_at=now,
    )
    if not created:
        return hold, False
    entry_spend(
        member=member,
        kind=EntryKind.HOLD,
        points=amount,
        source=f"hold:{hold.pk}",
        reason=f"hold {key}",
        today=today,
    )
    return hold, True


def _hold_locked(hold_id: object) -> Hold:
    hold = Hold.objects.filter(pk=hold_id if isinstance(hold_id, int) else -1).first()
    if hold is None:
        raise LoyaltyError(
            errors.HOLD_UNKNOWN, code=LoyaltyErrorCode.HOLD_UNKNOWN, field="hold_id", value=hold_id
        )
    member_lock(member_id=hold.member_id)
    hold.refresh_from_db()
    return hold


def hold_commit(*, hold_id: int, today: dt.date | None = None) -> tuple[Hold, bool]:
    """Spend a held amount. Committing twice answers the first commit (nothing more is
    spent); a voided hold cannot be committed (409), nor an expired one (409, after its
    points are given back, which is kept)."""
    hold, created = _hold_commit(hold_id=hold_id, today=today)
    if hold.status == HoldStatus.EXPIRED:
        raise LoyaltyError(
            errors.HOLD_EXPIRED, code=LoyaltyErrorCode.HOLD_EXPIRED, field="hold_id", value=hold.pk
        )
    return hold, created


@transaction.atomic
def _hold_commit(*, hold_id: int, today: dt.date | None = None) -> tuple[Hold, bool]:
    today = today or timezone.localdate()
    now = timezone.now()
    hold = _hold_locked(hold_id)
    if hold.status == HoldStatus.COMMITTED:
        return hold, False
    if hold.status == HoldStatus.HELD and hold.expires_at <= now:
        hold_release(hold=hold, status=HoldStatus.EXPIRED, today=today)
        hold.refresh_from_db()
    if hold.status == HoldStatus.EXPIRED:
        return hold, False
    won = Hold.objects.filter(pk=hold.pk, status=HoldStatus.HELD).update(
        status=HoldStatus.COMMITTED
    )
    if not won:
        raise LoyaltyError(
            errors.HOLD_CLOSED,
            code=LoyaltyErrorCode.HOLD_CLOSED,
            field="hold_id",
            value=hold.pk,
            status=hold.get_status_display(),
        )
    # The hold's points become a spend: the hold entry keeps its lots, the release and the
    # spend net to nothing in the lots (the release gives back, the spend takes again).
    from patron.loyalty.models import LedgerEntry
    from patron.loyalty.services.ledger import entry_give_back

    taken = LedgerEntry.objects.get(kind=EntryKind.HOLD, source=f"hold:{hold.pk}")
    entry_give_back(
        taken=taken,
        kind=EntryKind.HOLD,
        source=f"hold:{hold.pk}:release",
        reason="hold committed",
        today=today,
    )
    member = Member.objects.get(pk=hold.member_id)
    entry_take(
        member=member,
        kind=EntryKind.SPEND,
        points=hold.points,
        source=f"hold:{hold.pk}",
        reason=f"hold {hold.idempotency_key} committed",
        today=today,
    )
    redemption = Redemption.objects.create(
        member=member,
        idempotency_key=f"hold:{hold.pk}",
        request_hash="",
        points=hold.points,
        order_ref=hold.order_ref,
        created_at=now,
    )
    redemption.response = {
        "redemption_id": redemption.pk,
        "points_balance": balance_of(member_id=member.pk, today=today).available,
    }
    redemption.save(update_fields=["response"])
    Hold.objects.filter(pk=hold.pk).update(redemption=redemption)
    hold.refresh_from_db()
    return hold, True


@transaction.atomic
def hold_void(*, hold_id: int, today: dt.date | None = None) -> tuple[Hold, bool]:
    """Give a hold's points back. Voiding twice answers the first void."""
    today = today or timezone.localdate()
    hold = _hold_locked(hold_id)
    if hold.status == HoldStatus.VOIDED:
        return hold, False
    if not hold_release(hold=hold, status=HoldStatus.VOIDED, today=today):
        raise LoyaltyError(
            errors.HOLD_CLOSED,
            code=LoyaltyErrorCode.HOLD_CLOSED,
            field="hold_id",
            value=hold.pk,
            status=hold.get_status_display(),
        )
    hold.refresh_from_db()
    return hold, True


def reward_code_get(*, code: str) -> RewardCode:
    found = (
        RewardCode.objects.select_related("item__reward", "item__redemption__member")
        .filter(code=code)
        .first()
    )
    if found is None:
        raise LoyaltyError(
            errors.CODE_UNKNOWN, code=LoyaltyErrorCode.CODE_UNKNOWN, field="code", value=code
        )
    return found


@transaction.atomic
def reward_code_use(*, code: str) -> RewardCode:
    """Use a reward code once (a guarded UPDATE: of two tills, one wins)."""
    found = reward_code_get(code=code)
    used = RewardCode.objects.filter(pk=found.pk, used_at__isnull=True).update(
        used_at=timezone.now()
    )
    found.refresh_from_db()
    if not used:
        raise LoyaltyError(
            errors.CODE_USED,
            code=LoyaltyErrorCode.CODE_USED,
            field="code",
            value=code,
            used_at=found.used_at.isoformat() if found.used_at else "",
        )
    return found


__all__ = [
    "RewardLine",
    "hold_commit",
    "hold_create",
    "hold_void",
    "points_redeem",
    "reward_code_get",
    "reward_code_use",
]
