"""The loyalty API's shapes. Inputs are loosely typed on purpose: the services check every
value and name the field in English or Chinese (``errors``), rather than a generic 422."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema


class MemberIn(Schema):
    customer_id: Any = Field(..., description="The customer's id in Patron (external id).")
    referral_code: str | None = None
    id_document_type: str = ""
    id_document_number: str = Field("", description="Stored masked: only the last 4 are kept.")
    answers: dict[str, Any] = Field(default_factory=dict, description="Questionnaire answers.")


class MemberOut(Schema):
    card_number: str
    customer_id: str
    tier: str | None
    points_balance: int
    points_pending: int


class ExpiringOut(Schema):
    points: int
    expires_on: dt.date


class MemberDetailOut(MemberOut):
    expiring: list[ExpiringOut]


class AccrualIn(Schema):
    card_number: Any
    order_id: Any
    amount: Any


class AccrualOut(Schema):
    card_number: str
    order_id: str
    points: int
    created: bool
    points_balance: int
    points_pending: int


class RewardLineIn(Schema):
    reward_id: Any
    quantity: Any = 1


class RedemptionIn(Schema):
    card_number: Any
    idempotency_key: Any = None
    points: Any = None
    reward_id: Any = None
    quantity: Any = 1
    rewards: list[RewardLineIn] = Field(default_factory=list, description="Several rewards.")
    order_id: str = Field("", description="The order the points pay for (a return restores them).")


class RedemptionOut(Schema):
    redemption_id: int
    points_balance: int
    codes: list[str] = []


class HoldIn(Schema):
    card_number: Any
    points: Any
    idempotency_key: Any = None
    minutes: int | None = Field(None, ge=1, le=1440)
    order_id: str = ""


class HoldOut(Schema):
    hold_id: int
    status: str
    points: int
    expires_at: dt.datetime
    points_balance: int
    redemption_id: int | None = None


class StatementLineOut(Schema):
    date: dt.date
    kind: str
    points: int
    pending: bool
    reason: str
    source: str
    expires_on: dt.date | None
    balance: int


class StatementOut(Schema):
    card_number: str
    points_balance: int
    points_pending: int
    entries: list[StatementLineOut]


class RewardCodeOut(Schema):
    code: str
    reward_id: int
    reward: str
    card_number: str
    used_at: dt.datetime | None
