"""The member API's shapes (fixed: apps and mini-programs outside the team call them).
Inputs are loosely typed: the services check each value and name the field."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema

from patron.loyalty.schemas import ExpiringOut, RedemptionOut, StatementOut

__all__ = ["ExpiringOut", "RedemptionOut", "StatementOut"]


class CodeIn(Schema):
    email: str = Field(..., max_length=254, description="Any address: the answer is always 202.")


class CodeOut(Schema):
    message: str


class SessionIn(Schema):
    email: str = Field(..., max_length=254)
    code: str = Field(..., max_length=12, description="The 6 digits of the mailed code.")


class SessionOut(Schema):
    token: str
    expires_at: dt.datetime


class NextTierOut(Schema):
    code: str
    name: str | None
    missing: float = Field(..., description="Spend or points still needed in the window.")
    basis: str = Field(..., description="spend or points")
    percent: int
    window_months: int = Field(..., description="The rolling qualifying window.")
    by: dt.date | None = Field(
        ...,
        description="The last day on which gathering `missing` reaches the tier: the next "
        "day the oldest counted spend or points leave the rolling window (null without one).",
    )


class MeOut(Schema):
    card_number: str
    tier: str | None
    points_balance: int
    points_pending: int
    expiring: list[ExpiringOut]
    next_tier: NextTierOut | None


class RewardOut(Schema):
    reward_id: int
    code: str
    name: str
    points_cost: int
    in_stock: bool
    can_redeem: bool


class MemberCodeOut(Schema):
    code: str
    reward: str
    redeemed_at: dt.datetime
    used_at: dt.datetime | None


class RewardsOut(Schema):
    points_balance: int
    rewards: list[RewardOut]
    codes: list[MemberCodeOut]


class RedemptionMeIn(Schema):
    reward_id: Any = None
    idempotency_key: Any = None


class PreferencesIn(Schema):
    language: str | None = None
    notifications: dict[str, Any] | None = Field(None, description="topic -> true/false")
    answers: dict[str, Any] | None = Field(None, description="Questionnaire answers by key.")


class PreferencesOut(Schema):
    language: str
    notifications: dict[str, bool]
    answers: dict[str, Any]


class ConsentsIn(Schema):
    channels: dict[str, Any] | None = Field(None, description="email, sms, phone, wechat")
    topics: dict[str, Any] | None = Field(None, description="marketing topic -> true/false")


class ConsentsOut(Schema):
    channels: dict[str, bool]
    topics: dict[str, bool]
