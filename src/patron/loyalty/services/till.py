"""A till's redemption of points by card number, the API's hot path: on PostgreSQL the
member's lookup, lock and settle check are one statement, and the balance check, the spend
entry, its lots and the redemption with its answer are one more; everything else (rewards,
SQLite) takes :func:`points_redeem`, with the same rules and answers.

Idempotency: the spend's source ``redeem:<key>`` and the redemption's key are unique
indexes; a repeat of a key finds the first redemption and answers it (same body) or 409.
"""

from __future__ import annotations

import datetime as dt
import json

from django.db import connection, transaction
from django.utils import timezone

from patron.core.raw_models import RawModel
from patron.loyalty import errors
from patron.loyalty.cards import card_valid
from patron.loyalty.errors import LoyaltyError, LoyaltyErrorCode
from patron.loyalty.models import EntryKind, Hold, HoldStatus, LedgerEntry, Member, Redemption
from patron.loyalty.services.ledger import member_settle, points_check
from patron.loyalty.services.redemptions import (
    RewardLine,
    _hash,
    _key_check,
    points_redeem,
)
from patron.loyalty.services.spends import (
    _SPEND_CTES,
    insufficient,
    spend_params,
    spent_check,
)

_MEMBERS = RawModel(Member, "m")

_REDEEM_SQL = (
    _SPEND_CTES
    + """,
rid AS (SELECT nextval(pg_get_serial_sequence('loyalty_redemption', 'id')) AS id),
red AS (
    INSERT INTO loyalty_redemption
        (id, member_id, idempotency_key, request_hash, points, order_ref, response, created_at)
    SELECT rid.id, %s, %s, %s, %s, %s,
           jsonb_build_object('redemption_id', rid.id, 'points_balance', bal.available - %s,
                              'codes', '[]'::jsonb),
           %s
    FROM rid, bal, new
    ON CONFLICT (idempotency_key) DO NOTHING RETURNING id, response
)
SELECT (SELECT id FROM new), (SELECT available FROM bal),
       (SELECT COALESCE(SUM(points), 0) FROM uses), (SELECT id FROM red),
       (SELECT response FROM red)"""
)


def _card(card_number: object) -> str:
    number = str(card_number or "").strip()
    if not card_valid(number):
        raise LoyaltyError(
            errors.CARD_INVALID,
            code=LoyaltyErrorCode.CARD_INVALID,
            field="card_number",
            value=card_number,
        )
    return number


def member_lock_by_card(*, number: str, today: dt.date, now: dt.datetime) -> Member:
    """The member with this card, its row locked until the transaction ends, settled when
    anything is due (see :func:`member_lock_settled`): one statement when nothing is."""
    lock = " FOR UPDATE OF m" if connection.features.has_select_for_update_of else ""
    moment = Hold._meta.get_field("expires_at").get_db_prep_value(now, connection)
    day = LedgerEntry._meta.get_field("effective_on").get_db_prep_value(today, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {_MEMBERS.columns()},"
            " EXISTS (SELECT 1 FROM loyalty_hold h WHERE h.member_id = m.id"
            " AND h.status = %s AND h.expires_at <= %s),"
            " EXISTS (SELECT 1 FROM loyalty_ledgerentry e WHERE e.member_id = m.id"
            " AND e.is_lot AND e.expires_on < %s)"
            f" FROM loyalty_member m WHERE m.card_number = %s{lock}",
            [HoldStatus.HELD, moment, day, number],
        )
        row = cursor.fetchone()
    member = None if row is None else _MEMBERS.build(row)
    if member is None:
        raise LoyaltyError(
            errors.CARD_UNKNOWN,
            code=LoyaltyErrorCode.CARD_UNKNOWN,
            field="card_number",
            value=number,
        )
    if row[-2] or row[-1]:
        member_settle(member=member, today=today, now=now)
    return member


def points_redeem_by_card(
    *,
    card_number: object,
    idempotency_key: object,
    points: object = None,
    rewards: list[RewardLine] | None = None,
    order_ref: str = "",
) -> tuple[Redemption, bool]:
    """:func:`points_redeem` for the member with this card (card errors first, as the
    API's lookup gives them). Points only, on PostgreSQL: the fast path."""
    number = _card(card_number)
    if rewards or connection.vendor != "postgresql":
        member = Member.objects.filter(card_number=number).first()
        if member is None:
            raise LoyaltyError(
                errors.CARD_UNKNOWN,
                code=LoyaltyErrorCode.CARD_UNKNOWN,
                field="card_number",
                value=number,
            )
        return points_redeem(
            member=member,
            idempotency_key=idempotency_key,
            points=points,
            rewards=rewards,
            order_ref=order_ref,
        )
    return _redeem_points(number=number, key=idempotency_key, points=points, order_ref=order_ref)


def _first_answer(key: str, digest: str) -> Redemption | None:
    first = Redemption.objects.filter(idempotency_key=key).first()
    if first is not None and first.request_hash != digest:
        raise LoyaltyError(
            errors.KEY_REUSED, code=LoyaltyErrorCode.KEY_REUSED, field="idempotency_key"
        )
    return first


@transaction.atomic
def _redeem_points(
    *, number: str, key: object, points: object, order_ref: str
) -> tuple[Redemption, bool]:
    today = timezone.localdate()
    now = timezone.now()
    member = member_lock_by_card(number=number, today=today, now=now)
    key = _key_check(key)
    total = points_check(points)
    body = {"card": member.card_number, "points": total, "order": order_ref, "rewards": []}
    digest = _hash(body)
    _entry, params = spend_params(
        member=member,
        kind=EntryKind.SPEND,
        points=total,
        source=f"redeem:{key}",
        reason=f"redemption {key}" + (f" for order {order_ref}" if order_ref else ""),
        today=today,
    )
    created_at = Redemption._meta.get_field("created_at").get_db_prep_value(now, connection)
    params += [member.pk, key, digest, total, order_ref[:64], total, created_at]
    with connection.cursor() as cursor:
        cursor.execute(_REDEEM_SQL, params)
        new_id, available, taken, redemption_id, response = cursor.fetchone()
    available = int(available)
    if new_id is None:  # a repeat of the key, or the balance is short
        first = _first_answer(key, digest)
        if first is not None:
            return first, False
        raise insufficient(available=available, points=total)
    spent_check(member=member, points=total, taken=int(taken))
    if redemption_id is None:  # the key is another redemption's (a hold's commit)
        raise LoyaltyError(
            errors.KEY_REUSED, code=LoyaltyErrorCode.KEY_REUSED, field="idempotency_key"
        )
    redemption = Redemption(
        pk=redemption_id,
        member=member,
        idempotency_key=key,
        request_hash=digest,
        points=total,
        order_ref=order_ref[:64],
        response=json.loads(response) if isinstance(response, str) else response,
        created_at=now,
    )
    redemption._state.adding = False
    return redemption, True
