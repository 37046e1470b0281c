"""/api/v1/loyalty: enrolment, balances, accruals, redemptions, holds, statements, reward
codes, as tills and shop systems call them (token auth). Shapes are fixed by issue #17."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Status

from patron.accounts.permissions import api_auth
from patron.loyalty import selectors, services
from patron.loyalty.models import Hold
from patron.loyalty.schemas import (
    AccrualIn,
    AccrualOut,
    HoldIn,
    HoldOut,
    MemberDetailOut,
    MemberIn,
    MemberOut,
    RedemptionIn,
    RedemptionOut,
    RewardCodeOut,
    StatementOut,
)

router = Router(tags=["loyalty"])
READ = api_auth("accounts.view_loyalty")
WRITE = api_auth("accounts.manage_loyalty")


def _hold_out(hold: Hold) -> dict[str, object]:
    balance = services.balance_of(member_id=hold.member_id).available
    return {
        "hold_id": hold.pk,
        "status": hold.status,
        "points": hold.points,
        "expires_at": hold.expires_at,
        "points_balance": balance,
        "redemption_id": hold.redemption_id,
    }


@router.post("/members", response={201: MemberOut}, auth=WRITE)
def member_create(request: HttpRequest, payload: MemberIn):  # type: ignore[no-untyped-def]
    member = services.member_enrol(**payload.dict())
    return Status(201, selectors.member_figures(member=member))


@router.get("/members/{card_number}", response=MemberDetailOut, auth=READ)
def member_get(request: HttpRequest, card_number: str):  # type: ignore[no-untyped-def]
    member = services.member_refresh(member=selectors.member_by_card(card_number=card_number))
    return {
        **selectors.member_figures(member=member),
        "expiring": selectors.member_expiring(member=member),
    }


@router.get("/members/{card_number}/statement", response=StatementOut, auth=READ)
def member_statement(request: HttpRequest, card_number: str):  # type: ignore[no-untyped-def]
    member = selectors.member_by_card(card_number=card_number)
    figures = selectors.member_figures(member=member)
    return {**figures, "entries": selectors.member_statement(member=member)}


@router.post("/accruals", response={200: AccrualOut, 201: AccrualOut}, auth=WRITE)
def accrual_create(request: HttpRequest, payload: AccrualIn):  # type: ignore[no-untyped-def]
    member, programme = selectors.member_and_programme_by_card(card_number=payload.card_number)
    accrual = services.accrual_make(
        member=member, order_id=payload.order_id, amount=payload.amount, programme=programme
    )
    body = {
        **selectors.member_figures(member=member, balance=accrual.balance),
        "order_id": str(payload.order_id),
        "points": accrual.entry.points if accrual.entry else 0,
        "created": accrual.created,
    }
    return Status(201 if accrual.created else 200, body)


@router.post("/redemptions", response={201: RedemptionOut}, auth=WRITE)
def redemption_create(request: HttpRequest, payload: RedemptionIn):  # type: ignore[no-untyped-def]
    lines = [services.RewardLine(r.reward_id, r.quantity) for r in payload.rewards]
    if payload.reward_id is not None:
        lines.insert(0, services.RewardLine(payload.reward_id, payload.quantity))
    redemption, _created = services.points_redeem_by_card(
        card_number=payload.card_number,
        idempotency_key=payload.idempotency_key,
        points=payload.points,
        rewards=lines,
        order_ref=payload.order_id,
    )
    return Status(201, redemption.response)


@router.post("/holds", response={201: HoldOut}, auth=WRITE)
def hold_create(request: HttpRequest, payload: HoldIn):  # type: ignore[no-untyped-def]
    member = selectors.member_by_card(card_number=payload.card_number)
    hold, _created = services.hold_create(
        member=member,
        points=payload.points,
        idempotency_key=payload.idempotency_key,
        minutes=payload.minutes,
        order_ref=payload.order_id,
    )
    return Status(201, _hold_out(hold))


@router.post("/holds/{hold_id}/commit", response=HoldOut, auth=WRITE)
def hold_commit(request: HttpRequest, hold_id: int):  # type: ignore[no-untyped-def]
    hold, _created = services.hold_commit(hold_id=hold_id)
    return _hold_out(hold)


@router.post("/holds/{hold_id}/void", response=HoldOut, auth=WRITE)
def hold_void(request: HttpRequest, hold_id: int):  # type: ignore[no-untyped-def]
    hold, _created = services.hold_void(hold_id=hold_id)
    return _hold_out(hold)


def _code_out(found) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {
        "code": found.code,
        "reward_id": found.item.reward_id,
        "reward": found.item.reward.name_en,
        "card_number": found.item.redemption.member.card_number,
        "used_at": found.used_at,
    }


@router.get("/codes/{code}", response=RewardCodeOut, auth=READ)
def reward_code_get(request: HttpRequest, code: str):  # type: ignore[no-untyped-def]
    return _code_out(services.reward_code_get(code=code))


@router.post("/codes/{code}", response=RewardCodeOut, auth=WRITE)
def reward_code_use(request: HttpRequest, code: str):  # type: ignore[no-untyped-def]
    return _code_out(services.reward_code_use(code=code))
