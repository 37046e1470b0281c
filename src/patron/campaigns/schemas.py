"""API shapes (fixed by issue 18: outside tests call them)."""

from __future__ import annotations

from typing import Any

from ninja import Schema


class SegmentIn(Schema):
    name: str
    rules: Any


class SegmentCountIn(Schema):
    rules: Any


class SegmentOut(Schema):
    id: int
    count: int


class CountOut(Schema):
    count: int


class CampaignIn(Schema):
    name: str
    segment_id: int
    channel: str
    subject: str = ""
    body_text: str = ""
    body_html: str = ""
    control_share: float = 0.1
    attribution_days: int = 14


class CampaignCreated(Schema):
    id: int


class LaunchOut(Schema):
    id: int
    status: str


class CampaignStatusOut(Schema):
    status: str
    targeted: int
    sent: int
    held_out: int
    skipped: dict[str, int]
    failed: int


class RedeemIn(Schema):
    order_id: str
    source: str = "default"


class RedeemOut(Schema):
    code: str
    campaign_id: int
    customer_id: str
    redeemed_at: Any
