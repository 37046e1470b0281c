"""The points ledger: balances from the ledger, lots taken soonest-expiring first, grants,
adjustments and expiry. Every function that spends runs under the member's row lock
(``member_lock``) and checks the balance in the same transaction.
"""

from __future__ import annotations

import calendar
import datetime as dt
import uuid
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import F, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from patron.loyalty import errors
from patron.loyalty.errors import LoyaltyError, LoyaltyErrorCode
from patron.loyalty.models import (
    EntryKind,
    ExpiryMode,
    Hold,
    HoldStatus,
    LedgerEntry,
    LotUse,
    Member,
    Programme,
)


def programme_get() -> Programme:
    """The programme (created with the defaults by the first migration, or here)."""
    programme = Programme.objects.order_by("pk").first()
    if programme is None:
        programme = Programme.objects.create()
    return programme


def expiry_for(programme: Programme, earned_on: dt.date) -> dt.date | None:
    """The last day points earned on ``earned_on`` can be spent (None: they never expire)."""
    mode = programme.expiry_mode
    if mode == ExpiryMode.DAYS:
        return earned_on + dt.timedelta(days=programme.expiry_days)
    if mode == ExpiryMode.MONTH_END:
        last = calendar.monthrange(earned_on.year, earned_on.month)[1]
        return earned_on.replace(day=last)
    if mode == ExpiryMode.YEAR_END:
        return earned_on.replace(month=12, day=31)
    return None


def available_from(programme: Programme, earned_on: dt.date) -> dt.date | None:
    return earned_on + dt.timedelta(days=programme.pending_days) if programme.pending_days else None


@dataclass(frozen=True)
class Balance:
    available: int
    pending: int


_BALANCE_SUMS = """COALESCE(SUM(CASE WHEN NOT pending
                                   AND (available_on IS NULL OR available_on <= %s)
                                THEN points ELSE 0 END), 0),
              COALESCE(SUM(CASE WHEN pending OR available_on > %s THEN points ELSE 0 END), 0)
            FROM loyalty_ledgerentry WHERE member_id = %s"""


def balance_of(*, member_id: int, today: dt.date | None = None) -> Balance:
    """The member's points from the ledger: spendable now, and pending (open orders, or a
    pending period not yet over). One statement (the till's hot path)."""
    today = today or timezone.localdate()
    day = LedgerEntry._meta.get_field("effective_on").get_db_prep_value(today, connection)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {_BALANCE_SUMS}", [day, day, member_id])
        available, pending = cursor.fetchone()
    return Balance(int(available), int(pending))


def member_lock(*, member_id: int) -> Member:
    """The member's row, locked until the transaction ends: spends of one member queue here."""
    return Member.objects.select_for_update().get(pk=member_id)


def lots_open(*, member_id: int, today: dt.date) -> list[LedgerEntry]:
    """Lots with points left, soonest-expiring first (never-expiring last, then oldest)."""
    used = (
        LotUse.objects.filter(lot=OuterRef("pk"))
        .values("lot")
        .annotate(total=Sum("points"))
        .values("total")
    )
    return list(
        LedgerEntry.objects.filter(member_id=member_id, is_lot=True)
        .filter(Q(available_on__isnull=True) | Q(available_on__lte=today))
        .annotate(
            remaining=F("points") - Coalesce(Subquery(used, output_field=IntegerField()), Value(0))
        )
        .filter(remaining__gt=0)
        .order_by(F("expires_on").asc(nulls_last=True), "effective_on", "pk")
    )


_INSERT_FIELDS = (
    "member_id",
    "kind",
    "points",
    "pending",
    "is_lot",
    "source",
    "reason",
    "order_id",
    "effective_on",
    "available_on",
    "expires_on",
    "created_at",
    "created_by_id",
)


def _insert_values(fields: dict[str, object]) -> tuple[LedgerEntry, list[object]]:
    fields.setdefault("created_at", timezone.now())
    entry = LedgerEntry(**fields)
    values = [
        LedgerEntry._meta.get_field(
            name.removesuffix("_id") if name.endswith("_id") else name
        ).get_db_prep_save(getattr(entry, name), connection)
        for name in _INSERT_FIELDS
    ]
    return entry, values


