from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ninja import Schema

from patron.accounts.privacy import phone_for, phone_mask


class CustomerOut(Schema):
    external_id: str
    name: str
    phone: str
    email: str
    gender: str
    birth_date: date | None
    region: str
    city: str
    occupation: str
    acquisition_channel: str
    acquired_on: date | None
    acquisition_cost: Decimal | None
    company: str
    credit_rating: str
    credit_limit: Decimal | None
    tags: list[str]
    attributes: dict[str, object]
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_phone(obj: Any, context: dict[str, Any] | None) -> str:
        """Masked for a token whose user may not see full numbers, as on the web pages."""
        request = (context or {}).get("request")
        user = getattr(request, "user", None)
        if user is None or not getattr(user, "is_authenticated", False):
            return phone_mask(obj.phone)
        return phone_for(user=user, phone=obj.phone)


class CustomerIn(Schema):
    external_id: str
    name: str = ""
    phone: str = ""
    email: str = ""
    gender: str = "u"
    birth_date: date | None = None
    region: str = ""
    city: str = ""
    occupation: str = ""
    acquisition_channel: str = ""
    acquired_on: date | None = None
    acquisition_cost: Decimal | None = None
    company: str = ""
    credit_rating: str = ""
    credit_limit: Decimal | None = None
    tags: list[str] = []
    attributes: dict[str, object] = {}


class CustomerPatch(Schema):
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    gender: str | None = None
    birth_date: date | None = None
    region: str | None = None
    city: str | None = None
    occupation: str | None = None
    acquisition_channel: str | None = None
    company: str | None = None
    tags: list[str] | None = None
    attributes: dict[str, object] | None = None


class CustomerFilters(Schema):
    search: str | None = None
    region: str | None = None
    city: str | None = None
    acquisition_channel: str | None = None
    tag: str | None = None
    consent: str | None = None
