"""Loyalty's errors: one code per failure, the field it concerns, and the HTTP status."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from django.utils.translation import gettext_lazy as _

from patron.core.errors import PatronError


class LoyaltyErrorCode(StrEnum):
    CARD_INVALID = "loyalty.card_invalid"
    CARD_UNKNOWN = "loyalty.card_unknown"
    CUSTOMER_UNKNOWN = "loyalty.customer_unknown"
    ALREADY_MEMBER = "loyalty.already_member"
    REFERRAL_UNKNOWN = "loyalty.referral_unknown"
    POINTS_INVALID = "loyalty.points_invalid"
    AMOUNT_INVALID = "loyalty.amount_invalid"
    KEY_INVALID = "loyalty.key_invalid"
    INSUFFICIENT = "loyalty.insufficient_points"
    KEY_REUSED = "loyalty.key_reused"
    REWARD_UNKNOWN = "loyalty.reward_unknown"
    REWARD_OUT_OF_STOCK = "loyalty.reward_out_of_stock"
    REWARD_NOT_VALID = "loyalty.reward_not_valid"
    REWARD_TIER = "loyalty.reward_tier"
    REWARD_LIMIT = "loyalty.reward_limit"
    HOLD_UNKNOWN = "loyalty.hold_unknown"
    HOLD_EXPIRED = "loyalty.hold_expired"
    HOLD_CLOSED = "loyalty.hold_closed"
    CODE_UNKNOWN = "loyalty.code_unknown"
    CODE_USED = "loyalty.code_used"
    REASON_REQUIRED = "loyalty.reason_required"
    ANSWER_INVALID = "loyalty.answer_invalid"
    SEGMENT_INVALID = "loyalty.segment_invalid"


HTTP_STATUS = {
    LoyaltyErrorCode.CARD_UNKNOWN: 404,
    LoyaltyErrorCode.CUSTOMER_UNKNOWN: 404,
    LoyaltyErrorCode.REWARD_UNKNOWN: 404,
    LoyaltyErrorCode.HOLD_UNKNOWN: 404,
    LoyaltyErrorCode.CODE_UNKNOWN: 404,
    LoyaltyErrorCode.ALREADY_MEMBER: 409,
    LoyaltyErrorCode.INSUFFICIENT: 409,
    LoyaltyErrorCode.KEY_REUSED: 409,
    LoyaltyErrorCode.REWARD_OUT_OF_STOCK: 409,
    LoyaltyErrorCode.REWARD_LIMIT: 409,
    LoyaltyErrorCode.HOLD_EXPIRED: 409,
    LoyaltyErrorCode.HOLD_CLOSED: 409,
    LoyaltyErrorCode.CODE_USED: 409,
}

# Messages as constants (tests import them); translated when raised.
CARD_INVALID = _("Card number {value!r} is not valid: expected digits with a correct check digit.")
CARD_UNKNOWN = _("No member has card number {value}.")
CUSTOMER_UNKNOWN = _("No customer has id {value!r}.")
ALREADY_MEMBER = _("Customer {value} is already a member (card {card}).")
REFERRAL_UNKNOWN = _("No member has referral code {value!r}.")
POINTS_INVALID = _("Points must be a whole number above zero, not {value!r}.")
ADJUST_POINTS_INVALID = _("Points must be a whole number other than zero, not {value!r}.")
AMOUNT_INVALID = _(
    "Amount must be a number of at least zero with at most two decimals, not {value!r}."
)
KEY_INVALID = _("An idempotency key of 1 to 100 characters is required.")
INSUFFICIENT = _("Not enough points: {needed} asked, {balance} available.")
KEY_REUSED = _("This idempotency key was used for another request.")
REWARD_UNKNOWN = _("No active reward has id {value}.")
REWARD_OUT_OF_STOCK = _("Reward {value} is out of stock.")
REWARD_NOT_VALID = _("Reward {value} cannot be redeemed today (valid {start} to {end}).")
REWARD_TIER = _("Reward {value} is for members of tier {tier} and above.")
REWARD_LIMIT = _("Reward {value} can be redeemed at most {limit} times per member.")
HOLD_UNKNOWN = _("No hold has id {value}.")
HOLD_EXPIRED = _("Hold {value} has expired; its points are released.")
HOLD_CLOSED = _("Hold {value} is {status}; it can no longer change.")
CODE_UNKNOWN = _("No reward code {value!r}.")
CODE_USED = _("Reward code {value} was already used on {used_at}.")
REASON_REQUIRED = _("A reason is required.")
ANSWER_INVALID = _("Answer to {value!r} is not valid: {expected}.")
SEGMENT_INVALID = _(
    "Segment {value!r} is not understood: expected tier:<codes> or segment:<codes> "
    "of the latest analysis run, e.g. tier:very_high,high."
)


class LoyaltyError(PatronError):
    """A loyalty request that cannot go ahead; ``field`` names the input at fault.

    Nothing is written when it is raised (every service is one transaction).
    """

    default_code = "loyalty.error"

    def __init__(
        self,
        template: Any,
        *,
        code: LoyaltyErrorCode,
        field: str = "",
        extra: dict[str, Any] | None = None,
        **values: Any,
    ) -> None:
        message = str(template).format(**values) if values else str(template)
        super().__init__(message, code=code, extra={"field": field, **(extra or {})})
        self.field = field
        self.http_status = HTTP_STATUS.get(code, 400)