_INSERT_SQL = (
    f"INSERT INTO loyalty_ledgerentry ({', '.join(_INSERT_FIELDS)}) "
    f"VALUES ({', '.join(['%s'] * len(_INSERT_FIELDS))}) "
    "ON CONFLICT (kind, source) DO NOTHING RETURNING id"
)


def entry_insert(**fields: object) -> LedgerEntry | None:
    """Insert one entry; None when its (kind, source) is in the ledger already.

    The unique index decides, not a read before the write: of two concurrent inserts of the
    same source exactly one is kept (``INSERT ... ON CONFLICT DO NOTHING``, one round trip).
    """
    entry, values = _insert_values(fields)
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_SQL, values)
        row = cursor.fetchone()
    if row is None:
        return None
    entry.pk = row[0]
    entry._state.adding = False
    return entry


def entry_insert_with_balance(
    *, today: dt.date, **fields: object
) -> tuple[LedgerEntry | None, Balance]:
    """:func:`entry_insert`, and the member's balance with the entry (if it was written)
    counted: on PostgreSQL one statement (the insert in a CTE; the sums read the ledger as
    it was before it, so the new entry is added to them here)."""
    if connection.vendor != "postgresql":
        entry = entry_insert(**fields)
        return entry, balance_of(member_id=int(fields["member_id"]), today=today)  # type: ignore[call-overload]
    entry, values = _insert_values(fields)
    day = LedgerEntry._meta.get_field("effective_on").get_db_prep_value(today, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH new AS ({_INSERT_SQL}) SELECT (SELECT id FROM new), {_BALANCE_SUMS}",
            [*values, day, day, entry.member_id],
        )
        new_id, available, pending = cursor.fetchone()
    balance = Balance(int(available), int(pending))
    if new_id is None:
        return None, balance
    entry.pk = new_id
    entry._state.adding = False
    if entry.pending or (entry.available_on is not None and entry.available_on > today):
        return entry, Balance(balance.available, balance.pending + entry.points)
    return entry, Balance(balance.available + entry.points, balance.pending)


def entry_take(
    *,
    member: Member,
    kind: str,
    points: int,
    source: str,
    reason: str,
    today: dt.date,
    order_id: int | None = None,
    prefer_lot_id: int | None = None,
    created_by: object | None = None,
) -> LedgerEntry | None:
    """Take ``points`` (> 0) from the member's lots as one negative entry.

    The caller holds the member's lock and has checked the balance. None when the source
    is in the ledger already (nothing is taken twice).
    """
    entry = entry_insert(
        member=member,
        kind=kind,
        points=-points,
        source=source,
        reason=reason[:200],
        order_id=order_id,
        effective_on=today,
        created_by=created_by,
    )
    if entry is None:
        return None
    lots = lots_open(member_id=member.pk, today=today)
    if prefer_lot_id is not None:
        lots.sort(key=lambda lot: lot.pk != prefer_lot_id)  # stable: the rest keep their order
    uses, need = [], points
    for lot in lots:
        if need == 0:
            break
        take = min(lot.remaining, need)  # type: ignore[attr-defined]
        uses.append(LotUse(entry=entry, lot=lot, points=take))
        need -= take
    if need:
        # The balance was checked under the lock and equals the lots' remainder.
        raise RuntimeError(f"ledger of member {member.pk} is short of {need} points in its lots")
    LotUse.objects.bulk_create(uses)
    return entry


def entry_give_back(
    *, taken: LedgerEntry, kind: str, source: str, reason: str, today: dt.date
) -> LedgerEntry | None:
    """Undo ``taken`` (a hold): a positive entry returning its points to the lots they came
    from."""
    entry = entry_insert(
        member_id=taken.member_id,
        kind=kind,
        points=-taken.points,
        source=source,
        reason=reason,
        order_id=taken.order_id,
        effective_on=today,
    )
    if entry is None:
        return None
    LotUse.objects.bulk_create(
        [LotUse(entry=entry, lot_id=use.lot_id, points=-use.points) for use in taken.uses.all()]
    )
    return entry


