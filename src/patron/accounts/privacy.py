"""The least data each role needs: phone numbers masked for roles that do not call customers."""

from __future__ import annotations

from typing import Any

FULL_PHONE_PERMISSION = "accounts.see_full_phone"


def phone_mask(phone: str) -> str:
    """'13812345678' -> '138****5678'; short numbers keep only their last two digits."""
    if not phone:
        return ""
    if len(phone) >= 11:
        return f"{phone[:3]}****{phone[-4:]}"
    if len(phone) > 4:
        return "*" * (len(phone) - 2) + phone[-2:]
    return "*" * len(phone)


def phone_for(*, user: Any, phone: str) -> str:
    """The phone number as ``user`` may see it."""
    return phone if user.has_perm(FULL_PHONE_PERMISSION) else phone_mask(phone)
