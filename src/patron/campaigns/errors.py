"""Errors of segments and campaigns, each with a stable code."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from patron.core.errors import PatronError


class CampaignErrorCode(StrEnum):
    INVALID_RULES = "campaigns.invalid_rules"
    INVALID_CAMPAIGN = "campaigns.invalid_campaign"
    NOT_FOUND = "campaigns.not_found"
    NOT_DRAFT = "campaigns.not_draft"
    SAMPLE_RATIO = "campaigns.sample_ratio_mismatch"
    COUPON_UNKNOWN = "campaigns.coupon_unknown"
    COUPON_USED = "campaigns.coupon_used"
    ORDER_UNKNOWN = "campaigns.order_unknown"
    BAD_LINK = "campaigns.bad_link"


class CampaignError(PatronError):
    """A segment or campaign request that cannot go ahead; ``message`` says why."""

    default_code = "campaigns.error"

    def __init__(self, message: str, *, code: CampaignErrorCode, extra: Any = None) -> None:
        super().__init__(message, code=code, extra=extra)