def points_check(value: object, *, field: str = "points", allow_negative: bool = False) -> int:
    """A whole number of points (above zero; or any but zero with ``allow_negative``)."""
    ok = isinstance(value, int) and not isinstance(value, bool)
    if not ok and isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value, ok = int(value.strip()), True
    if ok and isinstance(value, int) and (value > 0 or (allow_negative and value != 0)):
        return value
    template = errors.ADJUST_POINTS_INVALID if allow_negative else errors.POINTS_INVALID
    raise LoyaltyError(template, code=LoyaltyErrorCode.POINTS_INVALID, field=field, value=value)


def balance_require(
    *, member: Member, points: int, today: dt.date, field: str = "points"
) -> Balance:
    balance = balance_of(member_id=member.pk, today=today)
    if balance.available < points:
        raise LoyaltyError(
            errors.INSUFFICIENT,
            code=LoyaltyErrorCode.INSUFFICIENT,
            field=field,
            extra={"points_balance": balance.available},
            needed=points,
            balance=balance.available,
        )
    return balance


def member_settle(*, member: Member, today: dt.date, now: dt.datetime | None = None) -> None:
    """Under the member's lock: release holds past their time and expire lots past their
    last day. Expiry takes only what is left of a lot: spent points are never clawed back."""
    now = now or timezone.now()
    for hold in Hold.objects.filter(member=member, status=HoldStatus.HELD, expires_at__lte=now):
        hold_release(hold=hold, status=HoldStatus.EXPIRED, today=today)
    for lot in lots_open(member_id=member.pk, today=today):
        if lot.expires_on is not None and lot.expires_on < today:
            entry = entry_insert(
                member=member,
                kind=EntryKind.EXPIRE,
                points=-lot.remaining,  # type: ignore[attr-defined]
                source=f"expire:{lot.pk}:{today.isoformat()}",
                reason="expired",
                effective_on=lot.expires_on + dt.timedelta(days=1),
            )
            if entry is not None:
                LotUse.objects.create(entry=entry, lot=lot, points=lot.remaining)  # type: ignore[attr-defined]


def hold_release(*, hold: Hold, status: str, today: dt.date) -> bool:
    """Close a held hold (guarded: only one caller wins) and give its points back."""
    won = Hold.objects.filter(pk=hold.pk, status=HoldStatus.HELD).update(status=status)
    if not won:
        return False
    taken = LedgerEntry.objects.get(kind=EntryKind.HOLD, source=f"hold:{hold.pk}")
    entry_give_back(
        taken=taken,
        kind=EntryKind.HOLD,
        source=f"hold:{hold.pk}:release",
        reason=f"hold {status}",
        today=today,
    )
    return True


@transaction.atomic
def member_refresh(*, member: Member, today: dt.date | None = None) -> Member:
    """Settle the member now (holds past their time released, lots past their last day
    expired) so what is shown is what can be spent. Cheap when there is nothing to do."""
    today = today or timezone.localdate()
    now = timezone.now()
    due = Hold.objects.filter(member=member, status=HoldStatus.HELD, expires_at__lte=now).exists()
    due = (
        due or LedgerEntry.objects.filter(member=member, is_lot=True, expires_on__lt=today).exists()
    )
    if due:
        member_settle(member=member_lock(member_id=member.pk), today=today, now=now)
    return member


@transaction.atomic
def points_expire(*, today: dt.date | None = None) -> int:
    """Expire what is left of lots past their last day, and release holds past their time,
    for every member that has any. Returns the points expired."""
    today = today or timezone.localdate()
    now = timezone.now()
    due = set(
        LedgerEntry.objects.filter(is_lot=True, expires_on__lt=today).values_list(
            "member_id", flat=True
        )
    ) | set(
        Hold.objects.filter(status=HoldStatus.HELD, expires_at__lte=now).values_list(
            "member_id", flat=True
        )
    )
    before = -int(
        LedgerEntry.objects.filter(kind=EntryKind.EXPIRE).aggregate(s=Sum("points", default=0))["s"]
    )
    for member_id in sorted(due):  # in pk order, as every lock taker should
        member_settle(member=member_lock(member_id=member_id), today=today, now=now)
    after = -int(
        LedgerEntry.objects.filter(kind=EntryKind.EXPIRE).aggregate(s=Sum("points", default=0))["s"]
    )
    return after - before


@transaction.atomic
def points_grant(*, customer_id: int, points: int, reason: str, source: str) -> LedgerEntry | None:
    """Grant bonus points to the customer's membership: the interface campaigns (points
    offers) and service (compensation) call.

    Parameters: ``customer_id`` the customer's primary key; ``points`` a whole number above
    zero; ``reason`` shown on the statement; ``source`` the caller's idempotency key, e.g.
    ``"campaign:12:customer:345"``.

    Returns the ledger entry, or None when the customer is not a member. Idempotent by
    ``source``: the same source string never grants twice (the unique index on
    (kind, source) decides); a repeat returns the first grant's entry. The points are a lot
    that expires as the programme says, counted from today.

    Raises
    ------
    LoyaltyError
        ``loyalty.points_invalid`` (field ``points``), ``loyalty.reason_required``.
    """
    points = points_check(points)
    if not reason or not reason.strip():
        raise LoyaltyError(
            errors.REASON_REQUIRED, code=LoyaltyErrorCode.REASON_REQUIRED, field="reason"
        )
    member = Member.objects.filter(customer_id=customer_id).first()
    if member is None:
        return None
    today = timezone.localdate()
    programme = programme_get()
    key = f"grant:{source}"
    entry = entry_insert(
        member=member,
        kind=EntryKind.EARN,
        points=points,
        is_lot=True,
        source=key,
        reason=reason.strip()[:200],
        effective_on=today,
        available_on=available_from(programme, today),
        expires_on=expiry_for(programme, today),
    )
    return entry or LedgerEntry.objects.get(kind=EntryKind.EARN, source=key)


@transaction.atomic
def points_adjust(
    *,
    member: Member,
    points: int,
    reason: str,
    user: object | None = None,
    today: dt.date | None = None,
) -> LedgerEntry:
    """A manual adjustment (staff): positive adds a lot, negative takes from the lots (never
    below zero). Needs a reason; written to the audit log with who made it.

    Raises
    ------
    LoyaltyError
        ``loyalty.points_invalid``, ``loyalty.reason_required``, ``loyalty.insufficient_points``.
    """
    points = points_check(points, allow_negative=True)
    if not reason or not reason.strip():
        raise LoyaltyError(
            errors.REASON_REQUIRED, code=LoyaltyErrorCode.REASON_REQUIRED, field="reason"
        )
    today = today or timezone.localdate()
    member = member_lock(member_id=member.pk)
    member_settle(member=member, today=today)
    source = f"adjust:{uuid.uuid4().hex}"
    reason = reason.strip()[:200]
    creator = user if getattr(user, "pk", None) else None
    before = balance_of(member_id=member.pk, today=today).available
    if points > 0:
        programme = programme_get()
        entry = entry_insert(
            member=member,
            kind=EntryKind.ADJUST,
            points=points,
            is_lot=True,
            source=source,
            reason=reason,
            effective_on=today,
            expires_on=expiry_for(programme, today),
            created_by=creator,
        )
    else:
        balance_require(member=member, points=-points, today=today)
        entry = entry_take(
            member=member,
            kind=EntryKind.ADJUST,
            points=-points,
            source=source,
            reason=reason,
            today=today,
            created_by=creator,
        )
    assert entry is not None  # a fresh uuid cannot be in the ledger
    _audit_adjustment(member=member, entry=entry, before=before, user=creator)
    return entry


def _audit_adjustment(
    *, member: Member, entry: LedgerEntry, before: int, user: object | None
) -> None:
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    LogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(Member),
        object_pk=str(member.pk),
        object_id=member.pk,
        object_repr=str(member)[:200],
        action=LogEntry.Action.UPDATE,
        changes={"points balance": [str(before), str(before + entry.points)]},
        additional_data={"reason": entry.reason, "points": entry.points, "source": entry.source},
        actor=user if user is not None else None,
    )
